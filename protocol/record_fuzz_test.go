package protocol

import (
	"bytes"
	"testing"
)

// fuzzLimit keeps decompression in fuzzing small and fast.
const fuzzLimit = 1 << 20

func fuzzSeedBatches(f *testing.F) {
	f.Add(mustHex(f, goldenBatchHex), int64(0))
	for _, codec := range allCodecs {
		recs := testRecords(20, true)
		data := mustBatch(f, &RecordBatch{Attributes: BatchAttrTransactional, ProducerID: 3, Records: recs}, codec)
		f.Add(data, int64(0))
		f.Add(data[:len(data)-5], int64(10))
	}
	ctl := mustBatch(f, &RecordBatch{Attributes: BatchAttrControl | BatchAttrLogAppendTime, MaxTimestamp: 9,
		Records: []Record{{Key: []byte{0, 0, 0, 0}, Value: []byte{0, 0, 0, 0, 0, 1}}}}, CompressionNone)
	f.Add(ctl, int64(0))
}

func fuzzSeedMessageSets(f *testing.F) {
	f.Add(append(mustHex(f, goldenMagic0Hex), mustHex(f, goldenMagic1Hex)...), int64(0))
	for _, magic := range []int8{0, 1} {
		for _, codec := range []Compression{CompressionNone, CompressionGzip, CompressionSnappy, CompressionLZ4} {
			data, err := AppendMessageSet(nil, legacyRecords(5, 100), magic, codec)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data, int64(0))
			f.Add(data, int64(103))
		}
	}
}

// fuzzDecode checks what must hold for any input: no panic, consumed within
// bounds, records at or above MinOffset; and that whatever decodes
// re-encodes to the same records.
func fuzzDecode(t *testing.T, data []byte, minOffset int64) {
	d := &RecordDecoder{MaxDecompressedSize: fuzzLimit, MinOffset: minOffset}
	var all []Record
	n, err := d.DecodeBatches(data, func(b *RecordBatch) error {
		all = append(all, b.Records...)
		prev := int64(-1)
		for i := range b.Records {
			off := b.Records[i].Offset
			if off < minOffset {
				t.Fatalf("record at %d below MinOffset %d", off, minOffset)
			}
			// Offsets that cannot be right are errors, never records.
			if off <= prev || off < b.BaseOffset || off > b.LastOffset() {
				t.Fatalf("record at %d after %d in a batch spanning %d..%d", off, prev, b.BaseOffset, b.LastOffset())
			}
			prev = off
		}
		reencodeCheck(t, b)
		return nil
	})
	if n < 0 || n > len(data) {
		t.Fatalf("consumed %d of %d", n, len(data))
	}
	recs, n2, err2 := d.AppendRecords(nil, data)
	if (err == nil) != (err2 == nil) || n != n2 {
		t.Fatalf("AppendRecords disagrees: (%d, %v) vs (%d, %v)", n2, err2, n, err)
	}
	_ = recs

	// EachBatch reads the same records, one Next at a time, and stops
	// where DecodeBatches stops.
	var lazy []Record
	n3, err3 := d.EachBatch(data, func(b *RecordBatch, it *RecordIter) error {
		if b.Records != nil {
			t.Fatal("EachBatch materialised the batch's records")
		}
		start := len(lazy)
		for {
			r, ok := it.Next()
			if !ok {
				break
			}
			lazy = append(lazy, r)
		}
		if it.Err() != nil {
			lazy = lazy[:start]
		}
		return nil
	})
	if (err == nil) != (err3 == nil) || n != n3 {
		t.Fatalf("EachBatch disagrees: (%d, %v) vs (%d, %v)", n3, err3, n, err)
	}
	// So does a decoder decompressing into shared chunks.
	sd := &RecordDecoder{MaxDecompressedSize: fuzzLimit, MinOffset: minOffset, SharedBuffers: true}
	var shared []Record
	n4, err4 := sd.EachBatch(data, func(b *RecordBatch, it *RecordIter) error {
		start := len(shared)
		for {
			r, ok := it.Next()
			if !ok {
				break
			}
			shared = append(shared, r)
		}
		if it.Err() != nil {
			shared = shared[:start]
		}
		return nil
	})
	if (err3 == nil) != (err4 == nil) || n3 != n4 || len(shared) != len(lazy) {
		t.Fatalf("SharedBuffers disagrees: (%d, %v, %d records) vs (%d, %v, %d records)", n4, err4, len(shared), n3, err3, len(lazy))
	}
	for i := range lazy {
		if lazy[i].Offset != shared[i].Offset || !sameBytes(lazy[i].Value, shared[i].Value) || !sameBytes(lazy[i].Key, shared[i].Key) {
			t.Fatalf("record %d differs with SharedBuffers", i)
		}
	}
	if err == nil {
		if len(lazy) != len(all) {
			t.Fatalf("EachBatch read %d records, DecodeBatches %d", len(lazy), len(all))
		}
		for i := range all {
			w, g := &all[i], &lazy[i]
			if w.Offset != g.Offset || w.Timestamp != g.Timestamp || !sameBytes(w.Key, g.Key) || !sameBytes(w.Value, g.Value) ||
				len(w.Headers) != len(g.Headers) {
				t.Fatalf("record %d differs: %+v vs %+v", i, w, g)
			}
		}
	}
}

