package kafka

import (
	"errors"
	"slices"
	"time"

	"github.com/gregorkafka/gregor/protocol"
)

// maxShareAcquired bounds the offsets one partition's answer may say it
// acquired: far above what any MaxRecords asks for, and low enough that a
// corrupt range cannot make the consumer walk (and acknowledge) billions of
// offsets.
const maxShareAcquired = 1 << 20

var errShareAcquiredRanges = errors.New("kafka: ShareFetch acquired-record ranges overlap, run backwards or are too large")

// shareDecoded is what one partition of a ShareFetch answer holds for the
// consumer: the acquired records for the application, and the acquired
// offsets that need acknowledging without reaching it — gaps (no record
// there: a transaction marker, compaction) and rejects (a batch that
// failed to decode, as the Java client rejects a corrupt one).
type shareDecoded struct {
	msgs    []ShareMessage
	gaps    []int64
	rejects []int64
	err     error // why records were rejected
}

// decodeShareRecords walks a partition's records and keeps those inside the
// acquired ranges, each with its delivery count.
func decodeShareRecords(rd *protocol.RecordDecoder, tp sharePartition, records []byte,
	acquired []protocol.ShareFetchResponseAcquiredRecords, lockExpires time.Time, broker int32) shareDecoded {
	var out shareDecoded
	ranges := slices.Clone(acquired)
	slices.SortFunc(ranges, func(a, b protocol.ShareFetchResponseAcquiredRecords) int {
		switch {
		case a.FirstOffset < b.FirstOffset:
			return -1
		case a.FirstOffset > b.FirstOffset:
			return 1
		}
		return 0
	})
	var total int64
	for i, r := range ranges {
		if r.FirstOffset < 0 || r.LastOffset < r.FirstOffset || (i > 0 && r.FirstOffset <= ranges[i-1].LastOffset) {
			out.err = errShareAcquiredRanges
			return out
		}
		total += r.LastOffset - r.FirstOffset + 1
		if total > maxShareAcquired {
			out.err = errShareAcquiredRanges
			return out
		}
	}
	if len(ranges) == 0 {
		return out
	}
	ri, next := 0, ranges[0].FirstOffset // the next acquired offset not yet settled
	advance := func() {
		next++
		if next > ranges[ri].LastOffset {
			ri++
			if ri < len(ranges) {
				next = ranges[ri].FirstOffset
			}
		}
	}
	rd.MinOffset = ranges[0].FirstOffset
	_, err := rd.DecodeBatches(records, func(b *protocol.RecordBatch) error {
		if b.Control() {
			return nil // its offsets, if acquired, become gaps below
		}
		for i := range b.Records {
			r := &b.Records[i]
			for ri < len(ranges) && next < r.Offset {
				out.gaps = append(out.gaps, next)
				advance()
			}
			if ri >= len(ranges) {
				return nil
			}
			if next != r.Offset {
				continue // before the next acquired offset: another member's, or not available
			}
			m := ShareMessage{DeliveryCount: int(ranges[ri].DeliveryCount), LockExpires: lockExpires, broker: broker, topicID: tp.topicID}
			m.Topic, m.Partition, m.Offset = tp.topic, tp.partition, r.Offset
			m.Key, m.Value, m.Headers = r.Key, r.Value, r.Headers
			if r.Timestamp >= 0 {
				m.Timestamp = time.UnixMilli(r.Timestamp)
			}
			out.msgs = append(out.msgs, m)
			advance()
		}
		return nil
	})
	// What is left of the ranges had no record: gaps, or, after a decoding
	// error, records nobody can read.
	for ri < len(ranges) {
		if err != nil {
			out.rejects = append(out.rejects, next)
		} else {
			out.gaps = append(out.gaps, next)
		}
		advance()
	}
	if err != nil {
		out.err = err
	}
	return out
}
