package protocol

import (
	"fmt"
	"hash/crc32"
	"math/rand"
	"testing"
)

type crcImpl struct {
	name   string
	update func(crc uint32, p []byte) uint32
}

// crcImpls are the implementations the tests check: crcUpdate, and on amd64
// the folding too, whichever of them this CPU's crcUpdate uses.
var crcImpls = []crcImpl{{"crcUpdate", crcUpdate}}

// Every implementation must agree with hash/crc32 for every length around
// the folding thresholds, at every alignment, from any starting value.
func TestCRCUpdateMatchesHashCRC32(t *testing.T) {
	for _, impl := range crcImpls {
		rng := rand.New(rand.NewSource(1))
		buf := make([]byte, 4096+16)
		rng.Read(buf)
		for n := 0; n <= 1100; n++ {
			for _, off := range []int{0, 1, 7, 8, 15} {
				p := buf[off : off+n]
				start := rng.Uint32()
				if got, want := impl.update(start, p), crc32.Update(start, crcCastagnoliTable, p); got != want {
					t.Fatalf("%s: len %d offset %d start %#x: %#08x, want %#08x", impl.name, n, off, start, got, want)
				}
			}
		}
		for _, n := range []int{4096, 4095, 4033, 2049} {
			if got, want := impl.update(0, buf[:n]), crc32.Checksum(buf[:n], crcCastagnoliTable); got != want {
				t.Fatalf("%s: len %d: %#08x, want %#08x", impl.name, n, got, want)
			}
		}
	}
}

// The check value of CRC-32C ("123456789" -> 0xe3069283), and a long run of
// one byte, where a wrong fold constant cannot hide behind random data.
func TestCRCUpdateKnownValues(t *testing.T) {
	if got := crcCastagnoli([]byte("123456789")); got != 0xe3069283 {
		t.Fatalf("check value %#08x", got)
	}
	for _, impl := range crcImpls {
		for _, b := range []byte{0x00, 0xff, 0x80, 0x01} {
			p := make([]byte, 10240)
			for i := range p {
				p[i] = b
			}
			if got, want := impl.update(0, p), crc32.Checksum(p, crcCastagnoliTable); got != want {
				t.Fatalf("%s: 10 KiB of %#x: %#08x, want %#08x", impl.name, b, got, want)
			}
		}
	}
}

// A checksum built from pieces, as FrameRefs.crcFrom builds one, equals the
// checksum of the whole.
func TestCRCUpdatePieces(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	buf := make([]byte, 64<<10)
	rng.Read(buf)
	want := crc32.Checksum(buf, crcCastagnoliTable)
	for _, impl := range crcImpls {
		for range 200 {
			var crc uint32
			for p := buf; len(p) > 0; {
				n := min(len(p), rng.Intn(12000))
				crc = impl.update(crc, p[:n])
				p = p[n:]
			}
			if crc != want {
				t.Fatalf("%s: pieces %#08x, want %#08x", impl.name, crc, want)
			}
		}
	}
}

func FuzzCRCUpdate(f *testing.F) {
	f.Add(uint32(0), []byte("123456789"))
	f.Add(uint32(0xffffffff), make([]byte, 300))
	f.Fuzz(func(t *testing.T, start uint32, p []byte) {
		want := crc32.Update(start, crcCastagnoliTable, p)
		for _, impl := range crcImpls {
			if got := impl.update(start, p); got != want {
				t.Fatalf("%s: len %d start %#x: %#08x, want %#08x", impl.name, len(p), start, got, want)
			}
		}
	})
}

// BenchmarkCRC32C compares crcUpdate (and on amd64 the folding, whether
// crcUpdate uses it or not) with hash/crc32 at sizes from a small batch to a
// large one; crcFoldMin comes from where folding and a slow CRC32
// instruction cross.
func BenchmarkCRC32C(b *testing.B) {
	for _, n := range []int{64, 128, 256, 512, 1024, 10240, 160 << 10} {
		p := make([]byte, n)
		rand.New(rand.NewSource(3)).Read(p)
		b.Run(fmt.Sprintf("size=%d/impl=hash-crc32", n), func(b *testing.B) {
			b.SetBytes(int64(n))
			for b.Loop() {
				crc32.Update(0, crcCastagnoliTable, p)
			}
		})
		for _, impl := range crcImpls {
			b.Run(fmt.Sprintf("size=%d/impl=%s", n, impl.name), func(b *testing.B) {
				b.SetBytes(int64(n))
				for b.Loop() {
					impl.update(0, p)
				}
			})
		}
	}
}