func reencodeCheck(t *testing.T, b *RecordBatch) {
	var data []byte
	var err error
	if b.Magic == RecordBatchMagic {
		data, err = AppendRecordBatch(nil, b, b.Compression())
	} else {
		data, err = AppendMessageSet(nil, b.Records, 1, CompressionNone)
	}
	if err != nil {
		return // e.g. offsets out of order: not encodable, fine
	}
	var got []Record
	if _, err := DecodeRecordBatches(data, func(b2 *RecordBatch) error {
		got = append(got, b2.Records...)
		return nil
	}); err != nil {
		t.Fatalf("re-encoded batch does not decode: %v", err)
	}
	if len(got) != len(b.Records) {
		t.Fatalf("re-encoded %d records, decoded %d", len(b.Records), len(got))
	}
	for i := range got {
		w, g := &b.Records[i], &got[i]
		if w.Offset != g.Offset || w.Timestamp != g.Timestamp || !sameBytes(w.Key, g.Key) || !sameBytes(w.Value, g.Value) ||
			len(w.Headers) != len(g.Headers) {
			t.Fatalf("record %d differs after re-encoding: %+v vs %+v", i, w, g)
		}
		for j := range w.Headers {
			if w.Headers[j].Key != g.Headers[j].Key || !sameBytes(w.Headers[j].Value, g.Headers[j].Value) {
				t.Fatalf("record %d header %d differs", i, j)
			}
		}
	}
}

// sameBytes is bytes.Equal that also tells null from empty.
func sameBytes(a, b []byte) bool { return (a == nil) == (b == nil) && bytes.Equal(a, b) }

func FuzzDecodeRecordBatches(f *testing.F) {
	fuzzSeedBatches(f)
	f.Fuzz(fuzzDecode)
}

func FuzzDecodeMessageSet(f *testing.F) {
	fuzzSeedMessageSets(f)
	f.Fuzz(fuzzDecode)
}

func FuzzDecompress(f *testing.F) {
	for _, c := range allCodecs {
		for _, in := range [][]byte{nil, []byte("a"), bytes.Repeat([]byte("kafka "), 5000)} {
			enc, err := c.Compress(nil, in)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(uint8(c), enc)
		}
	}
	legacy, _ := codecCompress(nil, []byte("legacy lz4"), CompressionLZ4, true)
	f.Add(uint8(CompressionLZ4|8), legacy)
	f.Fuzz(func(t *testing.T, codec uint8, data []byte) {
		c := Compression(codec & 7)
		out, err := codecDecompress(nil, data, c, fuzzLimit, codec&8 != 0)
		d := RecordDecoder{MaxDecompressedSize: fuzzLimit}
		for range 2 { // the second lands after the first in the same chunk
			sh, serr := d.decompressShared(data, c, codec&8 != 0)
			if (err == nil) != (serr == nil) || err == nil && !bytes.Equal(out, sh) {
				t.Fatalf("%s: shared chunk decoding disagrees: %v vs %v", c, serr, err)
			}
		}
		if err != nil {
			return
		}
		if len(out) > fuzzLimit {
			t.Fatalf("%s produced %d bytes past the %d cap", c, len(out), fuzzLimit)
		}
		enc, err := c.Compress(nil, out)
		if err != nil {
			t.Fatal(err)
		}
		again, err := c.Decompress(nil, enc, fuzzLimit)
		if err != nil || !bytes.Equal(out, again) {
			t.Fatalf("%s round trip of decoded output failed: %v", c, err)
		}
	})
}
