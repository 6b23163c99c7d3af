package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/gregorkafka/gregor/kafka"
	"github.com/gregorkafka/gregor/protocol"
)

// Fetch settings: short long polls, so that a topic spread over several
// leaders, asked one after another, still reads promptly.
const (
	fetchMaxWait        = 500 * time.Millisecond
	fetchMaxBytes       = 4 << 20
	fetchPartitionMax   = 1 << 20
	fetchRefreshBackoff = 200 * time.Millisecond
)

// fetcher reads a topic's partitions from their leaders with Fetch
// requests, from given positions, until told to stop. It is the small
// consumer consume_topic needs: no group membership, no prefetching.
type fetcher struct {
	cl    *kafka.Client
	topic *kafka.Topic
	pos   map[int32]int64 // next offset to read, per partition
	reset offsetSpec      // where a partition whose position left the log goes
	dec   protocol.RecordDecoder
}

// errStopFetch ends a decode early when the caller has seen enough.
var errStopFetch = errors.New("stop")

// run fetches until emit returns false, or ctx ends (its error is
// returned). emit gets every data record at or after its partition's
// position, in offset order per partition, and returns whether it wants
// more; positions advance past every record emit got.
func (f *fetcher) run(ctx context.Context, emit func(partition int32, r *protocol.Record) bool) error {
	for {
		byLeader := map[*kafka.Broker][]int32{}
		var leaders []*kafka.Broker
		stale := false
		for _, id := range sortedIDs(f.pos) {
			p := f.topic.Partition(id)
			if p == nil || p.Leader() == nil {
				stale = true
				continue
			}
			b := p.Leader()
			if byLeader[b] == nil {
				leaders = append(leaders, b)
			}
			byLeader[b] = append(byLeader[b], id)
		}
		sort.Slice(leaders, func(i, j int) bool { return leaders[i].ID() < leaders[j].ID() })
		for _, b := range leaders {
			more, refresh, err := f.fetchFrom(ctx, b, byLeader[b], emit)
			if err != nil || !more {
				return err
			}
			stale = stale || refresh
		}
		if stale {
			if err := f.refresh(ctx); err != nil {
				return err
			}
		}
	}
}

func (f *fetcher) refresh(ctx context.Context) error {
	if err := sleepCtx(ctx, fetchRefreshBackoff); err != nil {
		return err
	}
	if err := f.cl.Update(ctx); err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return nil
}

// fetchFrom sends one Fetch to leader for parts and hands the records to
// emit. more is false once emit declined a record; refresh asks for a
// metadata refresh (a partition moved, or the connection broke).
func (f *fetcher) fetchFrom(ctx context.Context, leader *kafka.Broker, parts []int32,
	emit func(int32, *protocol.Record) bool) (more, refresh bool, err error) {
	req := protocol.NewFetchRequest()
	req.MaxWaitMs = int32(fetchMaxWait / time.Millisecond)
	req.MinBytes = 1
	req.MaxBytes = fetchMaxBytes
	// Both name and id: the negotiated version decides which is sent.
	rt := protocol.FetchRequestTopic{Topic: f.topic.Name(), TopicID: f.topic.ID()}
	for _, id := range parts {
		var p protocol.FetchRequestPartition
		p.Default()
		p.Partition, p.FetchOffset, p.PartitionMaxBytes = id, f.pos[id], fetchPartitionMax
		rt.Partitions = append(rt.Partitions, p)
	}
	req.Topics = []protocol.FetchRequestTopic{rt}

	resp, err := leader.Fetch(ctx, req)
	if err != nil {
		if ctx.Err() != nil {
			return false, false, ctx.Err()
		}
		return true, true, nil // the connection is dialed again on the next request
	}
	if err := protocol.ErrorForCode(resp.ErrorCode); err != nil {
		return false, false, fmt.Errorf("fetching from %v: %w", leader, err)
	}
	for i := range resp.Responses {
		t := &resp.Responses[i]
		if t.Topic != f.topic.Name() && (t.TopicID.IsZero() || t.TopicID != f.topic.ID()) {
			continue
		}
		for j := range t.Partitions {
			rp := &t.Partitions[j]
			if _, ok := f.pos[rp.PartitionIndex]; !ok {
				continue
			}
			switch err := protocol.ErrorForCode(rp.ErrorCode); {
			case err == nil:
				if more, err := f.deliver(rp.PartitionIndex, rp.Records, emit); !more || err != nil {
					return false, false, err
				}
			case errors.Is(err, protocol.ErrOffsetOutOfRange):
				if err := f.resetPosition(ctx, rp.PartitionIndex); err != nil {
					return false, false, err
				}
			case protocol.IsRetriable(err), errors.Is(err, protocol.ErrUnknownTopicOrPartition):
				refresh = true
			default:
				return false, false, fmt.Errorf("fetching %s/%d: %w", f.topic.Name(), rp.PartitionIndex, err)
			}
		}
	}
	return true, refresh, nil
}

// deliver decodes one partition's records and reports whether emit wants
// more. Control batches and batches emptied by compaction advance the
// position without a record.
func (f *fetcher) deliver(partition int32, data []byte, emit func(int32, *protocol.Record) bool) (bool, error) {
	f.dec.MinOffset = f.pos[partition]
	_, err := f.dec.DecodeBatches(data, func(b *protocol.RecordBatch) error {
		if !b.Control() {
			for i := range b.Records {
				r := &b.Records[i]
				if r.Offset < f.pos[partition] {
					continue
				}
				f.pos[partition] = r.Offset + 1
				if !emit(partition, r) {
					return errStopFetch
				}
			}
		}
		f.pos[partition] = max(f.pos[partition], b.LastOffset()+1)
		return nil
	})
	switch {
	case errors.Is(err, errStopFetch):
		return false, nil
	case err != nil:
		// Fetching again would return the same bytes.
		return false, fmt.Errorf("reading %s/%d at offset %d: %w", f.topic.Name(), partition, f.pos[partition], err)
	}
	return true, nil
}

// resetPosition moves a partition whose position left the log (deleted by
// retention, or past the end) to the reset spec's offset.
func (f *fetcher) resetPosition(ctx context.Context, partition int32) error {
	offs, err := f.reset.lookup(ctx, f.topic, []int32{partition})
	if err != nil {
		return err
	}
	f.pos[partition] = offs[partition]
	return nil
}
