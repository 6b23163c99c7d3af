package kafka

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// PartitionLag is how far a group is behind on one partition.
type PartitionLag struct {
	// Committed is the group's committed offset (the next it will read),
	// -1 when it never committed one.
	Committed int64
	// End is the partition's latest offset (the offset the next record
	// will get), -1 when the topic no longer exists.
	End int64
	// Lag is End - Committed, or -1 when either is unknown.
	Lag int64
}

// GroupLag maps topic -> partition -> lag.
type GroupLag map[string]map[int32]PartitionLag

// Total sums the known lags.
func (g GroupLag) Total() int64 {
	var n int64
	for _, parts := range g {
		for _, l := range parts {
			if l.Lag > 0 {
				n += l.Lag
			}
		}
	}
	return n
}

// GroupLag reports a consumer group's lag: its committed offsets against
// the partitions' latest offsets, asked of the coordinator and of the
// partitions' leaders now. topics selects as FetchGroupOffsets does (nil:
// every topic the group committed for), except that a partition named, or
// every partition of a topic named with none, is reported even without a
// commit (Committed -1). A running consumer's own view, with no requests,
// is SimpleConsumer.Lag and BalancedConsumer.Lag.
//
// Errors: those of FetchGroupOffsets, and of looking up a topic's latest
// offsets (a topic deleted since the group committed is no error: its End
// is -1).
func (c *Cluster) GroupLag(ctx context.Context, group string, topics map[string][]int32) (GroupLag, error) {
	committed, err := c.FetchGroupOffsets(ctx, group, topics)
	if err != nil {
		return nil, err
	}
	names := map[string]bool{}
	for name := range topics {
		names[name] = true
	}
	for name := range committed {
		names[name] = true
	}
	out := GroupLag{}
	for name := range names {
		want := map[int32]bool{}
		for id := range committed[name] {
			want[id] = true
		}
		for _, id := range topics[name] {
			want[id] = true
		}
		end, err := c.latestOrGone(ctx, name)
		if err != nil {
			return nil, err
		}
		if parts, ok := topics[name]; ok && len(parts) == 0 && end != nil {
			for id := range end {
				want[id] = true
			}
		}
		lags := make(map[int32]PartitionLag, len(want))
		for id := range want {
			l := PartitionLag{Committed: -1, End: -1, Lag: -1}
			if co, ok := committed[name][id]; ok {
				l.Committed = co.Offset
			}
			if e, ok := end[id]; ok {
				l.End = e
			}
			if l.Committed >= 0 && l.End >= 0 {
				l.Lag = max(0, l.End-l.Committed)
			}
			lags[id] = l
		}
		out[name] = lags
	}
	return out, nil
}

// latestOrGone returns a topic's latest offsets, or nil for a topic that
// does not exist.
func (c *Cluster) latestOrGone(ctx context.Context, name string) (map[int32]int64, error) {
	t, err := c.Topic(ctx, name)
	if errors.Is(err, ErrUnknownTopic) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	end, err := t.LatestOffsets(ctx)
	if err != nil {
		return nil, fmt.Errorf("kafka: looking up the latest offsets of %s: %w", name, err)
	}
	return end, nil
}

// Partitions returns the lag's partitions of topic, sorted.
func (g GroupLag) Partitions(topic string) []int32 {
	ids := make([]int32, 0, len(g[topic]))
	for id := range g[topic] {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}
