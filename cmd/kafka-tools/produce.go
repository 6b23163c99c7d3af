package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"

	"github.com/gregorkafka/gregor/kafka"
)

// maxLineBytes caps one input line: the brokers' default message.max.bytes
// is about 1 MiB.
const maxLineBytes = 1 << 20

var produceCommand = &command{
	name:    "produce",
	args:    "TOPIC",
	summary: "Send the lines of stdin to a topic, one message each",
	details: `Each line (without its line ending) becomes a message's value. With
--key-separator, the text before the first separator is the key; a line without
one has no key. Keyed messages go to the partition Kafka's Java client would
pick (murmur2 of the key), others round-robin, unless --partition names one.
Lines are sent in batches as they are read; the command ends at end of input.`,
	examples: []string{
		"produce orders < orders.txt",
		"printf 'k1:v1\\nk2:v2\\n' | kafka-tools produce orders --key-separator :",
		"produce orders --partition 3 --acks 1 < orders.txt",
	},
	minArgs: 1, maxArgs: 1,
	setup: func(fs *flag.FlagSet) action {
		var o produceOptions
		fs.StringVar(&o.keySep, "key-separator", "", "split each line into KEY<separator>VALUE")
		fs.IntVar(&o.partition, "partition", -1, "send every message to this partition")
		fs.StringVar(&o.acks, "acks", "all", "acknowledgement to wait for: all, 1 (the leader's) or 0 (none)")
		return func(ctx context.Context, e *env, args []string) (report, error) {
			return produceLines(ctx, e, args[0], o)
		}
	},
}

type produceOptions struct {
	keySep    string
	partition int
	acks      string
}

type produceReport struct {
	Topic      string           `json:"topic"`
	Messages   int              `json:"messages"`
	Partitions []producedCounts `json:"partitions"`
}

type producedCounts struct {
	Partition int32 `json:"partition"`
	Messages  int   `json:"messages"`
	// FirstOffset is the offset of the first message sent to the
	// partition; -1 with --acks 0, which gets no answer.
	FirstOffset int64 `json:"first_offset"`
}

func parseAcks(s string) (kafka.RequiredAcks, error) {
	switch s {
	case "all", "-1":
		return kafka.AcksAll, nil
	case "1":
		return kafka.AcksLeader, nil
	case "0":
		return kafka.AcksNone, nil
	}
	return 0, usagef("bad --acks %q: want all, 1 or 0", s)
}

// linePartitioner sends every message to a fixed partition when one is
// given, keyed messages where Kafka's Java client would (murmur2), and
// the others round-robin.
func linePartitioner(fixed int32) kafka.Partitioner {
	if fixed < 0 {
		return kafka.DefaultPartitioner()
	}
	return kafka.PartitionerFunc(func(*kafka.Message, int) (int32, error) { return fixed, nil })
}

func produceLines(ctx context.Context, e *env, topic string, o produceOptions) (report, error) {
	acks, err := parseAcks(o.acks)
	if err != nil {
		return nil, err
	}
	if o.partition < -1 {
		return nil, usagef("bad --partition %d", o.partition)
	}
	t, err := e.topic(ctx, topic)
	if err != nil {
		return nil, err
	}
	if o.partition >= 0 && t.Partition(int32(o.partition)) == nil {
		return nil, fmt.Errorf("topic %s has no partition %d (it has %d)", topic, o.partition, len(t.Partitions()))
	}
	p, err := t.Producer(kafka.ProducerConfig{
		Partitioner: linePartitioner(int32(o.partition)), RequiredAcks: acks, DeliveryReports: true,
	})
	if err != nil {
		return nil, err
	}
	tally := make(chan *deliveryTally, 1)
	go func() { tally <- countReports(p.Reports()) }()

	readErr := feedLines(ctx, p, e.stdin, o.keySep)
	// Stop sends what is held and waits for every report, within the
	// command's time.
	stopErr := p.Stop(ctx)
	tl := <-tally
	switch {
	case readErr != nil:
		return nil, readErr
	case tl.firstErr != nil:
		return nil, fmt.Errorf("%d of %d message(s) not delivered: %w", tl.failed, tl.failed+tl.total(), tl.firstErr)
	case stopErr != nil:
		return nil, stopErr
	}
	r := &produceReport{Topic: topic, Partitions: []producedCounts{}}
	for _, id := range sortedIDs(tl.parts) {
		r.Partitions = append(r.Partitions, *tl.parts[id])
		r.Messages += tl.parts[id].Messages
	}
	return r, nil
}

// feedLines produces every line of in.
func feedLines(ctx context.Context, p *kafka.Producer, in io.Reader, keySep string) error {
	r := bufio.NewReaderSize(in, 64<<10)
	for line := 1; ; line++ {
		text, err := readLine(r)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("input line %d: %w", line, err)
		}
		msg := kafka.Message{Value: text}
		if keySep != "" {
			if k, v, ok := bytes.Cut(text, []byte(keySep)); ok {
				msg.Key, msg.Value = k, v
			}
		}
		if err := p.Produce(ctx, msg); err != nil {
			return fmt.Errorf("input line %d: %w", line, err)
		}
	}
}

// deliveryTally counts delivery reports per partition.
type deliveryTally struct {
	parts    map[int32]*producedCounts
	failed   int
	firstErr error
}

func (d *deliveryTally) total() int {
	n := 0
	for _, c := range d.parts {
		n += c.Messages
	}
	return n
}

func countReports(reports <-chan kafka.DeliveryReport) *deliveryTally {
	d := &deliveryTally{parts: map[int32]*producedCounts{}}
	for r := range reports {
		if r.Err != nil {
			d.failed++
			if d.firstErr == nil {
				d.firstErr = r.Err
			}
			continue
		}
		c := d.parts[r.Message.Partition]
		if c == nil {
			// Reports of a partition arrive in production order.
			c = &producedCounts{Partition: r.Message.Partition, FirstOffset: r.Message.Offset}
			d.parts[r.Message.Partition] = c
		}
		c.Messages++
	}
	return d
}

// readLine returns the next line without its "\n" or "\r\n", or io.EOF.
// The returned bytes are the caller's.
func readLine(in *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, err := in.ReadSlice('\n')
		if len(line)+len(chunk) > maxLineBytes+2 {
			return nil, fmt.Errorf("longer than %d bytes", maxLineBytes)
		}
		line = append(line, chunk...)
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(line) > 0:
			return line, nil // a last line without a newline
		case err != nil:
			return nil, err
		}
		line = bytes.TrimSuffix(line[:len(line)-1], []byte{'\r'})
		return line, nil
	}
}

func (r *produceReport) writeText(w io.Writer) error {
	if _, err := fmt.Fprintf(w, "Produced %d message(s) to %s\n", r.Messages, r.Topic); err != nil {
		return err
	}
	if len(r.Partitions) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	t := newTable(w, "Partition", "Messages", "First Offset")
	for _, c := range r.Partitions {
		first := strconv.FormatInt(c.FirstOffset, 10)
		if c.FirstOffset < 0 {
			first = ""
		}
		t.row(c.Partition, c.Messages, first)
	}
	return t.flush()
}
