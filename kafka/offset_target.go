package kafka

import (
	"strconv"
	"time"
)

// OffsetTarget says where a consumer moves in a partition: to the earliest
// or latest offset, to the first record at or after a time, or to an
// explicit offset. It is ConsumerConfig.AutoOffsetReset's type and what
// ResetOffsets takes. The zero value is OffsetEarliest.
//
// Every target names the next message the consumer delivers; the
// consumer's held offset (HeldOffsets) is one less, as in pykafka, where it
// is the offset most recently consumed.
type OffsetTarget struct {
	kind  targetKind
	value int64 // the offset, or the time in ms for targetTime
}

type targetKind uint8

const (
	targetEarliest targetKind = iota
	targetLatest
	targetTime
	targetAfter
)

var (
	// OffsetEarliest is the oldest record still in the partition (its log
	// start offset): the next message is that record.
	OffsetEarliest = OffsetTarget{kind: targetEarliest}

	// OffsetLatest is the end of the partition: the next message is the
	// next record produced to it.
	OffsetLatest = OffsetTarget{kind: targetLatest}
)

// OffsetAfter makes n the most recently consumed offset, so the next
// message delivered is the one at offset n+1: pykafka's meaning of an
// integer passed to reset_offsets. OffsetAfter(-1) is offset 0.
func OffsetAfter(n int64) OffsetTarget { return OffsetTarget{kind: targetAfter, value: n} }

// OffsetAt makes the message at offset n the next one delivered (Kafka's
// convention, the same as OffsetAfter(n-1)).
func OffsetAt(n int64) OffsetTarget { return OffsetTarget{kind: targetAfter, value: n - 1} }

// OffsetAtTime makes the next message the first record whose timestamp is
// at or after t, or, when no record is that recent, the next record
// produced (see Topic.OffsetsBefore).
func OffsetAtTime(t time.Time) OffsetTarget {
	return OffsetTarget{kind: targetTime, value: max(t.UnixMilli(), 0)}
}

// String describes the target: "earliest", "latest", "after 41",
// "time 1700000000000".
func (o OffsetTarget) String() string {
	switch o.kind {
	case targetEarliest:
		return "earliest"
	case targetLatest:
		return "latest"
	case targetTime:
		return "time " + strconv.FormatInt(o.value, 10)
	default:
		return "after " + strconv.FormatInt(o.value, 10)
	}
}

// explicit reports whether the target needs no offset lookup, and the next
// offset it names.
func (o OffsetTarget) explicit() (next int64, ok bool) {
	if o.kind == targetAfter {
		return o.value + 1, true
	}
	return 0, false
}

// listOffsetsTimestamp is the ListOffsets timestamp resolving the target.
func (o OffsetTarget) listOffsetsTimestamp() int64 {
	switch o.kind {
	case targetLatest:
		return timestampLatest
	case targetTime:
		return o.value
	default:
		return timestampEarliest
	}
}
