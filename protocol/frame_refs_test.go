package protocol

import (
	"bytes"
	"testing"
)

// joinPieces is the frame a writev of r's pieces puts on the wire.
func joinPieces(r *FrameRefs, buf []byte, from int) []byte {
	return bytes.Join(r.Pieces(nil, buf, from), nil)
}

// TestFrameRefsMatchWholeFrame: whatever the threshold, the pieces joined are the frame AppendRequestFrame
// writes, byte for byte (lengths, batch length and CRC included), at every version with record batches.
func TestFrameRefsMatchWholeFrame(t *testing.T) {
	direct, _ := produceRecordsCase(t)
	// A second batch with several large values, one at the very end, and a value of exactly the threshold.
	big := testSource{
		{Timestamp: 1_700_000_000_000, Key: []byte("a"), Value: bytes.Repeat([]byte("A"), 5000)},
		{Timestamp: 1_700_000_000_001, Value: bytes.Repeat([]byte("B"), 299)},
		{Timestamp: 1_700_000_000_002, Value: bytes.Repeat([]byte("C"), 300), Headers: []RecordHeader{{Key: "h", Value: []byte("v")}}},
		{Timestamp: 1_700_000_000_003, Value: bytes.Repeat([]byte("D"), 70000)},
	}
	direct.Partitions = append(direct.Partitions, ProduceRecordsPartition{Index: 9,
		Batch: RecordBatch{ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1}, Source: big})
	for v := int16(3); v <= 13; v++ {
		want, err := AppendRequestFrame([]byte("prefix"), direct, v, 7, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, min := range []int{1, 300, 301, 4096, 1 << 20} {
			r := FrameRefs{Min: min}
			buf, err := AppendRequestFrameRefs([]byte("prefix"), &r, direct, v, 7, nil)
			if err != nil {
				t.Fatalf("v%d min %d: %v", v, min, err)
			}
			if got := joinPieces(&r, buf, 0); !bytes.Equal(got, want) {
				t.Fatalf("v%d min %d: frames differ:\n got %x\nwant %x", v, min, got, want)
			}
			refs := 0
			for _, src := range []testSource{direct.Partitions[0].Source.(testSource), big} {
				for _, rec := range src {
					if len(rec.Value) >= min {
						refs++
					}
				}
			}
			if len(r.Refs) != refs || len(buf)+r.Bytes() != len(want) {
				t.Fatalf("v%d min %d: %d refs of %d bytes, want %d refs making %d bytes", v, min, len(r.Refs),
					r.Bytes(), refs, len(want)-len(buf))
			}
		}
	}
}

// TestFrameRefsOtherRequests: a request that cannot leave values out is encoded whole.
func TestFrameRefsOtherRequests(t *testing.T) {
	_, plain := produceRecordsCase(t)
	r := FrameRefs{Min: 1}
	got, err := AppendRequestFrameRefs(nil, &r, plain, 9, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := AppendRequestFrame(nil, plain, 9, 1, nil)
	if !bytes.Equal(got, want) || len(r.Refs) != 0 {
		t.Fatalf("%d refs; frame equal: %v", len(r.Refs), bytes.Equal(got, want))
	}
}

// TestFrameRefsErrorEmpties: a request that fails to encode leaves dst and the refs as they were.
func TestFrameRefsErrorEmpties(t *testing.T) {
	direct, _ := produceRecordsCase(t)
	direct.Partitions[0].Source = testSource{{Value: bytes.Repeat([]byte("x"), 500)}}
	r := FrameRefs{Min: 100}
	got, err := AppendRequestFrameRefs([]byte("keep"), &r, direct, 2, 1, nil) // no record batches before v3
	if err == nil || string(got) != "keep" || len(r.Refs) != 0 || r.Bytes() != 0 {
		t.Fatalf("%q, %d refs, %d bytes, err %v", got, len(r.Refs), r.Bytes(), err)
	}
}

// TestFrameRefsAllocs: with room in the buffer and the refs' array, encoding a request allocates nothing.
func TestFrameRefsAllocs(t *testing.T) {
	src := make(testSource, 100)
	for i := range src {
		src[i] = Record{Timestamp: 1_700_000_000_000 + int64(i), Value: bytes.Repeat([]byte("v"), 10<<10)}
	}
	req := &ProduceRecordsRequest{Acks: 1, TimeoutMs: 1000, Topic: "t",
		Partitions: []ProduceRecordsPartition{{Index: 0, Batch: RecordBatch{ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1}, Source: src}}}
	buf := make([]byte, 0, 64<<10)
	r := FrameRefs{Min: 4096, Refs: make([]FrameRef, 0, 128)}
	var pieces [][]byte
	if n := testing.AllocsPerRun(20, func() {
		r.Reset()
		var err error
		if buf, err = AppendRequestFrameRefs(buf[:0], &r, req, 11, 1, nil); err != nil {
			t.Fatal(err)
		}
		pieces = r.Pieces(pieces[:0], buf, 0)
	}); n != 0 {
		t.Fatalf("%v allocations per request of 100 records, want 0", n)
	}
	if len(r.Refs) != 100 || len(buf) > 4<<10 {
		t.Fatalf("%d refs, %d bytes copied", len(r.Refs), len(buf))
	}
}

// BenchmarkProduceFrame compares encoding a request of 10 KiB values whole and with the values left in
// place.
func BenchmarkProduceFrame(b *testing.B) {
	src := make(testSource, 100)
	for i := range src {
		src[i] = Record{Timestamp: 1_700_000_000_000 + int64(i), Value: bytes.Repeat([]byte{byte(i)}, 10<<10)}
	}
	req := &ProduceRecordsRequest{Acks: 1, TimeoutMs: 1000, Topic: "t",
		Partitions: []ProduceRecordsPartition{{Index: 0, Batch: RecordBatch{ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1}, Source: src}}}
	size := int64(len(src) * 10 << 10)
	b.Run("whole", func(b *testing.B) {
		b.SetBytes(size)
		buf := make([]byte, 0, 2<<20)
		for b.Loop() {
			buf, _ = AppendRequestFrame(buf[:0], req, 11, 1, nil)
		}
	})
	b.Run("refs", func(b *testing.B) {
		b.SetBytes(size)
		buf := make([]byte, 0, 2<<20)
		r := FrameRefs{Min: 4096}
		for b.Loop() {
			r.Reset()
			buf, _ = AppendRequestFrameRefs(buf[:0], &r, req, 11, 1, nil)
		}
	})
}
