package protocol

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestScanRecords(t *testing.T) {
	at := func(base int64, n int) []Record {
		recs := testRecords(n, false)
		for i := range recs {
			recs[i].Offset = base + int64(i)
		}
		return recs
	}
	b1 := mustBatch(t, &RecordBatch{BaseOffset: 10, Records: at(10, 3)}, CompressionNone)
	b2 := mustBatch(t, &RecordBatch{BaseOffset: 20, Records: at(20, 2)}, CompressionLZ4)
	data := append(append([]byte(nil), b1...), b2...)

	s := ScanRecords(data)
	assert.Equal(t, RecordsScan{End: len(data), Next: 20 + 2, Count: 5, Entries: 2, Largest: max(len(b1), len(b2))}, s)
	assert.Equal(t, int64(12), EntryLastOffset(b1))
	// Compaction may empty a batch's end: the header's last offset delta
	// counts, not the records.
	compacted := append([]byte(nil), b1...)
	compacted[batchOffLastOffsetDelta+3] = 4
	assert.Equal(t, int64(14), EntryLastOffset(compacted))
	assert.Equal(t, int64(15), ScanRecords(compacted).Next)

	cut := ScanRecords(data[:len(data)-1])
	assert.Equal(t, RecordsScan{End: len(b1), Next: 13, Count: 3, Entries: 1, Cut: len(b2), Largest: len(b1)}, cut,
		"a partial tail is left for the next fetch, which learns its size")
	first := ScanRecords(b1[:len(b1)-1])
	assert.Equal(t, len(b1), first.Need, "the first entry cut: its size is what a fetch must ask")
	assert.Equal(t, len(b1), first.Cut)
	assert.Zero(t, ScanRecords(data[:len(b1)+batchLogOverhead-1]).Cut, "the cut entry's size field is cut too")
	assert.Equal(t, RecordsScan{Next: -1}, ScanRecords(b1[:8]))

	bad := append([]byte(nil), b1...)
	bad[11] = 1 // length 1 cannot reach the magic byte
	assert.True(t, ScanRecords(bad).Corrupt)
}

// FuzzScanRecords holds ScanRecords to what the consumer relies on for any
// input: no panic, complete entries within the input, the next offset and
// sizes consistent, and agreement with the full decoder on where complete
// entries end.
func FuzzScanRecords(f *testing.F) {
	fuzzSeedBatches(f)
	fuzzSeedMessageSets(f)
	f.Fuzz(func(t *testing.T, data []byte, _ int64) {
		s := ScanRecords(data)
		if s.End < 0 || s.End > len(data) || (s.End > 0) != (s.Entries > 0) || s.Count < 0 {
			t.Fatalf("scan %+v of %d bytes", s, len(data))
		}
		if s.Need != 0 && (s.End != 0 || s.Need <= len(data)) {
			t.Fatalf("need %d with %d complete bytes of %d", s.Need, s.End, len(data))
		}
		if s.Cut != 0 && s.Cut <= len(data)-s.End || s.End == 0 && s.Cut != s.Need {
			t.Fatalf("cut %d after %d complete bytes of %d (need %d)", s.Cut, s.End, len(data), s.Need)
		}
		if s.Largest > s.End || (s.Largest > 0) != (s.Entries > 0) {
			t.Fatalf("largest %d of %d entries in %d bytes", s.Largest, s.Entries, s.End)
		}
		if s.End == 0 && s.Next != -1 {
			t.Fatalf("next %d without a complete entry", s.Next)
		}
		// Walking entry by entry reaches End exactly, and Next follows the
		// highest last offset.
		pos, next := 0, int64(-1)
		for range s.Entries {
			next = max(next, EntryLastOffset(data[pos:])+1)
			pos += batchLogOverhead + int(binary.BigEndian.Uint32(data[pos+8:]))
		}
		if pos != s.End || next != s.Next {
			t.Fatalf("entries end at %d before offset %d, scan says %+v", pos, next, s)
		}
		d := RecordDecoder{MaxDecompressedSize: fuzzLimit}
		n, err := d.DecodeBatches(data, func(*RecordBatch) error { return nil })
		if err == nil && (n != s.End || s.Corrupt) {
			t.Fatalf("decoder consumed %d cleanly, scan %+v", n, s)
		}
	})
}
