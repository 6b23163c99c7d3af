package protocol

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
)

// RecordDecoder walks the records field of a Fetch response partition: a
// sequence of record batches (magic 2) and legacy messages (magic 0 and 1),
// possibly mixed, that normally ends with a partial batch because brokers
// cut responses at a byte limit. A truncated tail is not an error: the
// decode functions return how many bytes they consumed, and anything after
// that is the partial batch, to be fetched again from the next offset.
//
// Checksums are verified (CRC-32C for batches, CRC-32 for legacy messages)
// and a mismatch, like any malformed batch, fails with an error wrapping
// ErrCorruptMessage.
//
// Ownership: records alias memory rather than copying it. Key, Value and
// header values of uncompressed batches point into the input; those of
// compressed batches point into a buffer allocated per batch; header slices
// come from an arena allocated per batch. Neither is reused unless
// ReuseBuffers is set. Header keys are strings, shared between records when
// they repeat.
//
// A RecordDecoder keeps scratch space between calls; it is not safe for
// concurrent use. The zero value is ready to use.
type RecordDecoder struct {
	// MaxDecompressedSize caps the decompressed size of one batch or legacy
	// wrapper; 0 means DefaultMaxDecompressedSize. Set it to at least the
	// fetch's max bytes times the largest expected compression ratio.
	MaxDecompressedSize int

	// MinOffset skips records below it without materialising them, and
	// batches that end below it without checking or decompressing them
	// (fn is not called for those). A consumer sets it to the offset it
	// fetched from: brokers return whole batches, which may start earlier.
	MinOffset int64

	// ReuseBuffers decompresses every batch into the same buffer and keeps
	// header slices in one reused arena: the records' Key, Value and
	// Headers of a compressed batch, and the Headers of any batch, are then
	// valid only until fn returns. It saves an allocation or two per batch.
	// AppendRecords ignores it.
	ReuseBuffers bool

	batch   RecordBatch
	records []Record
	headers []RecordHeader
	buf     []byte
	keys    [recKeyCacheSize]string
	nextKey int
}

// DecodeRecordBatches decodes data with a zero RecordDecoder; see
// RecordDecoder.DecodeBatches.
func DecodeRecordBatches(data []byte, fn func(*RecordBatch) error) (consumed int, err error) {
	var d RecordDecoder
	return d.DecodeBatches(data, fn)
}

// DecodeBatches calls fn for every complete batch or legacy entry in data,
// in order, including control batches and batches left empty by compaction
// (the consumer advances past LastOffset). The *RecordBatch and its Records
// slice are reused for the next call: copy the Record values to keep them.
//
// consumed is the number of bytes of complete entries decoded; when it is
// less than len(data) and err is nil, the rest is a partial entry. If that
// leaves consumed at 0, the first batch is larger than the fetch allowed
// (possible before Fetch v3): fetch again with a larger size. An error from
// fn stops the walk and is returned as is.
func (d *RecordDecoder) DecodeBatches(data []byte, fn func(*RecordBatch) error) (consumed int, err error) {
	return d.walk(data, nil, fn)
}

// AppendRecords appends the data records of every complete batch in data to
// dst, skipping control batches, and returns the extended slice; consumed
// is as for DecodeBatches. Appended records own their headers slices and
// alias data or a per-batch decompression buffer. Transactional filtering
// (dropping aborted producers' records) is left to the caller, who holds the
// aborted transaction list.
func (d *RecordDecoder) AppendRecords(dst []Record, data []byte) ([]Record, int, error) {
	n, err := d.walk(data, &dst, nil)
	return dst, n, err
}

