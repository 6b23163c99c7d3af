package kafka

import (
	"encoding/binary"

	"github.com/gregorkafka/gregor/protocol"
)

// Entry layout shared by record batches and legacy messages: offset int64,
// length int32 (of what follows), then, 4 bytes on, the magic byte. A
// batch's last offset delta and record count sit at fixed positions.
const (
	entryOverhead      = 12
	entryMagicAt       = 16
	batchLastDeltaAt   = 23
	batchRecordCountAt = 57
)

// recordsScan is what scanRecords learns from a partition's records.
type recordsScan struct {
	end   int   // bytes of complete entries at the start
	next  int64 // offset after the last complete entry; -1 when none
	count int   // records in them, counting a legacy wrapper as one
	// entries is the number of complete entries (batches, or legacy
	// messages and wrappers).
	entries int
	// need is the size the first entry claims when not even it is
	// complete, 0 when its header is cut too.
	need int
	// corrupt is set when an entry's header cannot be right; scanning
	// stopped before it.
	corrupt bool
}

// scanRecords walks the entries of a Fetch response partition's records by
// their headers only, without checking or decoding them, to learn where
// the next fetch starts. Compaction may leave a batch empty, so the next
// offset comes from the batch's last offset, not from its records. A
// legacy entry's offset is that of its last inner message.
//
// Brokers cut responses at a byte limit, and Kafka 3.9 down-converting for
// old Fetch versions may end with a padding entry that claims more bytes
// than remain: both are a partial tail, which the next fetch reads again
// from next.
func scanRecords(records []byte) recordsScan {
	s := recordsScan{next: -1}
	be := binary.BigEndian
	for {
		rest := records[s.end:]
		if len(rest) < entryOverhead {
			return s
		}
		length := int64(int32(be.Uint32(rest[8:])))
		if length < entryMagicAt+1-entryOverhead {
			s.corrupt = true
			return s
		}
		size := entryOverhead + length
		if size > int64(len(rest)) {
			if s.end == 0 {
				s.need = int(min(size, 1<<31-1))
			}
			return s
		}
		last := int64(be.Uint64(rest))
		if rest[entryMagicAt] == protocol.RecordBatchMagic {
			if size < protocol.RecordBatchHeaderSize {
				s.corrupt = true
				return s
			}
			last += int64(int32(be.Uint32(rest[batchLastDeltaAt:])))
			s.count += int(max(int32(be.Uint32(rest[batchRecordCountAt:])), 0))
		} else {
			s.count++
		}
		s.next = max(s.next, last+1)
		s.end += int(size)
		s.entries++
	}
}
