package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gregorkafka/gregor/kafka"
	"github.com/gregorkafka/gregor/protocol"
)

// commitTimeout bounds consume_topic's final commit, which runs after the
// command's own deadline may have passed.
const commitTimeout = 10 * time.Second

var consumeTopicCommand = &command{
	name:    "consume_topic",
	aliases: []string{"consume-topic", "consume"},
	args:    "TOPIC",
	summary: "Print messages from a topic",
	details: `Reads up to --limit messages from every partition, starting at the latest
offsets (new messages only) or, with --from earliest, at the start of the log,
and prints each value on a line as UTF-8 (with -o json: one document holding
every message). It stops at the limit, at --timeout, or on Ctrl-C, printing
what it read; stopping early is not an error.

With --group the read starts at the group's committed offsets (--from only for
partitions it never committed) and the offsets after the printed messages are
committed at the end, as a member of the group would. A group with live
members is refused.

Records of aborted transactions are not filtered out (read_uncommitted).`,
	examples: []string{
		"consume_topic orders",
		"consume_topic orders --from earliest --limit 100 --outfile orders.txt",
		"consume_topic orders --group audit-replay --limit 0 --timeout 5m",
		"consume-topic orders --key-separator ' => ' -o json",
	},
	minArgs: 1, maxArgs: 1,
	setup: func(fs *flag.FlagSet) action {
		var o consumeOptions
		fs.IntVar(&o.limit, "limit", 10, "stop after this many messages; 0 reads until --timeout or Ctrl-C")
		fs.IntVar(&o.limit, "l", 10, "shorthand for --limit")
		fs.StringVar(&o.outfile, "outfile", "", "write the messages to this file instead of stdout")
		fs.StringVar(&o.group, "group", "", "read from, and commit to, this group's offsets")
		fs.StringVar(&o.from, "from", "latest", "where to start without a committed offset: earliest or latest")
		fs.StringVar(&o.keySep, "key-separator", "", "print each message as KEY<separator>VALUE")
		return func(ctx context.Context, e *env, args []string) (report, error) {
			return consumeTopic(ctx, e, args[0], o)
		}
	},
}

type consumeOptions struct {
	limit                        int
	outfile, group, from, keySep string
}

type consumeReport struct {
	Topic    string            `json:"topic"`
	Messages []consumedMessage `json:"messages"`
}

type consumedMessage struct {
	Partition   int32   `json:"partition"`
	Offset      int64   `json:"offset"`
	TimestampMs int64   `json:"timestamp_ms"`
	Key         *string `json:"key"`
	Value       *string `json:"value"`
	// Base64 forms replace Key and Value when those are not UTF-8.
	KeyBase64   []byte `json:"key_base64,omitempty"`
	ValueBase64 []byte `json:"value_base64,omitempty"`
}

func newConsumedMessage(partition int32, r *protocol.Record) consumedMessage {
	m := consumedMessage{Partition: partition, Offset: r.Offset, TimestampMs: r.Timestamp}
	m.Key, m.KeyBase64 = textOrBytes(r.Key)
	m.Value, m.ValueBase64 = textOrBytes(r.Value)
	return m
}

func textOrBytes(b []byte) (*string, []byte) {
	switch {
	case b == nil:
		return nil, nil
	case utf8.Valid(b):
		s := string(b)
		return &s, nil
	default:
		return nil, append([]byte(nil), b...)
	}
}

func consumeTopic(ctx context.Context, e *env, topic string, o consumeOptions) (report, error) {
	from, err := parseOffsetSpec(o.from, false)
	if err != nil || from.kind == specTime {
		return nil, usagef("bad --from %q: want earliest or latest", o.from)
	}
	if o.limit < 0 {
		return nil, usagef("bad --limit %d: want 0 or more", o.limit)
	}
	t, err := e.topic(ctx, topic)
	if err != nil {
		return nil, err
	}
	start, err := from.lookup(ctx, t, nil)
	if err != nil {
		return nil, err
	}
	if o.group != "" {
		if err := startFromGroup(ctx, e.client, o.group, t, start); err != nil {
			return nil, err
		}
	}

	out := e.stdout
	if o.outfile != "" {
		f, err := os.Create(o.outfile)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		out = f
	}

	f := &fetcher{cl: e.client, topic: t, pos: map[int32]int64{}, reset: from}
	for id, off := range start {
		f.pos[id] = off
	}
	r := &consumeReport{Topic: topic, Messages: []consumedMessage{}}
	var writeErr error
	n := 0
	err = f.run(ctx, func(partition int32, rec *protocol.Record) bool {
		n++
		if e.g.output == "json" {
			r.Messages = append(r.Messages, newConsumedMessage(partition, rec))
		} else if writeErr == nil {
			writeErr = writeMessageLine(out, rec, o.keySep)
		}
		return writeErr == nil && (o.limit == 0 || n < o.limit)
	})
	stopped := errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
	if err != nil && !stopped {
		return nil, err
	}
	if writeErr != nil {
		return nil, writeErr
	}
	if e.g.output == "json" {
		if err := writeReport(out, r, "json"); err != nil {
			return nil, err
		}
	}
	if stopped {
		why := "interrupted"
		if errors.Is(err, context.DeadlineExceeded) {
			why = fmt.Sprintf("stopped at --timeout (%v)", e.g.timeout)
		}
		fmt.Fprintf(e.stderr, "%s: %s after %d message(s)\n", progName, why, n)
	}
	if o.group != "" {
		if err := commitProgress(ctx, e.client, o.group, topic, start, f.pos); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

func writeMessageLine(w io.Writer, r *protocol.Record, keySep string) error {
	var b strings.Builder
	if keySep != "" {
		b.Write(r.Key)
		b.WriteString(keySep)
	}
	b.Write(r.Value)
	b.WriteByte('\n')
	_, err := io.WriteString(w, b.String())
	return err
}

// startFromGroup replaces start's offsets with the group's committed ones,
// refusing a group whose members would compete with the final commit.
func startFromGroup(ctx context.Context, cl *kafka.Client, group string, t *kafka.Topic, start map[int32]int64) error {
	d, err := describeGroup(ctx, cl, group)
	if err != nil {
		return err
	}
	if d.live() {
		return fmt.Errorf("group %q has %d live member(s) (state %s); consume_topic reads as a group only while it has none",
			group, len(d.Members), d.State)
	}
	committed, err := fetchOffsets(ctx, cl, group, map[string][]int32{t.Name(): sortedIDs(start)})
	if err != nil {
		return err
	}
	for id, off := range committed[t.Name()] {
		start[id] = off
	}
	return nil
}

// commitProgress commits the positions that moved. It gets a context of
// its own: the command's may have ended, which is what stopped the read.
func commitProgress(ctx context.Context, cl *kafka.Client, group, topic string, start, pos map[int32]int64) error {
	moved := map[int32]int64{}
	for id, off := range pos {
		if off != start[id] {
			moved[id] = off
		}
	}
	if len(moved) == 0 {
		return nil
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), commitTimeout)
	defer cancel()
	return commitOffsets(cctx, cl, group, topic, moved)
}

// writeText prints values one per line, as the text mode's streaming
// output does; consume_topic itself streams instead of building a report.
func (r *consumeReport) writeText(w io.Writer) error {
	for _, m := range r.Messages {
		v := ""
		if m.Value != nil {
			v = *m.Value
		}
		if _, err := fmt.Fprintln(w, v); err != nil {
			return err
		}
	}
	return nil
}