// walk decodes entries until data runs out. With out set, records are
// appended to *out and must stay valid; otherwise they go to d.records and
// fn sees each batch.
func (d *RecordDecoder) walk(data []byte, out *[]Record, fn func(*RecordBatch) error) (int, error) {
	pos := 0
	for {
		rest := data[pos:]
		if len(rest) < batchLogOverhead {
			return pos, nil
		}
		length := int32(binary.BigEndian.Uint32(rest[batchLogOverhead-4:]))
		// The length must reach the magic byte at least.
		if length < batchOffMagic+1-batchLogOverhead {
			return pos, recCorrupt(rest, "entry length %d too small", length)
		}
		if int64(length) > int64(len(rest)-batchLogOverhead) {
			return pos, nil // partial tail
		}
		entry := rest[:batchLogOverhead+int(length)]
		// Brokers never assign a negative offset; skipping such an entry as
		// "below MinOffset" would drop it without a word.
		if int64(binary.BigEndian.Uint64(entry)) < 0 {
			return pos, recCorrupt(entry, "negative offset")
		}

		var recs []Record
		if out != nil {
			recs = *out
		} else {
			recs = d.records[:0]
		}
		first := len(recs)
		var emit bool
		var err error
		switch magic := entry[batchOffMagic]; magic {
		case RecordBatchMagic:
			recs, emit, err = d.decodeBatch(entry, recs, out != nil)
		case 0, 1:
			recs, emit, err = d.decodeLegacy(entry, recs, out != nil)
		default:
			err = recCorrupt(entry, "unknown magic %d", magic)
		}
		if err != nil {
			if out != nil {
				*out = recs[:first]
			}
			return pos, err
		}
		if out != nil {
			if !emit || d.batch.Control() {
				recs = recs[:first]
			}
			*out = recs
		} else {
			d.records = recs
			if emit && fn != nil {
				d.batch.Records = recs[first:]
				if err := fn(&d.batch); err != nil {
					return pos, err
				}
			}
		}
		pos += len(entry)
	}
}

func (d *RecordDecoder) limit() int {
	if d.MaxDecompressedSize > 0 {
		return d.MaxDecompressedSize
	}
	return DefaultMaxDecompressedSize
}

// decodeBatch decodes a magic 2 batch into d.batch, appending its records
// to recs. emit is false when the batch was skipped by MinOffset.
func (d *RecordDecoder) decodeBatch(entry []byte, recs []Record, retain bool) ([]Record, bool, error) {
	if len(entry) < RecordBatchHeaderSize {
		return recs, false, recCorrupt(entry, "batch of %d bytes is shorter than its header", len(entry))
	}
	be := binary.BigEndian
	b := &d.batch
	*b = RecordBatch{
		BaseOffset:           int64(be.Uint64(entry)),
		PartitionLeaderEpoch: int32(be.Uint32(entry[batchOffLeaderEpoch:])),
		Magic:                RecordBatchMagic,
		Attributes:           int16(be.Uint16(entry[batchOffAttributes:])),
		LastOffsetDelta:      int32(be.Uint32(entry[batchOffLastOffsetDelta:])),
		BaseTimestamp:        int64(be.Uint64(entry[batchOffBaseTimestamp:])),
		MaxTimestamp:         int64(be.Uint64(entry[batchOffMaxTimestamp:])),
		ProducerID:           int64(be.Uint64(entry[batchOffProducerID:])),
		ProducerEpoch:        int16(be.Uint16(entry[batchOffProducerEpoch:])),
		BaseSequence:         int32(be.Uint32(entry[batchOffBaseSequence:])),
	}
	if b.LastOffsetDelta < 0 {
		return recs, false, recCorrupt(entry, "last offset delta %d", b.LastOffsetDelta)
	}
	if b.LastOffset() < d.MinOffset {
		return recs, false, nil
	}
	if crc := be.Uint32(entry[batchOffCRC:]); crc != crcCastagnoli(entry[batchOffAttributes:]) {
		return recs, false, recCorrupt(entry, "crc mismatch")
	}
	if retain && b.Control() {
		return recs, false, nil // AppendRecords drops transaction markers
	}
	count := int32(be.Uint32(entry[batchOffRecordCount:]))
	body := entry[RecordBatchHeaderSize:]
	if codec := b.Compression(); codec != CompressionNone {
		var dst []byte
		reuse := d.ReuseBuffers && !retain
		if reuse {
			dst = d.buf[:0]
		}
		out, err := codecDecompress(dst, body, codec, d.limit(), false)
		if err != nil {
			return recs, false, fmt.Errorf("protocol: record batch at offset %d: %w", b.BaseOffset, err)
		}
		if reuse {
			d.buf = out
		}
		body = out
	}
	// Every record takes at least recMinSize bytes: cap the count by the
	// bytes present before sizing anything by it.
	if count < 0 || int64(count) > int64(len(body)/recMinSize) {
		return recs, false, recCorrupt(entry, "record count %d does not fit %d bytes", count, len(body))
	}
	// Trust the count for sizing only up to a point: a lying count over
	// junk bytes must not cost a dozen times the input in Record structs.
	recs = slices.Grow(recs, min(int(count), recPreallocMax))
	recs, err := d.decodeRecords(body, int(count), recs, retain)
	if err != nil {
		return recs, false, fmt.Errorf("protocol: record batch at offset %d: %w", b.BaseOffset, err)
	}
	return recs, true, nil
}

