package protocol

import (
	"fmt"
	"math"
)

// RecordBatchBuilder encodes records into a batch one at a time, so a
// producer can watch the batch grow (Size) and stop before a limit. Records
// get consecutive offset deltas 0, 1, 2...; the base timestamp is the first
// record's. The zero value is ready after Reset; once warmed up, Add and
// Build do not allocate.
type RecordBatchBuilder struct {
	header RecordBatch
	recs   []byte // encoded, uncompressed records
	count  int
	baseTS int64
	maxTS  int64
}

// Reset starts a new batch with header's fields (base offset, leader epoch,
// attributes, producer id, epoch and base sequence; Records is ignored),
// keeping the buffer.
func (bb *RecordBatchBuilder) Reset(header *RecordBatch) {
	bb.header = *header
	bb.header.Records = nil
	bb.recs = bb.recs[:0]
	bb.count = 0
}

// Add appends a record with the given timestamp (ms since the epoch).
func (bb *RecordBatchBuilder) Add(timestamp int64, key, value []byte, headers []RecordHeader) {
	if bb.count == 0 {
		bb.baseTS, bb.maxTS = timestamp, timestamp
	}
	bb.recs = recAppendRecord(bb.recs, timestamp-bb.baseTS, int64(bb.count), key, value, headers)
	bb.maxTS = max(bb.maxTS, timestamp)
	bb.count++
}

// SizeOf returns how many bytes Add with these arguments would add to Size.
func (bb *RecordBatchBuilder) SizeOf(timestamp int64, key, value []byte, headers []RecordHeader) int {
	base := timestamp
	if bb.count > 0 {
		base = bb.baseTS
	}
	return recSize(timestamp-base, int64(bb.count), key, value, headers)
}

// Len returns the number of records added since Reset.
func (bb *RecordBatchBuilder) Len() int { return bb.count }

// Size returns the uncompressed size of the batch, header included.
func (bb *RecordBatchBuilder) Size() int { return RecordBatchHeaderSize + len(bb.recs) }

// Build appends the batch, compressed with codec, to dst. The builder is
// unchanged, so the same records can be built again (say, with another
// codec after a broker rejected one).
func (bb *RecordBatchBuilder) Build(dst []byte, codec Compression) ([]byte, error) {
	if codec < CompressionNone || codec > CompressionZstd {
		return dst, codecUnsupported(codec)
	}
	if bb.count > math.MaxInt32 {
		return dst, fmt.Errorf("protocol: %d records in one batch: %w", bb.count, ErrRecordListTooLarge)
	}
	h := batchHeader{
		baseTimestamp:   bb.header.BaseTimestamp,
		maxTimestamp:    bb.header.MaxTimestamp,
		lastOffsetDelta: bb.header.LastOffsetDelta,
		count:           int32(bb.count),
	}
	if bb.count > 0 {
		h.baseTimestamp = bb.baseTS
		h.lastOffsetDelta = int32(bb.count - 1)
		if !bb.header.LogAppendTime() {
			h.maxTimestamp = bb.maxTS
		}
	}
	start := len(dst)
	dst = codecGrowLen(dst, RecordBatchHeaderSize)
	var err error
	if dst, err = codecCompress(dst, bb.recs, codec, false); err != nil {
		return dst[:start], err
	}
	return batchFinish(dst, start, &bb.header, codec, &h)
}
