package kafka

import (
	"context"
	"errors"
	"time"

	"github.com/gregorkafka/gregor/protocol"
)

// Special ListOffsets timestamps.
const (
	timestampLatest   int64 = -1
	timestampEarliest int64 = -2
)

// Offset lookups retry partitions that failed with a retriable error, this
// many times in all, backing off from offsetBackoff to offsetMaxBackoff. A
// leader that moved needs a metadata refresh first; a new leader answers
// OFFSET_NOT_AVAILABLE until its followers have caught up, which takes a
// few follower fetches.
const (
	offsetAttempts   = 8
	offsetBackoff    = 50 * time.Millisecond
	offsetMaxBackoff = time.Second
)

// listOffsets asks each partition's leader for the offset at ts (a
// timestamp in ms, or timestampLatest/timestampEarliest): one request per
// leader, in parallel. Partitions that fail with a stale-metadata error are
// retried after a refresh. The map holds the partitions that succeeded; the
// error joins a *PartitionError per partition that did not.
func (c *Cluster) listOffsets(ctx context.Context, t *Topic, parts []int32, ts int64) (map[int32]int64, error) {
	if c.closed.Load() {
		return nil, ErrClosed
	}
	if !t.Exists() {
		return nil, &TopicError{Topic: t.name, Err: ErrUnknownTopic}
	}
	out := make(map[int32]int64, len(parts))
	failed := map[int32]error{}
	pending := parts
	stale := false
	backoff := offsetBackoff
	for attempt := 0; len(pending) > 0 && attempt < offsetAttempts; attempt++ {
		if attempt > 0 {
			if err := c.h.Sleep(ctx, backoff); err != nil {
				return out, err
			}
			backoff = min(2*backoff, offsetMaxBackoff)
			if stale {
				if err := c.Update(ctx); err != nil && ctx.Err() != nil {
					return out, err
				}
			}
		}
		stale = false
		var retry []int32
		byLeader := map[*Broker][]int32{}
		var leaders []*Broker
		for _, id := range pending {
			p := t.Partition(id)
			switch {
			case p == nil:
				failed[id] = ErrUnknownTopic
			case p.Leader() == nil:
				failed[id] = ErrNoLeader
				retry = append(retry, id)
				stale = true
			default:
				b := p.Leader()
				if byLeader[b] == nil {
					leaders = append(leaders, b)
				}
				byLeader[b] = append(byLeader[b], id)
			}
		}
		results, err := fanOut(ctx, c.h, "kafka-list-offsets", len(leaders), func(i int) map[int32]offsetResult {
			return c.listOffsetsFrom(ctx, leaders[i], t.name, byLeader[leaders[i]], ts)
		})
		if err != nil {
			return out, err
		}
		for _, m := range results {
			for id, r := range m {
				switch {
				case r.err == nil:
					out[id] = r.offset
					delete(failed, id)
				case isStaleMetadata(r.err):
					failed[id] = r.err
					retry = append(retry, id)
					stale = true
				case protocol.IsRetriable(r.err):
					failed[id] = r.err
					retry = append(retry, id)
				default:
					failed[id] = r.err
				}
			}
		}
		pending = retry
	}
	if len(failed) == 0 {
		return out, nil
	}
	errs := make([]error, 0, len(failed))
	for _, id := range parts {
		if err, ok := failed[id]; ok {
			errs = append(errs, &PartitionError{Topic: t.name, Partition: id, Err: err})
		}
	}
	return out, errors.Join(errs...)
}

type offsetResult struct {
	offset int64
	err    error
}

// listOffsetsFrom sends one ListOffsets request to leader for parts.
func (c *Cluster) listOffsetsFrom(ctx context.Context, leader *Broker, topic string, parts []int32, ts int64) map[int32]offsetResult {
	req := protocol.NewListOffsetsRequest()
	req.ReplicaID = -1 // a client, not a follower
	rp := make([]protocol.ListOffsetsRequestPartition, len(parts))
	for i, id := range parts {
		rp[i] = protocol.ListOffsetsRequestPartition{PartitionIndex: id, CurrentLeaderEpoch: -1, Timestamp: ts, MaxNumOffsets: 1}
	}
	req.Topics = []protocol.ListOffsetsRequestTopic{{Name: topic, Partitions: rp}}
	req.TimeoutMs = int32(c.cfg.SocketTimeout / time.Millisecond)

	out := make(map[int32]offsetResult, len(parts))
	resp, err := leader.ListOffsets(ctx, req)
	if err != nil {
		for _, id := range parts {
			out[id] = offsetResult{err: err}
		}
		return out
	}
	for i := range resp.Topics {
		rt := &resp.Topics[i]
		if rt.Name != topic {
			continue
		}
		for j := range rt.Partitions {
			rp := &rt.Partitions[j]
			if err := protocol.ErrorForCode(rp.ErrorCode); err != nil {
				out[rp.PartitionIndex] = offsetResult{err: err}
				continue
			}
			off := rp.Offset
			if len(rp.OldStyleOffsets) > 0 { // v0 answers with a list
				off = rp.OldStyleOffsets[0]
			}
			out[rp.PartitionIndex] = offsetResult{offset: off}
		}
	}
	for _, id := range parts {
		if _, ok := out[id]; !ok {
			out[id] = offsetResult{err: errors.New("kafka: partition missing from ListOffsets response")}
		}
	}
	return out
}

// offsetsBefore looks offsets up by timestamp. The broker answers -1 for a
// partition with no record stamped at or after tm; those get the latest
// offset instead, so the result is always a valid place to start reading.
func (c *Cluster) offsetsBefore(ctx context.Context, t *Topic, parts []int32, tm time.Time) (map[int32]int64, error) {
	ms := max(tm.UnixMilli(), 0) // negative values are the special timestamps
	out, err := c.listOffsets(ctx, t, parts, ms)
	var none []int32
	for _, id := range parts {
		if off, ok := out[id]; ok && off < 0 {
			none = append(none, id)
			delete(out, id)
		}
	}
	if len(none) == 0 {
		return out, err
	}
	latest, lerr := c.listOffsets(ctx, t, none, timestampLatest)
	for id, off := range latest {
		out[id] = off
	}
	return out, errors.Join(err, lerr)
}
