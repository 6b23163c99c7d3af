package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gregorkafka/gregor/kafka"
)

// specKind says how an offset argument picks offsets.
type specKind int

const (
	specEarliest specKind = iota // the log start offset
	specLatest                   // the high watermark
	specTime                     // the first record stamped at or after a time
	specOffset                   // an absolute offset
)

// offsetSpec is a parsed offset argument: earliest, latest, an ISO-8601
// time or (where allowed) an absolute offset.
type offsetSpec struct {
	kind   specKind
	time   time.Time
	offset int64
	text   string // as given, for reports
}

// timeLayouts are the ISO-8601 forms accepted; those without a zone are UTC.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
	"2006-01-02",
}

// parseOffsetSpec parses an offset argument. allowOffset admits a plain
// non-negative number as an absolute offset.
func parseOffsetSpec(s string, allowOffset bool) (offsetSpec, error) {
	want := "earliest, latest or an ISO-8601 time (2006-01-02T15:04:05Z)"
	if allowOffset {
		want = "earliest, latest, an ISO-8601 time (2006-01-02T15:04:05Z) or an offset"
	}
	spec := offsetSpec{text: s}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "earliest":
		spec.kind = specEarliest
		return spec, nil
	case "latest":
		spec.kind = specLatest
		return spec, nil
	case "":
		return spec, usagef("empty offset: want %s", want)
	}
	if isDigits(s) || strings.HasPrefix(s, "-") && isDigits(s[1:]) {
		if !allowOffset {
			return spec, usagef("bad offset %q: want %s", s, want)
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return spec, usagef("bad offset %q: want a number from 0 to %d", s, int64(1<<63-1))
		}
		spec.kind, spec.offset = specOffset, n
		return spec, nil
	}
	for _, layout := range timeLayouts {
		if t, err := time.ParseInLocation(layout, strings.TrimSpace(s), time.UTC); err == nil {
			if t.Before(time.Unix(0, 0)) {
				return spec, usagef("bad time %q: before 1970", s)
			}
			spec.kind, spec.time = specTime, t
			return spec, nil
		}
	}
	return spec, usagef("bad offset or timestamp %q: want %s", s, want)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// lookup returns the offsets the spec picks for the partitions parts of t
// (every partition when parts is nil). For an absolute offset it checks
// that the offset lies within each partition's log, so that nothing is
// committed from a typo.
func (s offsetSpec) lookup(ctx context.Context, t *kafka.Topic, parts []int32) (map[int32]int64, error) {
	var (
		all map[int32]int64
		err error
	)
	switch s.kind {
	case specEarliest:
		all, err = t.EarliestOffsets(ctx)
	case specLatest, specOffset:
		all, err = t.LatestOffsets(ctx)
	case specTime:
		all, err = t.OffsetsBefore(ctx, s.time)
	}
	if err != nil {
		return nil, fmt.Errorf("looking up offsets of %s: %w", t.Name(), err)
	}
	if parts == nil {
		for _, p := range t.Partitions() {
			parts = append(parts, p.ID())
		}
	}
	out := make(map[int32]int64, len(parts))
	for _, id := range parts {
		off, ok := all[id]
		if !ok {
			return nil, fmt.Errorf("topic %s has no partition %d", t.Name(), id)
		}
		out[id] = off
	}
	if s.kind != specOffset {
		return out, nil
	}
	earliest, err := t.EarliestOffsets(ctx)
	if err != nil {
		return nil, fmt.Errorf("looking up offsets of %s: %w", t.Name(), err)
	}
	for _, id := range parts {
		if lo, hi := earliest[id], out[id]; s.offset < lo || s.offset > hi {
			return nil, fmt.Errorf("offset %d is outside partition %d's range %d..%d", s.offset, id, lo, hi)
		}
		out[id] = s.offset
	}
	return out, nil
}
