package conn

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"runtime"
	"testing"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/handler/handlertest"
	"github.com/gregorkafka/gregor/internal/testcluster"
	"github.com/gregorkafka/gregor/protocol"
)

// instantPeer is the cheapest possible broker: it answers every ApiVersions
// or Metadata request with a response encoded once per version, only
// patching in the correlation id, so a benchmark sees the client's own cost.
func instantPeer(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = ln.Close() })
	templates := map[[2]int16][]byte{}
	for _, m := range []protocol.Message{fullAPIVersions(), protocol.NewMetadataResponse()} {
		lo, hi := m.SupportedVersions()
		for v := lo; v <= hi; v++ {
			frame, err := protocol.AppendResponseFrame(nil, m, v, 0)
			if err != nil {
				tb.Fatal(err)
			}
			templates[[2]int16{m.APIKey(), v}] = frame
		}
	}
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			tb.Cleanup(func() { _ = nc.Close() })
			go serveInstant(nc, templates)
		}
	}()
	return ln.Addr().String()
}

func serveInstant(nc net.Conn, templates map[[2]int16][]byte) {
	defer nc.Close()
	rd := bufio.NewReaderSize(nc, 64<<10)
	wr := bufio.NewWriterSize(nc, 64<<10)
	var hdr [12]byte
	for {
		if _, err := io.ReadFull(rd, hdr[:]); err != nil {
			return
		}
		size := int(binary.BigEndian.Uint32(hdr[:]))
		if size < 8 {
			return
		}
		if _, err := rd.Discard(size - 8); err != nil {
			return
		}
		key := [2]int16{int16(binary.BigEndian.Uint16(hdr[4:])), int16(binary.BigEndian.Uint16(hdr[6:]))}
		t, ok := templates[key]
		if !ok {
			return
		}
		_, _ = wr.Write(t[:4])
		_, _ = wr.Write(hdr[8:12]) // correlation id
		_, _ = wr.Write(t[8:])
		// Flush once the client has nothing more queued: batching like a
		// real broker's network thread, without waiting.
		if rd.Buffered() == 0 {
			if err := wr.Flush(); err != nil {
				return
			}
		}
	}
}

// benchRoundTrips keeps inFlight requests outstanding on one connection from
// one goroutine: send until the window is full, then collect the oldest. It
// reports the goroutines alive mid-run beyond baseline, the count taken
// before the handler was created.
func benchRoundTrips(b *testing.B, c *BrokerConnection, req protocol.Request, inFlight, baseline int) {
	ctx := context.Background()
	window := make([]*ResponseFuture, inFlight)
	var peak int
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		slot := i % inFlight
		if f := window[slot]; f != nil {
			if _, err := f.Get(ctx); err != nil {
				b.Fatal(err)
			}
		}
		f, err := c.Request(ctx, req)
		if err != nil {
			b.Fatal(err)
		}
		window[slot] = f
		if i == b.N/2 {
			peak = runtime.NumGoroutine()
		}
	}
	for _, f := range window {
		if f != nil {
			if _, err := f.Get(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(peak-baseline), "goroutines")
}

func BenchmarkRoundTripInstantPeer(b *testing.B) {
	for _, k := range handlerKinds {
		for _, api := range []string{"ApiVersions", "Metadata"} {
			for _, n := range []int{1, 16, 256} {
				b.Run(fmt.Sprintf("%s/%s/inflight=%d", k.name, api, n), func(b *testing.B) {
					addr := instantPeer(b)
					// The peer's one goroutine per connection is not the client's.
					baseline := runtime.NumGoroutine() + 1
					h := k.new(b)
					defer h.Close()
					c := dialed(b, h, addr, Config{MaxInFlight: 256})
					defer c.Close()
					var req protocol.Request = protocol.NewAPIVersionsRequest()
					if api == "Metadata" {
						req = protocol.NewMetadataRequest()
					}
					benchRoundTrips(b, c, req, n, baseline)
				})
			}
		}
	}
}

func BenchmarkRoundTripBroker(b *testing.B) {
	if testing.Short() {
		b.Skip("needs a real Kafka cluster")
	}
	cl := testcluster.Shared(b, testcluster.KRaftSingle)
	addr := cl.Brokers()[0].Addr()
	for _, k := range handlerKinds {
		for _, n := range []int{1, 16, 256} {
			b.Run(fmt.Sprintf("%s/ApiVersions/inflight=%d", k.name, n), func(b *testing.B) {
				baseline := runtime.NumGoroutine()
				h := k.new(b)
				defer h.Close()
				c := dialed(b, h, addr, Config{MaxInFlight: 256})
				defer c.Close()
				benchRoundTrips(b, c, apiVersionsRequest(), n, baseline)
			})
		}
	}
}

// BenchmarkRoundTripBrokerSideBySide compares the handlers' round trips to a
// real broker, interleaved, at one and at sixteen requests in flight: the
// latency a request sees from the handler, broker included. The broker runs
// in its own process, so the process's CPU time is the client's alone
// (cpu-ns/op). Compare ns/op within one run, e.g.
//
//	go test -run '^$' -bench BrokerSideBySide ./conn -args -reps 6
func BenchmarkRoundTripBrokerSideBySide(b *testing.B) {
	if testing.Short() {
		b.Skip("needs a real Kafka cluster")
	}
	addr := testcluster.Shared(b, testcluster.KRaftSingle).Brokers()[0].Addr()
	kinds := make([]string, len(handlerKinds))
	newHandler := map[string]func(testing.TB) handler.Handler{}
	for i, k := range handlerKinds {
		kinds[i] = k.name
		newHandler[k.name] = k.new
	}
	for _, api := range []string{"ApiVersions", "Metadata"} {
		var req protocol.Request = apiVersionsRequest()
		if api == "Metadata" {
			req = protocol.NewMetadataRequest()
		}
		b.Run(api, func(b *testing.B) {
			for _, n := range []int{1, 16} {
				b.Run(fmt.Sprintf("inflight=%d", n), func(b *testing.B) {
					handlertest.SideBySide(b, kinds, func(b *testing.B, kind string) {
						baseline := runtime.NumGoroutine()
						h := newHandler[kind](b)
						defer h.Close()
						c := dialed(b, h, addr, Config{MaxInFlight: 256})
						defer c.Close()
						before := handlertest.CPUTime()
						benchRoundTrips(b, c, req, n, baseline)
						b.ReportMetric(float64(handlertest.CPUTime()-before)/float64(b.N), "cpu-ns/op")
					})
				})
			}
		})
	}
}

// BenchmarkParallelCallers has many goroutines share one connection, each
// doing blocking round trips, as a client's producers and consumers do.
func BenchmarkParallelCallers(b *testing.B) {
	for _, k := range handlerKinds {
		for _, callers := range []int{16, 256} {
			b.Run(fmt.Sprintf("%s/Metadata/callers=%d", k.name, callers), func(b *testing.B) {
				addr := instantPeer(b)
				h := k.new(b)
				defer h.Close()
				c := dialed(b, h, addr, Config{MaxInFlight: 256})
				defer c.Close()
				req := protocol.NewMetadataRequest()
				b.SetParallelism((callers + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
				b.ReportAllocs()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					ctx := context.Background()
					for pb.Next() {
						if _, err := c.RoundTrip(ctx, req); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	}
}
