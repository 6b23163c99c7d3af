package frame

import (
	"encoding/binary"
	"fmt"
	"testing"
)

// benchChunk is how much of the stream each read hands the decoder, about
// what a socket read returns under load.
const benchChunk = 64 << 10

// BenchmarkDecoderLargeFrame feeds one frame of each size in 64 KiB
// chunks, through Feed (the event-loop handler) and through BodySpace (the
// goroutine handler reading into the body directly). Its B/op is what the
// decoder allocates per frame, the frame itself included.
func BenchmarkDecoderLargeFrame(b *testing.B) {
	for _, size := range []int{1 << 20, 4 << 20, 16 << 20, 50 << 20} {
		stream := binary.BigEndian.AppendUint32(nil, uint32(size))
		stream = append(stream, make([]byte, size)...)
		b.Run(fmt.Sprintf("%dMiB/feed", size>>20), func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			d := New(0)
			got := 0
			emit := func(f []byte) { got += len(f) }
			for range b.N {
				for p := stream; len(p) > 0; {
					n := min(benchChunk, len(p))
					if err := d.Feed(p[:n], emit); err != nil {
						b.Fatal(err)
					}
					p = p[n:]
				}
			}
			if got != b.N*size {
				b.Fatalf("decoded %d bytes, want %d", got, b.N*size)
			}
		})
		b.Run(fmt.Sprintf("%dMiB/bodyspace", size>>20), func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			d := New(0)
			got := 0
			emit := func(f []byte) { got += len(f) }
			for range b.N {
				// The prefix and the first chunk arrive together.
				p := stream
				if err := d.Feed(p[:benchChunk], emit); err != nil {
					b.Fatal(err)
				}
				p = p[benchChunk:]
				for len(p) > 0 {
					space := d.BodySpace()
					n := copy(space[:min(len(space), benchChunk)], p)
					d.BodyFilled(n, emit)
					p = p[n:]
				}
			}
			if got != b.N*size {
				b.Fatalf("decoded %d bytes, want %d", got, b.N*size)
			}
		})
	}
}

// BenchmarkDecoderSmallFrames feeds 100-byte frames in 64 KiB chunks, the
// fast path, for comparison.
func BenchmarkDecoderSmallFrames(b *testing.B) {
	var stream []byte
	for len(stream) < benchChunk*16 {
		stream = binary.BigEndian.AppendUint32(stream, 100)
		stream = append(stream, make([]byte, 100)...)
	}
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	d := New(0)
	emit := func([]byte) {}
	for range b.N {
		for p := stream; len(p) > 0; {
			n := min(benchChunk, len(p))
			if err := d.Feed(p[:n], emit); err != nil {
				b.Fatal(err)
			}
			p = p[n:]
		}
	}
}
