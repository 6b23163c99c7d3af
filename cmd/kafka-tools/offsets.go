package main

import (
	"context"
	"flag"
	"io"
	"sort"
)

var printOffsetsCommand = &command{
	name:    "print_offsets",
	aliases: []string{"print-offsets", "offsets"},
	args:    "TOPIC earliest|latest|TIME",
	summary: "Print partition offsets: earliest, latest or at a time",
	details: `earliest is the first offset still in the log; latest is the offset the next
record will get (the high watermark). A TIME (ISO-8601, e.g. 2024-05-01T12:00:00Z;
UTC when it has no zone) gives the offset of the first record stamped at or
after it, or latest when no record is that recent.`,
	examples: []string{
		"print_offsets orders latest",
		"print_offsets orders 2024-05-01T12:00:00+02:00 -o json",
	},
	minArgs: 2, maxArgs: 2,
	setup: func(*flag.FlagSet) action { return printOffsets },
}

type offsetsReport struct {
	Topic   string        `json:"topic"`
	At      string        `json:"at"`
	Offsets []offsetEntry `json:"offsets"`
}

type offsetEntry struct {
	Partition int32 `json:"partition"`
	Offset    int64 `json:"offset"`
}

func printOffsets(ctx context.Context, e *env, args []string) (report, error) {
	spec, err := parseOffsetSpec(args[1], false)
	if err != nil {
		return nil, err
	}
	t, err := e.topic(ctx, args[0])
	if err != nil {
		return nil, err
	}
	offs, err := spec.lookup(ctx, t, nil)
	if err != nil {
		return nil, err
	}
	r := &offsetsReport{Topic: t.Name(), At: spec.text, Offsets: []offsetEntry{}}
	for id, off := range offs {
		r.Offsets = append(r.Offsets, offsetEntry{Partition: id, Offset: off})
	}
	sort.Slice(r.Offsets, func(i, j int) bool { return r.Offsets[i].Partition < r.Offsets[j].Partition })
	return r, nil
}

func (r *offsetsReport) writeText(w io.Writer) error {
	t := newTable(w, "Partition", "Offset")
	for _, o := range r.Offsets {
		t.row(o.Partition, o.Offset)
	}
	return t.flush()
}
