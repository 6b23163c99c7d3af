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
// compressed batches point into a buffer allocated per batch, of exactly the
// decompressed size (decompression itself runs in pooled scratch space that
// records never see), or with SharedBuffers into a chunk shared by many
// LZ4 and zstd batches; header slices come from an arena allocated per batch.
// Neither is reused unless ReuseBuffers is set. Header keys are strings,
// shared between records when they repeat.
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

	// SharedBuffers decompresses LZ4 batches, and zstd batches declaring
	// their size, back to back into shared chunks of 1 MiB, in place,
	// instead of into a buffer per batch: no
	// copy, and one allocation for many batches, while records stay valid
	// as long as they are referenced. The price: a record kept alive keeps
	// its whole chunk alive. ReuseBuffers takes precedence.
	SharedBuffers bool

	// Checked lists batches of the next walk's input (DecodeBatches,
	// EachBatch or AppendRecords) whose checksums a FetchChecker verified
	// as the response arrived, in order: a batch found at the same offset
	// with the same length and checksum is not hashed again. The walk
	// clears it.
	Checked []CheckedBatch

	batch   RecordBatch
	iter    RecordIter
	records []Record
	headers []RecordHeader
	buf     []byte
	shared  []byte // SharedBuffers: the chunk being filled
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
	return d.walk(data, nil, fn, nil)
}

// EachBatch is DecodeBatches for a caller that copies records into a type of
// its own: fn gets each batch with Records nil and an iterator that decodes
// the batch's records one Next at a time, into a Record returned by value,
// so no slice of Records is written only to be copied again. The batch's
// header and checksum are verified before fn is called; its records are
// verified as Next reads them, and when one is malformed Next stops and Err
// says why: the records it returned from that batch must then be dropped,
// and EachBatch returns the error (unless fn returns one of its own) with
// consumed at the batch's start, as DecodeBatches would. Records fn leaves
// unread are not checked. The iterator is valid only until fn returns.
func (d *RecordDecoder) EachBatch(data []byte, fn func(*RecordBatch, *RecordIter) error) (consumed int, err error) {
	return d.walk(data, nil, nil, fn)
}

// AppendRecords appends the data records of every complete batch in data to
// dst, skipping control batches, and returns the extended slice; consumed
// is as for DecodeBatches. Appended records own their headers slices and
// alias data or a per-batch decompression buffer. Transactional filtering
// (dropping aborted producers' records) is left to the caller, who holds the
// aborted transaction list.
func (d *RecordDecoder) AppendRecords(dst []Record, data []byte) ([]Record, int, error) {
	n, err := d.walk(data, &dst, nil, nil)
	return dst, n, err
}

