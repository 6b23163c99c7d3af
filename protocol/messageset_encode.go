package protocol

import (
	"encoding/binary"
	"fmt"
	"math"
)

// AppendMessageSet appends records to dst as a legacy message set of the
// given magic (0 or 1), for brokers older than 0.11. Legacy messages have no
// headers; magic 0 has no timestamps (Timestamp is ignored), magic 1 writes
// each record's Timestamp as its create time.
//
// Uncompressed, each record is written at its Offset. Compressed, the
// records become the inner message set of one wrapper message whose offset
// is the last record's Offset; with magic 1 inner offsets are written
// relative to the first record, with magic 0 as given. zstd needs record
// batches and is refused here.
func AppendMessageSet(dst []byte, records []Record, magic int8, codec Compression) ([]byte, error) {
	if magic != 0 && magic != 1 {
		return dst, fmt.Errorf("protocol: message set magic %d: %w", magic, ErrUnsupportedForMessageFormat)
	}
	if codec < CompressionNone || codec > CompressionLZ4 {
		return dst, fmt.Errorf("protocol: %s in a magic %d message set: %w", codec, magic, ErrUnsupportedCompressionType)
	}
	for i := range records {
		if len(records[i].Headers) > 0 {
			return dst, fmt.Errorf("protocol: record headers in a magic %d message set: %w", magic, ErrUnsupportedForMessageFormat)
		}
	}
	start := len(dst)
	if codec == CompressionNone || len(records) == 0 {
		for i := range records {
			r := &records[i]
			var err error
			if dst, err = msAppendMessage(dst, r.Offset, magic, 0, r.Timestamp, r.Key, r.Value); err != nil {
				return dst[:start], err
			}
		}
		return dst, nil
	}

	s := batchScratchPool.Get().(*batchScratch)
	defer batchScratchPool.put(s)
	inner := s.b[:0]
	first, last := records[0].Offset, records[len(records)-1].Offset
	maxTS := records[0].Timestamp
	for i := range records {
		r := &records[i]
		off := r.Offset
		if magic == 1 {
			off -= first
		}
		maxTS = max(maxTS, r.Timestamp)
		var err error
		if inner, err = msAppendMessage(inner, off, magic, 0, r.Timestamp, r.Key, r.Value); err != nil {
			s.b = inner
			return dst[:start], err
		}
	}
	s.b = inner

	// The wrapper: header, null key, then the compressed inner set as value.
	dst, valueLen := msAppendHeader(dst, last, magic, int8(codec), maxTS, nil)
	valueStart := len(dst)
	dst, err := codecCompress(dst, inner, codec, magic == 0 && codec == CompressionLZ4)
	if err != nil {
		return dst[:start], err
	}
	if len(dst)-valueStart > math.MaxInt32 {
		return dst[:start], fmt.Errorf("protocol: compressed message set of %d bytes: %w", len(dst)-valueStart, ErrMessageTooLarge)
	}
	binary.BigEndian.PutUint32(dst[valueLen:], uint32(len(dst)-valueStart))
	return msFinish(dst, start)
}

// msAppendMessage appends one legacy message.
func msAppendMessage(dst []byte, offset int64, magic, attrs int8, ts int64, key, value []byte) ([]byte, error) {
	start := len(dst)
	dst, _ = msAppendHeader(dst, offset, magic, attrs, ts, key)
	dst = dst[:len(dst)-4]
	dst = msAppendBytes(dst, value)
	return msFinish(dst, start)
}

// msAppendHeader appends a message up to and including the key and a
// placeholder value length, whose position it returns.
func msAppendHeader(dst []byte, offset int64, magic, attrs int8, ts int64, key []byte) ([]byte, int) {
	dst = binary.BigEndian.AppendUint64(dst, uint64(offset))
	dst = append(dst, 0, 0, 0, 0, 0, 0, 0, 0, byte(magic), byte(attrs)) // size, crc: filled by msFinish
	if magic == 1 {
		dst = binary.BigEndian.AppendUint64(dst, uint64(ts))
	}
	dst = msAppendBytes(dst, key)
	valueLen := len(dst)
	return append(dst, 0, 0, 0, 0), valueLen
}

func msAppendBytes(dst, b []byte) []byte {
	if b == nil {
		return binary.BigEndian.AppendUint32(dst, math.MaxUint32) // -1
	}
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(b)))
	return append(dst, b...)
}

// msFinish fills in the size and CRC of the message at dst[start:].
func msFinish(dst []byte, start int) ([]byte, error) {
	size := len(dst) - start - batchLogOverhead
	if size > math.MaxInt32 {
		return dst[:start], fmt.Errorf("protocol: message of %d bytes: %w", size, ErrMessageTooLarge)
	}
	binary.BigEndian.PutUint32(dst[start+batchLogOverhead-4:], uint32(size))
	binary.BigEndian.PutUint32(dst[start+msOffCRC:], crcIEEE(dst[start+msOffMagic:]))
	return dst, nil
}
