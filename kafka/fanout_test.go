package kafka

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
)

func TestFanOut(t *testing.T) {
	for _, name := range []string{"goroutine", "eventloop"} {
		t.Run(name, func(t *testing.T) {
			h := newHandler(t, name)
			for _, n := range []int{0, 1, 7} {
				out, err := fanOut(t.Context(), h, "test", n, func(i int) int { return i * i })
				require.NoError(t, err)
				require.Len(t, out, n)
				for i, v := range out {
					assert.Equal(t, i*i, v, "results in index order")
				}
			}

			// A caller whose context ends stops waiting; the tasks finish
			// on their own without blocking.
			ctx, cancel := context.WithCancel(t.Context())
			release := h.NewEvent()
			done := handler.NewQueue[*struct{}](h, 2)
			_, err := fanOut(ctx, h, "test", 2, func(i int) int {
				if i == 0 {
					cancel()
				}
				_ = release.Wait(t.Context())
				_ = done.TryPut(&struct{}{})
				return i
			})
			assert.ErrorIs(t, err, context.Canceled)
			release.Set()
			for range 2 {
				_, err := done.Get(t.Context())
				require.NoError(t, err)
			}
		})
	}
}
