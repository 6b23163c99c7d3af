package eventloop_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/handler/eventloop"
	"github.com/gregorkafka/gregor/handler/handlertest"
)

func newHandler(t testing.TB) *eventloop.Handler {
	h, err := eventloop.New(eventloop.WithLoops(2))
	require.NoError(t, err)
	return h
}

func TestConformance(t *testing.T) {
	handlertest.Run(t, func(t *testing.T) handler.Handler { return newHandler(t) })
}

func newBench(b *testing.B) handler.Handler {
	h := newHandler(b)
	b.Cleanup(func() { _ = h.Close() })
	return h
}

func BenchmarkQueue(b *testing.B) {
	b.Run("bounded", func(b *testing.B) { handlertest.BenchmarkQueue(b, newBench(b), 128) })
	b.Run("unbounded", func(b *testing.B) { handlertest.BenchmarkQueue(b, newBench(b), 0) })
}

func BenchmarkRoundTrip(b *testing.B) {
	for _, inflight := range []int{1, 16, 256} {
		b.Run(fmt.Sprintf("inflight=%d", inflight), func(b *testing.B) {
			handlertest.BenchmarkRoundTrip(b, newBench(b), inflight, 100)
		})
	}
}
