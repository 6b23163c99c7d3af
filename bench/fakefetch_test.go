package bench

import (
	"encoding/binary"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/gregorkafka/gregor/protocol"
)

// fakeLog is what the fake broker serves to consumers. Every partition holds the same records: copies of one
// encoded batch of perBatch records, their base offsets rewritten on the way out (the batch CRC does not
// cover the base offset, so the bytes stay valid), ending at ends[partition] with a shorter last batch where
// the end is not a multiple of perBatch. Nothing is encoded while a consumer reads.
type fakeLog struct {
	perBatch int
	batch    []byte
	tails    map[int][]byte // records in a partition's last batch → that batch
	ends     []int64
}

// newFakeLog encodes the batches: values cycled from the benchmark payload, no keys, codec as asked.
func newFakeLog(values [][]byte, perBatch int, codec protocol.Compression, ends []int64) (*fakeLog, error) {
	build := func(n int) ([]byte, error) {
		var bb protocol.RecordBatchBuilder
		bb.Reset(&protocol.RecordBatch{ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1, PartitionLeaderEpoch: -1})
		for i := range n {
			bb.Add(1_700_000_000_000+int64(i), nil, values[i%len(values)], nil)
		}
		return bb.Build(nil, codec)
	}
	l := &fakeLog{perBatch: perBatch, tails: map[int][]byte{}, ends: ends}
	var err error
	if l.batch, err = build(perBatch); err != nil {
		return nil, err
	}
	for _, e := range ends {
		if r := int(e % int64(perBatch)); r > 0 && l.tails[r] == nil {
			if l.tails[r], err = build(r); err != nil {
				return nil, err
			}
		}
	}
	return l, nil
}

// firstBatch is what a broker does with the first batch of a partition's answer when it exceeds the limit.
type firstBatch int

const (
	cutFirst   firstBatch = iota // its first bytes, as Fetch v0-2 answer (a consumer reads "a bigger fetch is needed")
	dropFirst                    // nothing, as Fetch v3+ answer a partition not first to bring data
	wholeFirst                   // all of it, as Fetch v3+ answer the first partition with data
)

// records appends partition p's log from offset to dst, as a broker reads it: whole batches while they fit in
// limit bytes, then the first bytes of the next batch (a partial batch, which a consumer drops), the first
// batch being treated by rule when it alone exceeds limit.
func (l *fakeLog) records(dst []byte, p int32, offset int64, limit int, rule firstBatch) []byte {
	end := l.ends[p]
	if offset >= end {
		return dst
	}
	start := len(dst)
	for base := offset - offset%int64(l.perBatch); base < end; base += int64(l.perBatch) {
		b := l.batch
		if r := int(end - base); r < l.perBatch {
			b = l.tails[r]
		}
		used := len(dst) - start
		if used+len(b) > limit {
			switch {
			case used == 0 && rule == wholeFirst:
			case used == 0 && rule == dropFirst:
				return dst
			default:
				b = b[:max(limit-used, 0)]
			}
		}
		if len(b) == 0 {
			break
		}
		at := len(dst)
		dst = append(dst, b...)
		var off [8]byte
		binary.BigEndian.PutUint64(off[:], uint64(base))
		copy(dst[at:], off[:min(8, len(b))])
		if len(dst)-start >= limit {
			break
		}
	}
	return dst
}

// fetch answers a Fetch (up to v12, topics by name) the way a broker does without fetch sessions: partitions
// in request order, each up to its PartitionMaxBytes, the response up to MaxBytes, the first batch of the first
// partition with data whole even when over the limits, and (from v3, as Kafka) nothing rather than the start
// of a first batch over the limits for the others. arena holds the records and is returned for reuse; an
// empty answer waits for MaxWaitMs (at most half a second), as a broker holds a fetch with nothing new.
func (fb *fakeBroker) fetch(r *kmsg.FetchRequest, resp *kmsg.FetchResponse, arena []byte) []byte {
	arena = arena[:0]
	type span struct{ t, p, from, to int }
	var spans []span
	left := int(r.MaxBytes)
	if r.Version < 3 || left <= 0 {
		left = 1 << 30
	}
	rule := wholeFirst
	if r.Version < 3 {
		rule = cutFirst
	}
	for _, t := range r.Topics {
		rt := kmsg.NewFetchResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewFetchResponseTopicPartition()
			rp.Partition = p.Partition
			if t.Topic != fb.topic || p.Partition < 0 || int(p.Partition) >= len(fb.log.ends) {
				rp.ErrorCode = 3 // UNKNOWN_TOPIC_OR_PARTITION
				rt.Partitions = append(rt.Partitions, rp)
				continue
			}
			end := fb.log.ends[p.Partition]
			rp.HighWatermark, rp.LastStableOffset, rp.LogStartOffset = end, end, 0
			if p.FetchOffset > end || p.FetchOffset < 0 {
				rp.ErrorCode = 1 // OFFSET_OUT_OF_RANGE
			} else if left > 0 {
				from := len(arena)
				arena = fb.log.records(arena, p.Partition, p.FetchOffset, min(int(p.PartitionMaxBytes), left), rule)
				if n := len(arena) - from; n > 0 {
					left -= n
					if rule == wholeFirst {
						rule = dropFirst
					}
					spans = append(spans, span{len(resp.Topics), len(rt.Partitions), from, len(arena)})
				}
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	// The arena is complete: only now can records point into it.
	for _, s := range spans {
		resp.Topics[s.t].Partitions[s.p].RecordBatches = arena[s.from:s.to]
	}
	if len(spans) == 0 {
		wait := min(time.Duration(r.MaxWaitMillis)*time.Millisecond, 500*time.Millisecond)
		select {
		case <-fb.closed:
		case <-time.After(wait):
		}
	}
	return arena
}

// listOffsets answers ListOffsets: the log starts at 0 and ends at the partition's end.
func (fb *fakeBroker) listOffsets(r *kmsg.ListOffsetsRequest, resp *kmsg.ListOffsetsResponse) {
	for _, t := range r.Topics {
		rt := kmsg.NewListOffsetsResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewListOffsetsResponseTopicPartition()
			rp.Partition = p.Partition
			switch {
			case fb.log == nil || t.Topic != fb.topic || p.Partition < 0 || int(p.Partition) >= len(fb.log.ends):
				rp.ErrorCode = 3
			case p.Timestamp == -1: // latest
				rp.Offset = fb.log.ends[p.Partition]
			default: // earliest, or any time: every record has an old timestamp
				rp.Offset = 0
			}
			rp.Timestamp = -1
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
}
