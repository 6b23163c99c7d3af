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
)

// commitTimeout bounds consume_topic's final commit, which runs after the
// command's own deadline may have passed.
const commitTimeout = 10 * time.Second

var consumeTopicCommand = &command{
	name:    "consume_topic",
	aliases: []string{"consume-topic", "consume"},
	args:    "TOPIC",
	summary: "Print messages from a topic",
	details: `Reads up to --limit messages, from all partitions together, starting at the
latest offsets (new messages only) or, with --from earliest, at the start of
the log, and prints each value on a line as UTF-8 (with -o json: one document
holding every message). It stops at the limit, at --timeout, or on Ctrl-C,
printing what it read; stopping early is not an error.

With --group the read starts at the group's committed offsets (--from only for
partitions it never committed) and the offsets after the printed messages are
committed at the end, as a member of the group would. A group with live
members is refused.

Records of aborted transactions are shown too unless --read-committed.`,
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
		fs.BoolVar(&o.readCommitted, "read-committed", false, "skip records of aborted and open transactions")
		return func(ctx context.Context, e *env, args []string) (report, error) {
			return consumeTopic(ctx, e, args[0], o)
		}
	},
}

type consumeOptions struct {
	limit                        int
	outfile, group, from, keySep string
	readCommitted                bool
}

type consumeReport struct {
	Topic    string            `json:"topic"`
	Messages []consumedMessage `json:"messages"`
}

type consumedMessage struct {
	Partition   int32   `json:"partition"`
	Offset      int64   `json:"offset"`
	TimestampMs int64   `json:"timestamp_ms"` // -1: none
	Key         *string `json:"key"`
	Value       *string `json:"value"`
	// Base64 forms replace Key and Value when those are not UTF-8.
	KeyBase64   []byte `json:"key_base64,omitempty"`
	ValueBase64 []byte `json:"value_base64,omitempty"`
}

func newConsumedMessage(msg *kafka.Message) consumedMessage {
	m := consumedMessage{Partition: msg.Partition, Offset: msg.Offset, TimestampMs: -1}
	if !msg.Timestamp.IsZero() {
		m.TimestampMs = msg.Timestamp.UnixMilli()
	}
	m.Key, m.KeyBase64 = textOrBytes(msg.Key)
	m.Value, m.ValueBase64 = textOrBytes(msg.Value)
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
	var reset kafka.OffsetTarget
	switch strings.ToLower(o.from) {
	case "earliest":
		reset = kafka.OffsetEarliest
	case "latest":
		reset = kafka.OffsetLatest
	default:
		return nil, usagef("bad --from %q: want earliest or latest", o.from)
	}
	if o.limit < 0 {
		return nil, usagef("bad --limit %d: want 0 or more", o.limit)
	}
	t, err := e.topic(ctx, topic)
	if err != nil {
		return nil, err
	}
	if o.group != "" {
		// Members of the group would commit over this command's offsets,
		// and the coordinator refuses commits from outside a live group.
		d, err := describeGroup(ctx, e.client, o.group)
		if err != nil {
			return nil, err
		}
		if d.live() {
			return nil, fmt.Errorf("group %q has %d live member(s) (state %s); consume_topic reads as a group only while it has none",
				o.group, len(d.Members), d.State)
		}
	}

	out := e.stdout
	if o.outfile == "" {
		o.outfile = e.g.outfile
	}
	if o.outfile != "" {
		f, err := os.Create(o.outfile)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		out = f
	}

	cfg := kafka.ConsumerConfig{ConsumerGroup: o.group, AutoOffsetReset: reset}
	if o.readCommitted {
		cfg.IsolationLevel = kafka.ReadCommitted
	}
	c, err := t.SimpleConsumer(cfg)
	if err != nil {
		return nil, err
	}
	r := &consumeReport{Topic: topic, Messages: []consumedMessage{}}
	n, err := readMessages(ctx, c, o, func(m *kafka.Message) error {
		if e.g.output == "json" {
			r.Messages = append(r.Messages, newConsumedMessage(m))
			return nil
		}
		return writeMessageLine(out, m, o.keySep)
	})
	// The command's context may be what ended the read: stopping and the
	// final commit get one of their own.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), commitTimeout)
	defer cancel()
	stopErr := c.Stop(sctx)
	stopped := errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
	if err != nil && !stopped {
		return nil, err
	}
	if stopErr != nil {
		return nil, stopErr
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
		if err := c.CommitOffsets(sctx); err != nil {
			return nil, fmt.Errorf("committing the offsets of group %q: %w", o.group, err)
		}
	}
	return nil, nil
}

// readMessages hands messages to emit until the limit, an error, or the
// end of ctx, and returns how many it handed over.
func readMessages(ctx context.Context, c *kafka.SimpleConsumer, o consumeOptions, emit func(*kafka.Message) error) (int, error) {
	n := 0
	for o.limit == 0 || n < o.limit {
		m, err := c.Consume(ctx)
		if err != nil {
			// A partition's error (a record too large to fetch, a corrupt
			// batch) would come back on every call: stop at the first.
			return n, err
		}
		n++
		if err := emit(m); err != nil {
			return n, err
		}
	}
	return n, nil
}

func writeMessageLine(w io.Writer, r *kafka.Message, keySep string) error {
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