// walk decodes entries until data runs out. With out set, records are
// appended to *out and must stay valid; with each set, a batch's records
// are left to the iterator each gets; otherwise they go to d.records and
// fn sees each batch.
func (d *RecordDecoder) walk(data []byte, out *[]Record, fn func(*RecordBatch) error, each func(*RecordBatch, *RecordIter) error) (int, error) {
	lazy := each != nil
	checked := d.Checked
	d.Checked = nil
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
			for len(checked) > 0 && int(checked[0].At) < pos {
				checked = checked[1:]
			}
			verified := len(checked) > 0 && int(checked[0].At) == pos && int(checked[0].Len) == len(entry) &&
				checked[0].CRC == binary.BigEndian.Uint32(entry[batchOffCRC:])
			recs, emit, err = d.decodeBatch(entry, recs, out != nil, lazy, verified)
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
		} else if lazy {
			d.records = recs
			if emit {
				if entry[batchOffMagic] != RecordBatchMagic {
					d.iter = RecordIter{d: d, recs: recs[first:], legacy: true} // decoded already
				}
				d.batch.Records = nil
				err := each(&d.batch, &d.iter)
				if err == nil {
					err = d.iter.err
				}
				if err != nil {
					return pos, err
				}
			}
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

// decompress returns a compressed batch's or wrapper's payload. With
// ReuseBuffers (and not retain) it lands in d.buf, valid until the next
// batch; otherwise in a buffer of its exact size that the records own.
func (d *RecordDecoder) decompress(src []byte, codec Compression, legacyLZ4, retain bool) ([]byte, error) {
	if d.SharedBuffers && (!d.ReuseBuffers || retain) {
		return d.decompressShared(src, codec, legacyLZ4)
	}
	if !d.ReuseBuffers || retain {
		return codecDecompressOwned(src, codec, d.limit(), legacyLZ4)
	}
	out, err := codecDecompress(d.buf[:0], src, codec, d.limit(), legacyLZ4)
	if cap(out) > cap(d.buf) {
		d.buf = out[:0]
	}
	return out, err
}

// decodeBatch decodes a magic 2 batch into d.batch, appending its records
// to recs. emit is false when the batch was skipped by MinOffset.
// verified is set when the batch's checksum was checked already.
func (d *RecordDecoder) decodeBatch(entry []byte, recs []Record, retain, lazy, verified bool) ([]Record, bool, error) {
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
	if crc := be.Uint32(entry[batchOffCRC:]); !verified && crc != crcCastagnoli(entry[batchOffAttributes:]) {
		return recs, false, recCorrupt(entry, "crc mismatch")
	}
	if retain && b.Control() {
		return recs, false, nil // AppendRecords drops transaction markers
	}
	count := int32(be.Uint32(entry[batchOffRecordCount:]))
	body := entry[RecordBatchHeaderSize:]
	if codec := b.Compression(); codec != CompressionNone {
		out, err := d.decompress(body, codec, false, retain)
		if err != nil {
			return recs, false, fmt.Errorf("protocol: record batch at offset %d: %w", b.BaseOffset, err)
		}
		body = out
	}
	// Every record takes at least recMinSize bytes: cap the count by the
	// bytes present before sizing anything by it.
	if count < 0 || int64(count) > int64(len(body)/recMinSize) {
		return recs, false, recCorrupt(entry, "record count %d does not fit %d bytes", count, len(body))
	}
	d.iter = d.newIter(body, int(count), retain)
	if lazy {
		return recs, true, nil
	}
	// Trust the count for sizing only up to a point: a lying count over
	// junk bytes must not cost a dozen times the input in Record structs.
	recs = slices.Grow(recs, min(int(count), recPreallocMax))
	it := &d.iter
	for {
		r, ok := it.Next()
		if !ok {
			break
		}
		recs = append(recs, r)
	}
	return recs, it.err == nil, it.err
}

// recPreallocMax bounds how many records a batch's count may preallocate;
// larger batches grow as their records are actually parsed.
const recPreallocMax = 16 << 10

// recMinSize is the smallest encoded record: length, attributes, timestamp
// delta, offset delta, key length, value length, header count.
const recMinSize = 7

// RecordIter reads the records of one batch for RecordDecoder.EachBatch.
type RecordIter struct {
	d         *RecordDecoder
	body      []byte
	pos       int
	i, count  int
	prevDelta int64
	hdrs      []RecordHeader // this batch's header arena
	reuseHdrs bool           // the arena is d.headers, reused across batches
	done      bool
	err       error
	recs      []Record // a legacy entry's records, decoded already
	legacy    bool
}

// newIter starts reading count records from body for d.batch. Headers go
// into one arena per batch, reused only with ReuseBuffers, where nothing
// outlives the callback anyway.
func (d *RecordDecoder) newIter(body []byte, count int, retain bool) RecordIter {
	it := RecordIter{d: d, body: body, count: count, prevDelta: -1, reuseHdrs: d.ReuseBuffers && !retain}
	if it.reuseHdrs {
		it.hdrs = d.headers[:0]
	}
	return it
}

// Len is the number of records the batch claims, checked against its
// bytes (each record takes at least a few): an upper bound for sizing.
// Records below MinOffset are counted but not returned.
func (it *RecordIter) Len() int {
	if it.legacy {
		return len(it.recs)
	}
	return it.count
}

// Err is why Next stopped early: the batch is malformed.
func (it *RecordIter) Err() error { return it.err }

// Next decodes the next record at or above the decoder's MinOffset; ok is
// false when the batch has no more, or, with Err set, is malformed.
func (it *RecordIter) Next() (r Record, ok bool) {
	if it.legacy {
		if it.i < len(it.recs) {
			it.i++
			return it.recs[it.i-1], true
		}
		return Record{}, false
	}
	if it.done {
		return Record{}, false
	}
	d := it.d
	b := &d.batch
	body := it.body
	// Offset deltas rise strictly (compaction leaves gaps) and end at or
	// before the header's last one: any other record's offset is a lie that
	// MinOffset would otherwise turn into a silent skip.
	lastDelta := int64(b.LastOffsetDelta)
	for it.i < it.count {
		it.i++
		pos := it.pos
		size, n := recVarint(body[pos:])
		if n == 0 {
			size, n = recVarintSlow(body[pos:])
		}
		if n <= 0 || size < 1 || size > int64(len(body)-pos-n) {
			return it.fail("bad record length")
		}
		pos += n
		rec := body[pos : pos+int(size)]
		it.pos = pos + int(size)

		p := 1 // attributes: unused since magic 2
		tsDelta, n := recVarint(rec[p:])
		if n == 0 {
			tsDelta, n = recVarintSlow(rec[p:])
		}
		if n <= 0 {
			return it.fail("bad timestamp delta")
		}
		p += n
		offDelta, n := recVarint(rec[p:])
		if n == 0 {
			offDelta, n = recVarintSlow(rec[p:])
		}
		if n <= 0 || offDelta < 0 || offDelta > math.MaxInt32 {
			return it.fail("bad offset delta")
		}
		if offDelta <= it.prevDelta || offDelta > lastDelta {
			return it.fail(fmt.Sprintf("offset delta %d after %d, last offset delta %d", offDelta, it.prevDelta, lastDelta))
		}
		it.prevDelta = offDelta
		p += n
		offset := b.BaseOffset + offDelta
		if offset < d.MinOffset {
			continue // the length prefix lets us skip the body unparsed
		}
		key, p, ok := recReadBytes(rec, p)
		if !ok {
			return it.fail("bad key")
		}
		value, p, ok := recReadBytes(rec, p)
		if !ok {
			return it.fail("bad value")
		}
		nh, n := recVarint(rec[p:])
		if n == 0 {
			nh, n = recVarintSlow(rec[p:])
		}
		// A header takes at least two bytes (key and value lengths).
		if n <= 0 || nh < 0 || nh > int64(len(rec)-p-n)/2 {
			return it.fail("bad header count")
		}
		p += n
		var headers []RecordHeader
		if nh > 0 {
			if headers, p, ok = it.readHeaders(rec, p, int(nh)); !ok {
				return it.fail("bad header")
			}
		}
		if p != len(rec) {
			return it.fail("bytes after record fields")
		}
		ts := b.BaseTimestamp + tsDelta
		if b.LogAppendTime() {
			ts = b.MaxTimestamp
		}
		return Record{Offset: offset, Timestamp: ts, Key: key, Value: value, Headers: headers}, true
	}
	it.done = true
	if it.pos != len(body) {
		return it.fail("bytes after last record")
	}
	if it.reuseHdrs {
		d.headers = it.hdrs
	}
	return Record{}, false
}

// readHeaders reads nh headers at p into the batch's arena.
func (it *RecordIter) readHeaders(rec []byte, p, nh int) ([]RecordHeader, int, bool) {
	if it.hdrs == nil {
		// Guess that the remaining records carry as many headers; the cap
		// keeps a lying count from sizing the arena.
		it.hdrs = make([]RecordHeader, 0, min(nh*(it.count-it.i+1), 1024))
	}
	h0 := len(it.hdrs)
	for range nh {
		kl, n := recVarint(rec[p:])
		if n == 0 {
			kl, n = recVarintSlow(rec[p:])
		}
		if n <= 0 || kl < 0 || kl > int64(len(rec)-p-n) {
			return nil, p, false
		}
		p += n
		hk := it.d.headerKey(rec[p : p+int(kl)])
		p += int(kl)
		hv, np, ok := recReadBytes(rec, p)
		if !ok {
			return nil, p, false
		}
		p = np
		it.hdrs = append(it.hdrs, RecordHeader{Key: hk, Value: hv})
	}
	// Earlier records keep pointing at the old array if append moved it;
	// its contents stay correct, so nothing to fix up.
	return it.hdrs[h0:len(it.hdrs):len(it.hdrs)], p, true
}

// fail stops the iterator with a malformed-record error.
func (it *RecordIter) fail(reason string) (Record, bool) {
	it.done = true
	it.err = fmt.Errorf("protocol: record batch at offset %d: %w", it.d.batch.BaseOffset, recErr(reason))
	return Record{}, false
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
