package protocol

import (
	"encoding/binary"
	"fmt"
)

// Legacy message layout, magic 0 and 1: offset int64, size int32, then the
// message: crc uint32 (CRC-32 IEEE over the rest), magic int8, attributes
// int8, timestamp int64 (magic 1 only), key and value as int32-length bytes
// (-1 = null).
const (
	msOffCRC        = 12
	msOffMagic      = 16
	msOffAttributes = 17
	msOffTimestamp  = 18

	// msMinSizeV0 is a magic 0 message with null key and value; magic 1
	// adds the timestamp.
	msMinSizeV0 = 4 + 1 + 1 + 4 + 4
	msMinSizeV1 = msMinSizeV0 + 8

	msAttrCompression = 0x07
	msAttrLogAppend   = 0x08 // magic 1 only
)

type msMessage struct {
	offset    int64
	magic     int8
	attrs     int8
	timestamp int64 // -1 for magic 0
	key       []byte
	value     []byte
}

// msParse parses one legacy entry; len(entry) is 12 plus its size field.
func msParse(entry []byte) (msMessage, error) {
	be := binary.BigEndian
	m := msMessage{offset: int64(be.Uint64(entry)), magic: int8(entry[msOffMagic]), timestamp: -1}
	minSize := msMinSizeV0
	if m.magic == 1 {
		minSize = msMinSizeV1
	} else if m.magic != 0 {
		return m, recCorrupt(entry, "legacy message with magic %d", m.magic)
	}
	if len(entry)-batchLogOverhead < minSize {
		return m, recCorrupt(entry, "message of %d bytes is shorter than its header", len(entry)-batchLogOverhead)
	}
	if crc := be.Uint32(entry[msOffCRC:]); crc != crcIEEE(entry[msOffMagic:]) {
		return m, recCorrupt(entry, "crc mismatch")
	}
	m.attrs = int8(entry[msOffAttributes])
	p := msOffTimestamp
	if m.magic == 1 {
		m.timestamp = int64(be.Uint64(entry[p:]))
		p += 8
	}
	var ok bool
	if m.key, p, ok = msReadBytes(entry, p); !ok {
		return m, recCorrupt(entry, "bad key length")
	}
	if m.value, p, ok = msReadBytes(entry, p); !ok {
		return m, recCorrupt(entry, "bad value length")
	}
	if p != len(entry) {
		return m, recCorrupt(entry, "%d bytes after the value", len(entry)-p)
	}
	return m, nil
}

func msReadBytes(b []byte, p int) ([]byte, int, bool) {
	if len(b)-p < 4 {
		return nil, p, false
	}
	l := int32(binary.BigEndian.Uint32(b[p:]))
	p += 4
	if l < 0 {
		return nil, p, true
	}
	if int64(l) > int64(len(b)-p) {
		return nil, p, false
	}
	end := p + int(l)
	return b[p:end:end], end, true
}

