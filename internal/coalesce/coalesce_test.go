package coalesce

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTakeReturnsWhatWasAppendedInOrder(t *testing.T) {
	var b Buffer
	assert.Zero(t, b.Len())
	assert.Empty(t, b.Take())
	b.Append([]byte("one"))
	b.Append([]byte("two"))
	assert.Equal(t, 6, b.Len())
	out := b.Take()
	assert.Equal(t, "onetwo", string(out))
	assert.Zero(t, b.Len())
}

// TestAppendCopies: the caller may reuse its slice as soon as Append
// returns.
func TestAppendCopies(t *testing.T) {
	var b Buffer
	p := []byte("abc")
	b.Append(p)
	copy(p, "xyz")
	assert.Equal(t, "abc", string(b.Take()))
}

// TestArraysAlternate: while one array is being written the next frames
// fill the other, and after Recycle no Take allocates.
func TestArraysAlternate(t *testing.T) {
	var b Buffer
	b.Append(bytes.Repeat([]byte{1}, 100))
	first := b.Take()
	b.Append([]byte{2}) // during the write of first
	require.Equal(t, byte(1), first[0], "first is not overwritten while written")
	b.Recycle(first)
	second := b.Take()
	assert.Equal(t, []byte{2}, second)
	b.Recycle(second)

	allocs := testing.AllocsPerRun(100, func() {
		b.Append([]byte("frame"))
		b.Recycle(b.Take())
	})
	assert.Zero(t, allocs)
}

func TestRecycleDropsLargeArrays(t *testing.T) {
	var b Buffer
	b.Append(make([]byte, Keep+1))
	b.Recycle(b.Take())
	b.Append([]byte{1})
	assert.Less(t, cap(b.Take()), Keep, "the large array was kept")
}

func TestResetDropsQueued(t *testing.T) {
	var b Buffer
	b.Append([]byte("lost"))
	b.Reset()
	assert.Zero(t, b.Len())
	b.Append([]byte("next"))
	assert.Equal(t, "next", string(b.Take()))
}
