package tlswrite

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPiecesChunks: the chunks join to the pieces, every chunk but the last
// is whole records within max, and a piece of whole records goes through
// uncopied.
func TestPiecesChunks(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var stage []byte
	for iter := 0; iter < 500; iter++ {
		var bufs [][]byte
		var want []byte
		for range r.IntN(12) {
			n := []int{0, 1, 17, 100, Record - 1, Record, Record + 1, 3 * Record, 10 << 10, 100 << 10}[r.IntN(10)]
			p := make([]byte, n)
			for i := range p {
				p[i] = byte(r.Uint32())
			}
			bufs = append(bufs, p)
			want = append(want, p...)
		}
		max := []int{0, Record, 4 * Record}[r.IntN(3)]
		var chunks [][]byte
		require.NoError(t, Pieces(bufs, &stage, max, func(p []byte) error {
			chunks = append(chunks, bytes.Clone(p))
			return nil
		}))
		var got []byte
		for i, c := range chunks {
			got = append(got, c...)
			assert.NotEmpty(t, c)
			if max > 0 {
				assert.LessOrEqual(t, len(c), max)
			}
			if i < len(chunks)-1 {
				assert.Zero(t, len(c)%Record, "chunk %d of %d: %d bytes", i, len(chunks), len(c))
			}
		}
		require.True(t, bytes.Equal(want, got), "iteration %d", iter)
	}

	big := make([]byte, 3*Record)
	var direct bool
	require.NoError(t, Pieces([][]byte{big}, &stage, 0, func(p []byte) error {
		direct = &p[0] == &big[0] && len(p) == len(big)
		return nil
	}))
	assert.True(t, direct, "a piece of whole records is handed over as it is")
}

func TestPiecesStopsAtError(t *testing.T) {
	var stage []byte
	calls := 0
	err := Pieces([][]byte{make([]byte, 5*Record)}, &stage, Record, func([]byte) error {
		calls++
		return assert.AnError
	})
	assert.ErrorIs(t, err, assert.AnError)
	assert.Equal(t, 1, calls)
}
