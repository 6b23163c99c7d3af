package protocol

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/pierrec/lz4/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lz4WordText returns n bytes of words drawn from a small vocabulary, which
// compress about as log lines do.
func lz4WordText(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 1))
	words := make([][]byte, 512)
	for i := range words {
		w := make([]byte, 3+rng.IntN(8))
		for j := range w {
			w[j] = byte('a' + rng.IntN(26))
		}
		words[i] = w
	}
	out := make([]byte, 0, n+16)
	for len(out) < n {
		out = append(append(out, words[rng.IntN(len(words))]...), ' ')
	}
	return out[:n]
}

// lz4BlockInputs are blocks that exercise every path of the compressor:
// too short to hold a match, matches at the first and the last positions a
// match may take, runs longer than a length byte, literals of 15 and more,
// incompressible stretches that make the search skip, and whole blocks.
func lz4BlockInputs() map[string][]byte {
	rng := rand.New(rand.NewPCG(7, 7))
	random := make([]byte, lz4MaxBlock)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	mixed := append(append(append([]byte(nil), random[:5000]...), lz4WordText(20000, 3)...), random[5000:9000]...)
	in := map[string][]byte{
		"empty":      {},
		"zeros":      make([]byte, lz4MaxBlock),
		"random":     random,
		"text":       lz4WordText(lz4MaxBlock, 1),
		"text-short": lz4WordText(1000, 2),
		"mixed":      mixed,
		"period3":    bytes.Repeat([]byte("abc"), 10000),
		"runs":       append(bytes.Repeat([]byte{'a'}, 300), append(random[:40], bytes.Repeat([]byte{'b'}, 70000)...)...)[:lz4MaxBlock],
	}
	for n := 1; n <= 40; n++ {
		in["zeros-"+string(rune('A'+n))] = make([]byte, n)
		in["abab-"+string(rune('A'+n))] = bytes.Repeat([]byte("ab"), n)[:n]
	}
	return in
}

func TestLZ4BlockRoundTrip(t *testing.T) {
	var tab lz4Table
	for name, in := range lz4BlockInputs() {
		dst := make([]byte, lz4BlockBound(len(in)))
		n := lz4CompressBlock(dst, in, &tab)
		require.Positive(t, n, name)
		require.LessOrEqual(t, n, lz4BlockBound(len(in)), name)
		out := make([]byte, len(in)+64)
		m, err := lz4.UncompressBlock(dst[:n], out)
		require.NoError(t, err, name)
		require.Equal(t, in, out[:m], name)
		lz4CheckBlockEnd(t, dst[:n], len(in), name)
	}
}

// lz4CheckBlockEnd walks a block's sequences and checks the format's rules
// for its end, which decoders may rely on: the last sequence is literals
// only, its last 5 bytes at least, and no match starts in the last 12 bytes.
func lz4CheckBlockEnd(t *testing.T, block []byte, n int, name string) {
	t.Helper()
	p, out := 0, 0
	for {
		tok := block[p]
		var lit int
		lit, p = lz4ReadLength(block, p+1, int(tok>>4))
		p += lit
		out += lit
		if p == len(block) {
			if n > lz4MFLimit {
				require.GreaterOrEqual(t, lit, lz4LastLiterals, "%s: the block ends in %d literals", name, lit)
			}
			require.Equal(t, n, out, name)
			return
		}
		require.LessOrEqual(t, out, n-lz4MFLimit, "%s: a match starts %d bytes from the end", name, n-out)
		var ml int
		ml, p = lz4ReadLength(block, p+2, int(tok&15))
		out += ml + lz4MinMatch
	}
}

// lz4ReadLength reads a length whose token nibble is n and whose further
// bytes, if n is 15, start at p (lz4Length's inverse); it returns the
// length and the position after it.
func lz4ReadLength(block []byte, p, n int) (int, int) {
	if n < 15 {
		return n, p
	}
	for block[p] == 255 {
		n += 255
		p++
	}
	return n + int(block[p]), p + 1
}

// TestLZ4BlockTooLarge: a block over 64 KiB or a short destination is left
// for the caller to store.
func TestLZ4BlockTooLarge(t *testing.T) {
	var tab lz4Table
	in := make([]byte, lz4MaxBlock+1)
	assert.Zero(t, lz4CompressBlock(make([]byte, lz4BlockBound(len(in))), in, &tab))
	assert.Zero(t, lz4CompressBlock(make([]byte, 100), in[:1000], &tab))
}

// TestLZ4BlockRatio: text compresses to no more than 2% above the size a
// general LZ4 compressor with an 8x larger table reaches, so Kafka batches
// cost the broker and the wire no more.
func TestLZ4BlockRatio(t *testing.T) {
	var tab lz4Table
	var ours, theirs int
	var c lz4.Compressor
	for seed := range uint64(8) {
		in := lz4WordText(lz4MaxBlock, seed)
		dst := make([]byte, lz4BlockBound(len(in)))
		ours += lz4CompressBlock(dst, in, &tab)
		n, err := c.CompressBlock(in, dst)
		require.NoError(t, err)
		theirs += n
	}
	assert.Less(t, ours, 8*lz4MaxBlock*6/10, "text must compress")
	assert.LessOrEqual(t, ours, theirs*102/100, "ours %d, reference %d", ours, theirs)
}

func TestLZ4BlockAllocs(t *testing.T) {
	var tab lz4Table
	in := lz4WordText(lz4MaxBlock, 1)
	dst := make([]byte, lz4BlockBound(len(in)))
	assert.Zero(t, testing.AllocsPerRun(10, func() { lz4CompressBlock(dst, in, &tab) }))
}

func FuzzLZ4CompressBlock(f *testing.F) {
	for _, in := range lz4BlockInputs() {
		if len(in) < 4096 {
			f.Add(in)
		}
	}
	f.Add(lz4WordText(4000, 9))
	var tab lz4Table
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > lz4MaxBlock {
			in = in[:lz4MaxBlock]
		}
		dst := make([]byte, lz4BlockBound(len(in)))
		n := lz4CompressBlock(dst, in, &tab)
		require.Positive(t, n)
		out := make([]byte, len(in)+64)
		m, err := lz4.UncompressBlock(dst[:n], out)
		require.NoError(t, err)
		require.Equal(t, in, out[:m])
		lz4CheckBlockEnd(t, dst[:n], len(in), "fuzz")
	})
}

// BenchmarkLZ4CompressBlock compresses blocks of text with this package's
// compressor and with pierrec/lz4's (what franz-go and gregor's earlier
// versions use), side by side: a whole 64 KiB block, and the small ones of a
// batch holding one record.
func BenchmarkLZ4CompressBlock(b *testing.B) {
	for _, size := range []int{100, 1 << 10, lz4MaxBlock} {
		in := lz4WordText(size, 1)
		dst := make([]byte, lz4BlockBound(len(in)))
		b.Run(fmt.Sprintf("%dB/gregor", size), func(b *testing.B) {
			var tab lz4Table
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				lz4CompressBlock(dst, in, &tab)
			}
		})
		b.Run(fmt.Sprintf("%dB/pierrec", size), func(b *testing.B) {
			var c lz4.Compressor
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				_, _ = c.CompressBlock(in, dst)
			}
		})
	}
}
