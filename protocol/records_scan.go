package protocol

import "encoding/binary"

// RecordsScan is what ScanRecords learns from a partition's records.
type RecordsScan struct {
	End   int   // bytes of complete entries at the start
	Next  int64 // offset after the last complete entry; -1 when none
	Count int   // records in them, counting a legacy wrapper as one
	// Entries is the number of complete entries (batches, or legacy
	// messages and wrappers).
	Entries int
	// Need is the size the first entry claims when not even it is
	// complete, 0 when its header is cut too.
	Need int
	// Cut is the size the entry after the complete ones claims when it is
	// cut short (Need when that entry is the first), 0 when none is cut or
	// its size is cut too: what a fetch must ask to get that entry whole.
	Cut int
	// Largest is the size of the largest complete entry.
	Largest int
	// Corrupt is set when an entry's header cannot be right; scanning
	// stopped before it.
	Corrupt bool
}

// ScanRecords walks the entries of a Fetch response partition's records by
// their headers only, without checking or decoding them, to learn where
// the next fetch starts. Compaction may leave a batch empty, so the next
// offset comes from the batch's last offset, not from its records. A
// legacy entry's offset is that of its last inner message. Counts are the
// headers' claims, unchecked: use them for sizing only within bounds.
//
// Brokers cut responses at a byte limit, and Kafka 3.9 down-converting for
// old Fetch versions may end with a padding entry that claims more bytes
// than remain: both are a partial tail, which the next fetch reads again
// from Next.
func ScanRecords(records []byte) RecordsScan {
	s := RecordsScan{Next: -1}
	be := binary.BigEndian
	for {
		rest := records[s.End:]
		if len(rest) < batchLogOverhead {
			return s
		}
		length := int64(int32(be.Uint32(rest[batchLogOverhead-4:])))
		if length < batchOffMagic+1-batchLogOverhead {
			s.Corrupt = true
			return s
		}
		size := batchLogOverhead + length
		if size > int64(len(rest)) {
			s.Cut = int(min(size, 1<<31-1))
			if s.End == 0 {
				s.Need = s.Cut
			}
			return s
		}
		last := int64(be.Uint64(rest))
		if rest[batchOffMagic] == RecordBatchMagic {
			if size < RecordBatchHeaderSize {
				s.Corrupt = true
				return s
			}
			last += int64(int32(be.Uint32(rest[batchOffLastOffsetDelta:])))
			s.Count += int(max(int32(be.Uint32(rest[batchOffRecordCount:])), 0))
		} else {
			s.Count++
		}
		s.Next = max(s.Next, last+1)
		s.End += int(size)
		s.Entries++
		s.Largest = max(s.Largest, int(size))
	}
}

// EntryLastOffset reads the last offset of the complete entry at the start
// of b, whose header ScanRecords has checked: a batch's last offset, or a
// legacy message's (a wrapper's is that of its last inner message).
func EntryLastOffset(b []byte) int64 {
	last := int64(binary.BigEndian.Uint64(b))
	if b[batchOffMagic] == RecordBatchMagic {
		last += int64(int32(binary.BigEndian.Uint32(b[batchOffLastOffsetDelta:])))
	}
	return last
}
