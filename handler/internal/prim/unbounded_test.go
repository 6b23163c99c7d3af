package prim

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
)

// TestUnboundedGrowsWhileWrapped grows the ring while its contents wrap
// around the end, the case where a naive copy would scramble the order.
func TestUnboundedGrowsWhileWrapped(t *testing.T) {
	q := NewUnbounded()
	next, want := 0, 0
	put := func(n int) {
		for i := 0; i < n; i++ {
			require.NoError(t, q.TryPut(next))
			next++
		}
	}
	get := func(n int) {
		for i := 0; i < n; i++ {
			v, err := q.TryGet()
			require.NoError(t, err)
			require.Equal(t, want, v)
			want++
		}
	}
	put(10)
	get(7)
	put(13) // 16 slots, head at 7: wraps, then fills the ring exactly
	put(40) // grows while wrapped
	get(56)
	_, err := q.TryGet()
	require.ErrorIs(t, err, handler.ErrWouldBlock)
	require.Zero(t, q.Len())
}

func TestUnboundedReleasesItems(t *testing.T) {
	q := NewUnbounded()
	require.NoError(t, q.TryPut(new(int)))
	_, err := q.TryGet()
	require.NoError(t, err)
	for _, v := range q.buf {
		require.Nil(t, v, "a taken item must not stay reachable from the ring")
	}
}