// recPreallocMax bounds how many records a batch's count may preallocate;
// larger batches grow as their records are actually parsed.
const recPreallocMax = 16 << 10

// recMinSize is the smallest encoded record: length, attributes, timestamp
// delta, offset delta, key length, value length, header count.
const recMinSize = 7

// decodeRecords parses count records from body for d.batch.
func (d *RecordDecoder) decodeRecords(body []byte, count int, recs []Record, retain bool) ([]Record, error) {
	b := &d.batch
	baseOffset, baseTS, maxTS := b.BaseOffset, b.BaseTimestamp, b.MaxTimestamp
	logAppend := b.LogAppendTime()
	minOffset := d.MinOffset
	// Headers go into one arena per batch. It is reused only with
	// ReuseBuffers, where nothing outlives the callback anyway.
	reuseHeaders := d.ReuseBuffers && !retain
	var hdrs []RecordHeader
	if reuseHeaders {
		hdrs = d.headers[:0]
	}
	pos := 0
	// Offset deltas rise strictly (compaction leaves gaps) and end at or
	// before the header's last one: any other record's offset is a lie that
	// MinOffset would otherwise turn into a silent skip.
	prevDelta, lastDelta := int64(-1), int64(b.LastOffsetDelta)
	for i := range count {
		size, n := recVarint(body[pos:])
		if n == 0 {
			size, n = recVarintSlow(body[pos:])
		}
		if n <= 0 || size < 1 || size > int64(len(body)-pos-n) {
			return recs, recErr("bad record length")
		}
		pos += n
		rec := body[pos : pos+int(size)]
		pos += int(size)

		p := 1 // attributes: unused since magic 2
		tsDelta, n := recVarint(rec[p:])
		if n == 0 {
			tsDelta, n = recVarintSlow(rec[p:])
		}
		if n <= 0 {
			return recs, recErr("bad timestamp delta")
		}
		p += n
		offDelta, n := recVarint(rec[p:])
		if n == 0 {
			offDelta, n = recVarintSlow(rec[p:])
		}
		if n <= 0 || offDelta < 0 || offDelta > math.MaxInt32 {
			return recs, recErr("bad offset delta")
		}
		if offDelta <= prevDelta || offDelta > lastDelta {
			return recs, recErr(fmt.Sprintf("offset delta %d after %d, last offset delta %d", offDelta, prevDelta, lastDelta))
		}
		prevDelta = offDelta
		p += n
		offset := baseOffset + offDelta
		if offset < minOffset {
			continue // the length prefix lets us skip the body unparsed
		}
		key, p, ok := recReadBytes(rec, p)
		if !ok {
			return recs, recErr("bad key")
		}
		value, p, ok := recReadBytes(rec, p)
		if !ok {
			return recs, recErr("bad value")
		}
		nh, n := recVarint(rec[p:])
		if n == 0 {
			nh, n = recVarintSlow(rec[p:])
		}
		// A header takes at least two bytes (key and value lengths).
		if n <= 0 || nh < 0 || nh > int64(len(rec)-p-n)/2 {
			return recs, recErr("bad header count")
		}
		p += n
		var headers []RecordHeader
		if nh > 0 {
			if hdrs == nil {
				// Guess that the remaining records carry as many headers;
				// the cap keeps a lying count from sizing the arena.
				hdrs = make([]RecordHeader, 0, min(int(nh)*(count-i), 1024))
			}
			h0 := len(hdrs)
			for range nh {
				kl, n := recVarint(rec[p:])
				if n == 0 {
					kl, n = recVarintSlow(rec[p:])
				}
				if n <= 0 || kl < 0 || kl > int64(len(rec)-p-n) {
					return recs, recErr("bad header key")
				}
				p += n
				hk := d.headerKey(rec[p : p+int(kl)])
				p += int(kl)
				var hv []byte
				if hv, p, ok = recReadBytes(rec, p); !ok {
					return recs, recErr("bad header value")
				}
				hdrs = append(hdrs, RecordHeader{Key: hk, Value: hv})
			}
			// Earlier records keep pointing at the old array if append
			// moved it; its contents stay correct, so nothing to fix up.
			headers = hdrs[h0:len(hdrs):len(hdrs)]
		}
		if p != len(rec) {
			return recs, recErr("bytes after record fields")
		}
		ts := baseTS + tsDelta
		if logAppend {
			ts = maxTS
		}
		recs = append(recs, Record{Offset: offset, Timestamp: ts, Key: key, Value: value, Headers: headers})
	}
	if pos != len(body) {
		return recs, recErr("bytes after last record")
	}
	if reuseHeaders {
		d.headers = hdrs
	}
	return recs, nil
}

