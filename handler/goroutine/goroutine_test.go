package goroutine_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/handler/goroutine"
	"github.com/gregorkafka/gregor/handler/handlertest"
)

func TestConformance(t *testing.T) {
	handlertest.Run(t, func(t *testing.T) handler.Handler { return goroutine.New() })
}

func newBench(b *testing.B) handler.Handler {
	h := goroutine.New()
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

// BenchmarkRoundTripTLS: a lone request, many small ones pipelined, and
// large frames (throughput).
func BenchmarkRoundTripTLS(b *testing.B) {
	for _, c := range []struct{ inflight, size int }{{1, 100}, {256, 100}, {16, 64 << 10}} {
		b.Run(fmt.Sprintf("inflight=%d/size=%d", c.inflight, c.size), func(b *testing.B) {
			handlertest.BenchmarkRoundTripTLS(b, newBench(b), c.inflight, c.size)
		})
	}
}

// TestGoroutinesPerConnection pins the design: one reader per connection.
func TestGoroutinesPerConnection(t *testing.T) {
	h := goroutine.New()
	defer h.Close()
	for _, n := range []int{1, 10, 100} {
		added := handlertest.Goroutines(t, h, n)
		t.Logf("%d connections: +%d goroutines", n, added)
		assert.GreaterOrEqual(t, added, n)
		assert.LessOrEqual(t, added, n+2)
	}
}