// decodeLegacy decodes one legacy entry (a plain message or a compressed
// wrapper) into d.batch, appending its records to recs.
func (d *RecordDecoder) decodeLegacy(entry []byte, recs []Record, retain bool) ([]Record, bool, error) {
	// A wrapper's offset is that of its last inner message (for magic 0
	// too, as brokers assign them), so it says whether anything in the
	// entry reaches MinOffset before any work is done.
	if int64(binary.BigEndian.Uint64(entry)) < d.MinOffset {
		return recs, false, nil
	}
	m, err := msParse(entry)
	if err != nil {
		return recs, false, err
	}
	attrMask := int8(msAttrCompression)
	if m.magic == 1 {
		attrMask |= msAttrLogAppend
	}
	d.batch = RecordBatch{
		BaseOffset:           m.offset,
		PartitionLeaderEpoch: -1,
		Magic:                m.magic,
		Attributes:           int16(m.attrs & attrMask),
		BaseTimestamp:        m.timestamp,
		MaxTimestamp:         m.timestamp,
		ProducerID:           -1,
		ProducerEpoch:        -1,
		BaseSequence:         -1,
	}
	codec := Compression(m.attrs & msAttrCompression)
	if codec == CompressionNone {
		return append(recs, Record{Offset: m.offset, Timestamp: m.timestamp, Key: m.key, Value: m.value}), true, nil
	}
	if m.value == nil {
		return recs, false, recCorrupt(entry, "compressed wrapper with null value")
	}
	var dst []byte
	reuse := d.ReuseBuffers && !retain
	if reuse {
		dst = d.buf[:0]
	}
	// Kafka before 0.10 wrote magic 0 LZ4 frames with a wrong header checksum.
	inner, err := codecDecompress(dst, m.value, codec, d.limit(), m.magic == 0)
	if err != nil {
		return recs, false, fmt.Errorf("protocol: message set wrapper at offset %d: %w", m.offset, err)
	}
	if reuse {
		d.buf = inner
	}
	first := len(recs)
	logAppend := m.magic == 1 && m.attrs&msAttrLogAppend != 0
	for p := 0; p < len(inner); {
		rest := inner[p:]
		if len(rest) < batchLogOverhead {
			return recs[:first], false, recCorrupt(entry, "truncated inner message")
		}
		size := int32(binary.BigEndian.Uint32(rest[batchLogOverhead-4:]))
		if size < msMinSizeV0 || int64(size) > int64(len(rest)-batchLogOverhead) {
			return recs[:first], false, recCorrupt(entry, "inner message size %d overruns the wrapper", size)
		}
		im, err := msParse(rest[:batchLogOverhead+int(size)])
		if err != nil {
			return recs[:first], false, fmt.Errorf("protocol: inside wrapper at offset %d: %w", m.offset, err)
		}
		if im.attrs&msAttrCompression != 0 {
			return recs[:first], false, recCorrupt(entry, "nested compression")
		}
		// Inner offsets, absolute (magic 0) or relative (magic 1), rise
		// strictly; compaction may leave gaps.
		if im.offset < 0 || (len(recs) > first && im.offset <= recs[len(recs)-1].Offset) {
			return recs[:first], false, recCorrupt(entry, "inner message offset %d out of order", im.offset)
		}
		ts := im.timestamp
		if logAppend {
			ts = m.timestamp
		}
		recs = append(recs, Record{Offset: im.offset, Timestamp: ts, Key: im.key, Value: im.value})
		p += batchLogOverhead + int(size)
	}
	inRecs := recs[first:]
	if len(inRecs) == 0 {
		return recs, false, recCorrupt(entry, "compressed wrapper without messages")
	}
	// From magic 1 on, inner offsets are relative (0..n-1) and the wrapper
	// carries the absolute offset of the last one.
	// An inner offset that lands below zero, or beyond the wrapper's own
	// offset, cannot be right.
	last := inRecs[len(inRecs)-1].Offset
	if m.magic >= 1 {
		if inRecs[0].Offset+m.offset-last < 0 {
			return recs[:first], false, recCorrupt(entry,
				"inner relative offsets %d..%d under a wrapper at offset %d", inRecs[0].Offset, last, m.offset)
		}
		shift := m.offset - last
		for i := range inRecs {
			inRecs[i].Offset += shift
		}
	} else if last > m.offset {
		return recs[:first], false, recCorrupt(entry, "inner offset %d beyond the wrapper's offset %d", last, m.offset)
	}
	b := &d.batch
	b.BaseOffset = inRecs[0].Offset
	b.LastOffsetDelta = int32(inRecs[len(inRecs)-1].Offset - inRecs[0].Offset)
	b.BaseTimestamp = inRecs[0].Timestamp
	b.MaxTimestamp = inRecs[0].Timestamp
	for i := range inRecs {
		b.MaxTimestamp = max(b.MaxTimestamp, inRecs[i].Timestamp)
	}
	if b.BaseOffset < d.MinOffset {
		kept := inRecs[:0]
		for _, r := range inRecs {
			if r.Offset >= d.MinOffset {
				kept = append(kept, r)
			}
		}
		recs = recs[:first+len(kept)]
	}
	return recs, true, nil
}
