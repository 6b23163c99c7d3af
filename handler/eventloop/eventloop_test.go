package eventloop_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/handler/eventloop"
	"github.com/gregorkafka/gregor/handler/handlertest"
)

func newHandler(t testing.TB, opts ...eventloop.Option) *eventloop.Handler {
	h, err := eventloop.New(append([]eventloop.Option{eventloop.WithLoops(2)}, opts...)...)
	require.NoError(t, err)
	return h
}

func TestConformance(t *testing.T) {
	handlertest.Run(t, func(t *testing.T) handler.Handler { return newHandler(t) })
}

// The loops waiting in Go's netpoller, as they do by default on one CPU.
func TestConformanceNetpollWait(t *testing.T) {
	handlertest.Run(t, func(t *testing.T) handler.Handler {
		return newHandler(t, eventloop.WithNetpollWait(true))
	})
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

// BenchmarkRoundTripTLS: a lone request, many small ones pipelined, and
// large frames (throughput).
func BenchmarkRoundTripTLS(b *testing.B) {
	for _, c := range []struct{ inflight, size int }{{1, 100}, {256, 100}, {16, 64 << 10}} {
		b.Run(fmt.Sprintf("inflight=%d/size=%d", c.inflight, c.size), func(b *testing.B) {
			handlertest.BenchmarkRoundTripTLS(b, newBench(b), c.inflight, c.size)
		})
	}
}

// TestGoroutinesConstant pins the design: connections cost no goroutines.
func TestGoroutinesConstant(t *testing.T) {
	h := newHandler(t)
	defer h.Close()
	for _, n := range []int{1, 10, 100} {
		added := handlertest.Goroutines(t, h, n)
		t.Logf("%d connections: %+d goroutines", n, added)
		assert.LessOrEqual(t, added, 0)
	}
}

// TestGoroutinesConstantTLS: TLS connections cost no goroutines either,
// the handshake included once Dial has returned.
func TestGoroutinesConstantTLS(t *testing.T) {
	h := newHandler(t)
	defer h.Close()
	for _, n := range []int{1, 10, 100} {
		added := handlertest.GoroutinesTLS(t, h, n)
		t.Logf("%d TLS connections: %+d goroutines", n, added)
		assert.LessOrEqual(t, added, 0)
	}
}

// loopGoroutines counts goroutines running a gnet event loop.
func loopGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Count(string(buf[:n]), "gnet/v2.(*eventloop).run(")
		}
		buf = make([]byte, 2*len(buf))
	}
}

// TestLoopGoroutines checks that New starts exactly the requested loops and
// Close stops them.
func TestLoopGoroutines(t *testing.T) {
	base := loopGoroutines()
	h, err := eventloop.New(eventloop.WithLoops(3))
	require.NoError(t, err)
	// The loops' goroutines exist now but may not have entered run yet.
	for deadline := time.Now().Add(10 * time.Second); loopGoroutines() < base+3 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	assert.Equal(t, base+3, loopGoroutines())
	require.NoError(t, h.Close())
	assert.Equal(t, base, loopGoroutines())
}

func TestLoggerReceivesGnetLogs(t *testing.T) {
	var buf syncBuffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h, err := eventloop.New(eventloop.WithLoops(1), eventloop.WithLogger(logger))
	require.NoError(t, err)
	require.NoError(t, h.Close())
	assert.Contains(t, buf.String(), "component=gnet")
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestCloseDuringTLSHandshake: closing the handler fails a Dial whose
// handshake is waiting for the peer with ErrClosed, rather than leaving it
// to its timeout.
func TestCloseDuringTLSHandshake(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
	}()
	h := newHandler(t)
	dialed := make(chan error, 1)
	go func() {
		_, err := h.Dial(context.Background(), handler.DialConfig{
			Address: ln.Addr().String(), Timeout: time.Hour, TLSConfig: &tls.Config{InsecureSkipVerify: true},
		})
		dialed <- err
	}()
	sc := <-accepted
	defer sc.Close()
	// The ClientHello has arrived: the handshake waits for an answer.
	_, err = sc.Read(make([]byte, 1))
	require.NoError(t, err)
	require.NoError(t, h.Close())
	err = <-dialed
	var de *handler.DialError
	require.True(t, errors.As(err, &de), "got %T: %v", err, err)
	assert.ErrorIs(t, err, handler.ErrClosed)
}
