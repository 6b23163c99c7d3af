package handlertest

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"io"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gregorkafka/gregor/handler"
)

// BenchmarkQueue measures one Put plus one Get of a pointer, on a queue of
// the given capacity (<= 0: unbounded), by a single producer and consumer
// running concurrently.
func BenchmarkQueue(b *testing.B, h handler.Handler, capacity int) {
	ctx := context.Background()
	q := handler.NewQueue[*int](h, capacity)
	item := new(int)
	done := make(chan struct{})
	b.ReportAllocs()
	b.ResetTimer()
	go func() {
		defer close(done)
		for i := 0; i < b.N; i++ {
			if _, err := q.Get(ctx); err != nil {
				b.Error(err)
				return
			}
		}
	}()
	for i := 0; i < b.N; i++ {
		if err := q.Put(ctx, item); err != nil {
			b.Fatal(err)
		}
	}
	<-done
}

// BenchmarkRoundTrip measures request/response round trips over one
// connection to an echo peer with inflight requests outstanding: inflight
// tasks each write a frame of size bytes and wait for its echo, the way
// pipelined requests share a broker connection. One op is one round trip.
func BenchmarkRoundTrip(b *testing.B, h handler.Handler, inflight, size int) {
	benchRoundTrip(b, h, EchoServer(b), nil, inflight, size)
}

// BenchmarkRoundTripTLS is BenchmarkRoundTrip over TLS (TLS 1.3, ECDSA
// P-256 certificate) to a crypto/tls echo peer.
func BenchmarkRoundTripTLS(b *testing.B, h handler.Handler, inflight, size int) {
	addr, roots := TLSEchoServer(b)
	benchRoundTrip(b, h, addr, &tls.Config{RootCAs: roots}, inflight, size)
}

func benchRoundTrip(b *testing.B, h handler.Handler, addr string, tc *tls.Config, inflight, size int) {
	size = max(size, 4)
	dead := make(chan struct{})
	waiters := make([]chan struct{}, inflight)
	for i := range waiters {
		waiters[i] = make(chan struct{}, 1)
	}
	cfg := handler.DialConfig{
		Address:   addr,
		TLSConfig: tc,
		// Runs on the loop for the event-loop handler: a non-blocking send.
		OnFrame: func(f []byte) {
			waiters[binary.BigEndian.Uint32(f)] <- struct{}{}
		},
		OnClose: func(error) { close(dead) },
	}
	c, err := h.Dial(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		_ = c.Close()
		<-dead
	}()

	var next atomic.Int64
	var wg sync.WaitGroup
	b.SetBytes(int64(2 * (size + 4)))
	b.ReportAllocs()
	b.ResetTimer()
	for w := 0; w < inflight; w++ {
		wg.Add(1)
		h.Go("requester", func() {
			defer wg.Done()
			buf := AppendFrame(nil, make([]byte, size))
			binary.BigEndian.PutUint32(buf[4:], uint32(w))
			for next.Add(1) <= int64(b.N) {
				if err := c.Write(buf); err != nil {
					b.Error(err)
					return
				}
				select {
				case <-waiters[w]:
				case <-dead:
					b.Error("connection closed")
					return
				}
			}
		})
	}
	wg.Wait()
}

// Goroutines dials n connections to a peer that accepts but never reads or
// writes (so the peer adds no goroutines) and returns how many goroutines
// the process gained while they are open. It closes the connections before
// returning.
func Goroutines(tb testing.TB, h handler.Handler, n int) int {
	tb.Helper()
	p := newPeer(tb)
	runtime.GC()
	before := runtime.NumGoroutine()
	conns := make([]handler.Conn, 0, n)
	for i := 0; i < n; i++ {
		c, err := h.Dial(context.Background(), handler.DialConfig{Address: p.addr()})
		if err != nil {
			tb.Fatal(err)
		}
		conns = append(conns, c)
	}
	added := runtime.NumGoroutine() - before
	for _, c := range conns {
		_ = c.Close()
	}
	// Closing must give back whatever the connections used.
	deadline := time.Now().Add(guard)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			tb.Errorf("goroutines stayed at %d after closing, baseline %d", runtime.NumGoroutine(), before)
			break
		}
		time.Sleep(time.Millisecond)
	}
	return added
}

// GoroutinesTLS is Goroutines over TLS: n connections to a TLS peer that
// completes each handshake and then holds the connection. The peer's own
// goroutines are not counted.
func GoroutinesTLS(tb testing.TB, h handler.Handler, n int) int {
	tb.Helper()
	k := newPKI(tb)
	p := newPeer(tb)
	scfg := &tls.Config{Certificates: []tls.Certificate{k.server}}
	go func() {
		for c := range p.accepted {
			go tlsHold(tls.Server(c, scfg))
		}
	}()
	ccfg := &tls.Config{RootCAs: k.ca.Pool()}
	runtime.GC()
	before := clientGoroutines()
	conns := make([]handler.Conn, 0, n)
	for i := 0; i < n; i++ {
		c, err := h.Dial(context.Background(), handler.DialConfig{Address: p.addr(), TLSConfig: ccfg, Timeout: guard})
		if err != nil {
			tb.Fatal(err)
		}
		conns = append(conns, c)
	}
	added := clientGoroutines() - before
	for _, c := range conns {
		_ = c.Close()
	}
	return added
}

// tlsHold completes a server handshake, then reads until the client leaves.
// Its name marks the peer's goroutines for clientGoroutines.
func tlsHold(c *tls.Conn) {
	defer c.Close()
	_, _ = io.Copy(io.Discard, c)
}

// clientGoroutines counts the goroutines that are not GoroutinesTLS's peer.
func clientGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if !strings.Contains(g, "handlertest.tlsHold") && !strings.Contains(g, "handlertest.GoroutinesTLS.func") {
			count++
		}
	}
	return count
}
