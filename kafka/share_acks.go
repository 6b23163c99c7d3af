package kafka

import (
	"slices"

	"github.com/gregorkafka/gregor/protocol"
)

// sharePartition names a partition of a share session: by id on the wire,
// by name for the application.
type sharePartition struct {
	topicID   protocol.UUID
	topic     string
	partition int32
}

// shareAck is one acknowledged offset.
type shareAck struct {
	offset int64
	typ    AckType
}

// ackBatch is one wire acknowledgement batch: a run of consecutive offsets
// with either one type for all of them or one type per offset.
type ackBatch struct {
	first, last int64
	types       []int8
}

// ackBatches turns one partition's acknowledgements into wire batches, as
// few as the offsets allow: consecutive offsets share a batch, which
// carries a single type when they all have the same one.
func ackBatches(acks []shareAck) []ackBatch {
	if len(acks) == 0 {
		return nil
	}
	acks = slices.Clone(acks)
	slices.SortStableFunc(acks, func(a, b shareAck) int {
		switch {
		case a.offset < b.offset:
			return -1
		case a.offset > b.offset:
			return 1
		}
		return 0
	})
	// An offset acknowledged twice keeps its first type.
	acks = slices.CompactFunc(acks, func(a, b shareAck) bool { return a.offset == b.offset })
	var out []ackBatch
	start := 0
	for i := 1; i <= len(acks); i++ {
		if i < len(acks) && acks[i].offset == acks[i-1].offset+1 {
			continue
		}
		run := acks[start:i]
		b := ackBatch{first: run[0].offset, last: run[len(run)-1].offset}
		same := true
		for _, a := range run[1:] {
			if a.typ != run[0].typ {
				same = false
				break
			}
		}
		if same {
			b.types = []int8{int8(run[0].typ)}
		} else {
			b.types = make([]int8, len(run))
			for j, a := range run {
				b.types[j] = int8(a.typ)
			}
		}
		out = append(out, b)
		start = i
	}
	return out
}

// ackOffsets lists the offsets of acks, for reporting.
func ackOffsets(acks []shareAck) []int64 {
	out := make([]int64, len(acks))
	for i, a := range acks {
		out[i] = a.offset
	}
	slices.Sort(out)
	return slices.Compact(out)
}