// recKeyCacheSize bounds the header keys remembered between records: keys
// repeat (trace ids, content types), and reusing the string saves an
// allocation per header.
const recKeyCacheSize = 8

func (d *RecordDecoder) headerKey(b []byte) string {
	for i := range d.keys {
		if d.keys[i] == string(b) { // compiles to a comparison, no allocation
			return d.keys[i]
		}
	}
	s := string(b)
	d.keys[d.nextKey%recKeyCacheSize] = s
	d.nextKey++
	return s
}

// recVarint decodes a one- or two-byte zigzag varint (magnitude below 8192:
// most lengths and deltas) and is cheap enough to inline. For anything else
// it returns n == 0 and the caller falls back to recVarintSlow.
func recVarint(b []byte) (v int64, n int) {
	if len(b) > 0 && b[0] < 0x80 {
		return int64(b[0]>>1) ^ -int64(b[0]&1), 1
	}
	if len(b) > 1 && b[1] < 0x80 {
		u := uint64(b[0]&0x7f) | uint64(b[1])<<7
		return int64(u>>1) ^ -int64(u&1), 2
	}
	return 0, 0
}

// recVarintSlow decodes any zigzag varint; n <= 0 means malformed or short.
//
//go:noinline
func recVarintSlow(b []byte) (int64, int) { return binary.Varint(b) }

// recReadBytes reads varint-length-prefixed bytes at p; a negative length is
// null. The slice is capped so appending to it cannot clobber what follows.
func recReadBytes(b []byte, p int) ([]byte, int, bool) {
	l, n := recVarint(b[p:])
	if n == 0 {
		l, n = recVarintSlow(b[p:])
	}
	if n <= 0 {
		return nil, p, false
	}
	p += n
	if l < 0 {
		return nil, p, true
	}
	if l > int64(len(b)-p) {
		return nil, p, false
	}
	end := p + int(l)
	return b[p:end:end], end, true
}

func recErr(reason string) error {
	return fmt.Errorf("%w: %s", ErrCorruptMessage, reason)
}

// recCorrupt describes a bad entry by its (claimed) offset.
func recCorrupt(entry []byte, format string, args ...any) error {
	offset := int64(-1)
	if len(entry) >= 8 {
		offset = int64(binary.BigEndian.Uint64(entry))
	}
	return fmt.Errorf("protocol: entry at offset %d: %w: %s", offset, ErrCorruptMessage, fmt.Sprintf(format, args...))
}
