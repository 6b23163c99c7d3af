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
	"time"

	"github.com/gregorkafka/gregor/kafka"
	"github.com/gregorkafka/gregor/protocol"
)

const (
	// maxLineBytes caps one input line: the brokers' default
	// message.max.bytes is about 1 MiB.
	maxLineBytes = 1 << 20
	// flushBytes is how much input is buffered before it is sent.
	flushBytes = 512 << 10
	// produceAttempts bounds the sends of a batch whose leader moved.
	produceAttempts = 4
	produceBackoff  = 200 * time.Millisecond
)

var produceCommand = &command{
	name:    "produce",
	aliases: []string{"produce-lines"},
	args:    "TOPIC",
	summary: "Send the lines of stdin to a topic, one message per line",
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

func parseAcks(s string) (int16, error) {
	switch s {
	case "all", "-1":
		return -1, nil
	case "1":
		return 1, nil
	case "0":
		return 0, nil
	}
	return 0, usagef("bad --acks %q: want all, 1 or 0", s)
}

// pendingRecord is a line waiting to be sent.
type pendingRecord struct {
	key, value []byte
}

// lineProducer batches lines per partition and sends them with Produce
// requests to the partitions' leaders.
type lineProducer struct {
	cl      *kafka.Client
	topic   *kafka.Topic
	acks    int16
	pending map[int32][]pendingRecord
	size    int
	counts  map[int32]*producedCounts
	next    int32 // round-robin position
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
	p := &lineProducer{cl: e.client, topic: t, acks: acks,
		pending: map[int32][]pendingRecord{}, counts: map[int32]*producedCounts{}}

	in := bufio.NewReaderSize(e.stdin, 64<<10)
	for line := 1; ; line++ {
		text, err := readLine(in)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("input line %d: %w", line, err)
		}
		rec := pendingRecord{value: text}
		if o.keySep != "" {
			if k, v, ok := bytes.Cut(text, []byte(o.keySep)); ok {
				rec.key, rec.value = k, v
			}
		}
		part := int32(o.partition)
		if part < 0 {
			part = p.choose(rec.key)
		}
		p.pending[part] = append(p.pending[part], rec)
		p.size += len(rec.key) + len(rec.value)
		if p.size >= flushBytes {
			if err := p.flush(ctx); err != nil {
				return nil, err
			}
		}
	}
	if err := p.flush(ctx); err != nil {
		return nil, err
	}
	r := &produceReport{Topic: topic, Partitions: []producedCounts{}}
	for _, id := range sortedIDs(p.counts) {
		r.Partitions = append(r.Partitions, *p.counts[id])
		r.Messages += p.counts[id].Messages
	}
	return r, nil
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

// choose picks a partition as Kafka's Java client does: murmur2 of the
// key, and round-robin for messages without one.
func (p *lineProducer) choose(key []byte) int32 {
	n := int32(len(p.topic.Partitions()))
	if key != nil {
		return int32(murmur2(key)&0x7fffffff) % n
	}
	id := p.next % n
	p.next++
	return id
}

// flush sends every pending record: one request per leader, one batch per
// partition. Partitions whose leader moved are sent again after a
// metadata refresh.
func (p *lineProducer) flush(ctx context.Context) error {
	for attempt := 1; len(p.pending) > 0; attempt++ {
		if attempt > 1 {
			if err := sleepCtx(ctx, produceBackoff); err != nil {
				return err
			}
			if err := p.cl.Update(ctx); err != nil {
				return err
			}
		}
		byLeader := map[*kafka.Broker][]int32{}
		for _, id := range sortedIDs(p.pending) {
			if b := p.topic.Partition(id).Leader(); b != nil {
				byLeader[b] = append(byLeader[b], id)
			}
		}
		var retry []error
		for b, parts := range byLeader {
			errs, err := p.send(ctx, b, parts)
			if err != nil {
				return err
			}
			retry = append(retry, errs...)
		}
		if len(p.pending) > 0 && attempt == produceAttempts {
			if len(retry) == 0 {
				retry = append(retry, kafka.ErrNoLeader)
			}
			return fmt.Errorf("producing to %s: %w", p.topic.Name(), errors.Join(retry...))
		}
	}
	p.size = 0
	return nil
}

// send produces the pending records of parts to leader. Partitions that
// succeed leave p.pending; those refused with a retriable error stay, and
// their errors are returned; any other refusal is the error.
func (p *lineProducer) send(ctx context.Context, leader *kafka.Broker, parts []int32) ([]error, error) {
	req := protocol.NewProduceRequest()
	req.Acks = p.acks
	req.TimeoutMs = 30000
	if dl, ok := ctx.Deadline(); ok {
		req.TimeoutMs = int32(max(min(time.Until(dl), 30*time.Second), time.Millisecond) / time.Millisecond)
	}
	rt := protocol.ProduceRequestTopic{Name: p.topic.Name()}
	now := time.Now().UnixMilli()
	for _, id := range parts {
		recs := p.pending[id]
		batch := protocol.RecordBatch{
			PartitionLeaderEpoch: -1, Magic: protocol.RecordBatchMagic,
			ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1,
			Records: make([]protocol.Record, len(recs)),
		}
		for i, r := range recs {
			batch.Records[i] = protocol.Record{Offset: int64(i), Timestamp: now, Key: r.key, Value: r.value}
		}
		data, err := protocol.AppendRecordBatch(nil, &batch, protocol.CompressionNone)
		if err != nil {
			return nil, err
		}
		rt.PartitionData = append(rt.PartitionData, protocol.ProduceRequestPartition{Index: id, Records: data})
	}
	req.TopicData = []protocol.ProduceRequestTopic{rt}

	resp, err := leader.Produce(ctx, req)
	if err != nil {
		// Whether the broker appended the records is unknown: sending them
		// again could duplicate them, so this is the end.
		return nil, fmt.Errorf("producing to %s on %v: %w", p.topic.Name(), leader, err)
	}
	if resp == nil { // acks 0: no answer
		for _, id := range parts {
			p.done(id, -1)
		}
		return nil, nil
	}
	var retry []error
	for _, t := range resp.Responses {
		for _, pr := range t.PartitionResponses {
			if _, ok := p.pending[pr.Index]; !ok {
				continue
			}
			err := protocol.ErrorForCode(pr.ErrorCode)
			switch {
			case err == nil:
				p.done(pr.Index, pr.BaseOffset)
			case protocol.IsRetriable(err):
				retry = append(retry, fmt.Errorf("partition %d: %w", pr.Index, err))
			default:
				if pr.ErrorMessage != nil && *pr.ErrorMessage != "" {
					err = fmt.Errorf("%w: %s", err, *pr.ErrorMessage)
				}
				return nil, fmt.Errorf("producing to %s/%d: %w", p.topic.Name(), pr.Index, err)
			}
		}
	}
	return retry, nil
}

func (p *lineProducer) done(partition int32, baseOffset int64) {
	c := p.counts[partition]
	if c == nil {
		c = &producedCounts{Partition: partition, FirstOffset: baseOffset}
		p.counts[partition] = c
	}
	c.Messages += len(p.pending[partition])
	delete(p.pending, partition)
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

// murmur2 is the hash Kafka's Java client partitions keys with.
func murmur2(data []byte) uint32 {
	const (
		seed = 0x9747b28c
		m    = 0x5bd1e995
		r    = 24
	)
	h := uint32(seed) ^ uint32(len(data))
	n := len(data) &^ 3
	for i := 0; i < n; i += 4 {
		k := uint32(data[i]) | uint32(data[i+1])<<8 | uint32(data[i+2])<<16 | uint32(data[i+3])<<24
		k *= m
		k ^= k >> r
		k *= m
		h *= m
		h ^= k
	}
	switch len(data) & 3 {
	case 3:
		h ^= uint32(data[n+2]) << 16
		fallthrough
	case 2:
		h ^= uint32(data[n+1]) << 8
		fallthrough
	case 1:
		h ^= uint32(data[n])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return h
}
