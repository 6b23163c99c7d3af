package protocol

import (
	"encoding/binary"
	"time"
)

// Record is one Kafka record, from either a record batch (magic 2) or a
// legacy message (magic 0 and 1).
//
// Timestamp is milliseconds since the Unix epoch, as on the wire; -1 means
// the record has none (magic 0). Use Time for a time.Time. Keeping the raw
// int64 avoids converting every record on the hot path.
//
// A nil Key or Value is null on the wire; an empty non-nil slice is an empty
// value. Decoded records alias the buffer they were decoded from (see
// RecordDecoder): copy Key and Value to keep them past the buffer's life.
type Record struct {
	Offset    int64
	Timestamp int64
	Key       []byte
	Value     []byte
	Headers   []RecordHeader
}

// RecordHeader is a record header. Headers exist only in record batches
// (magic 2); a nil Value is null.
type RecordHeader struct {
	Key   string
	Value []byte
}

// Time returns the record's timestamp, or the zero time if it has none.
func (r *Record) Time() time.Time {
	if r.Timestamp < 0 {
		return time.Time{}
	}
	return time.UnixMilli(r.Timestamp)
}

// RecordControlType is the type carried in the key of a control record, the
// marker a transaction coordinator writes into a control batch.
type RecordControlType int16

const (
	RecordControlAbort  RecordControlType = 0
	RecordControlCommit RecordControlType = 1
)

// ParseRecordControlKey reads the key of a record in a control batch:
// int16 version, int16 type. ok is false when the key is too short or of a
// negative version; newer versions may append fields, which are ignored.
func ParseRecordControlKey(key []byte) (typ RecordControlType, ok bool) {
	if len(key) < 4 || int16(binary.BigEndian.Uint16(key)) < 0 {
		return 0, false
	}
	return RecordControlType(binary.BigEndian.Uint16(key[2:])), true
}
