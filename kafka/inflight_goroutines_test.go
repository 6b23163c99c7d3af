package kafka

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/internal/testcluster"
)

// TestGoroutinesConstantInFlight: responses complete by callback, so no
// task waits for a request in flight. With every broker answer held back
// (by a proxy between the clients and a real broker), clients × requests
// in flight grows from 1 to 256 while the process's goroutines stay what
// they were with nothing in flight; then every message is delivered.
func TestGoroutinesConstantInFlight(t *testing.T) {
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		kc := testcluster.Shared(t, testcluster.KRaftSingle)
		ctx := testCtx(t)
		const partitions = 32
		admin := newTestClient(t, ctx, h, Config{Hosts: kc.Bootstrap()})
		name := uniqueTopic(t, "inflight")
		makeTopic(t, ctx, admin, TopicSpec{Name: name, Partitions: partitions, ReplicationFactor: 1})

		for _, c := range []struct{ clients, inflight int }{{1, 1}, {8, partitions}} {
			t.Run(fmt.Sprintf("%dx%d", c.clients, c.inflight), func(t *testing.T) {
				px := newHoldingProxy(t)
				ph := &proxiedHandler{Handler: h, px: px}
				var delivered, failed atomic.Int64
				var collectors sync.WaitGroup
				producers := make([]*Producer, c.clients)
				for i := range producers {
					cl := newTestClient(t, ctx, ph, Config{Hosts: kc.Bootstrap()})
					topic, err := cl.Topic(ctx, name)
					require.NoError(t, err)
					// One message per request (MaxRequestSize fits one), one
					// request per partition in flight, sent at once.
					p, err := topic.Producer(ProducerConfig{
						RequiredAcks: AcksLeader, Idempotence: IdempotenceOff, MinQueuedMessages: 1,
						MaxRequestSize: 1024, Partitioner: ManualPartitioner(), DeliveryReports: true,
					})
					require.NoError(t, err)
					producers[i] = p
					collectors.Add(1)
					go func() {
						defer collectors.Done()
						for r := range p.Reports() {
							if r.Err != nil {
								failed.Add(1)
							} else {
								delivered.Add(1)
							}
						}
					}()
				}
				produceAll := func() {
					for _, p := range producers {
						for part := range c.inflight {
							require.NoError(t, p.Produce(ctx, Message{Value: make([]byte, 600), Partition: int32(part)}))
						}
					}
				}
				// Connected, every produce connection open, nothing in flight.
				produceAll()
				for _, p := range producers {
					require.NoError(t, p.Flush(ctx))
				}
				base := settledGoroutines(ctx, func(int) bool { return false })

				px.hold()
				before := px.requests.Load()
				produceAll()
				want := before + int64(c.clients*c.inflight)
				eventually(t, ctx, h, "requests sent", func() bool { return px.requests.Load() >= want })
				held := settledGoroutines(ctx, func(n int) bool { return n <= base })
				t.Logf("%d clients × %d requests in flight: %d goroutines, %d with nothing in flight", c.clients, c.inflight, held, base)
				assert.LessOrEqual(t, held, base, "goroutines grew with requests in flight")

				px.release()
				for _, p := range producers {
					require.NoError(t, p.Close())
				}
				collectors.Wait()
				assert.Equal(t, int64(2*c.clients*c.inflight), delivered.Load())
				assert.Zero(t, failed.Load())
			})
		}
	})
}

// settledGoroutines returns the goroutine count once it stopped changing
// (tasks that were ending have ended), or at once when done accepts it; it
// gives up after a few seconds and returns the last count.
func settledGoroutines(ctx context.Context, done func(n int) bool) int {
	last, same := runtime.NumGoroutine(), 0
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline) && ctx.Err() == nil; {
		time.Sleep(20 * time.Millisecond)
		n := runtime.NumGoroutine()
		if done(n) {
			return n
		}
		if n == last {
			if same++; same == 10 {
				return n
			}
		} else {
			last, same = n, 0
		}
	}
	return last
}

// proxiedHandler dials every address through a holdingProxy.
type proxiedHandler struct {
	handler.Handler
	px *holdingProxy
}

func (h *proxiedHandler) Dial(ctx context.Context, cfg handler.DialConfig) (handler.Conn, error) {
	addr, err := h.px.listen(cfg.Address)
	if err != nil {
		return nil, &handler.DialError{Address: cfg.Address, Err: err}
	}
	cfg.Address = addr
	return h.Handler.Dial(ctx, cfg)
}

// holdingProxy forwards connections to the addresses they were meant for,
// counting the request frames it passes on. While it holds, it passes no
// answer back: the requests stay in flight.
type holdingProxy struct {
	t        *testing.T
	requests atomic.Int64 // frames forwarded to brokers

	mu      sync.Mutex
	cond    *sync.Cond
	holding bool
	lns     map[string]net.Listener // target -> listener
}

func newHoldingProxy(t *testing.T) *holdingProxy {
	px := &holdingProxy{t: t, lns: map[string]net.Listener{}}
	px.cond = sync.NewCond(&px.mu)
	t.Cleanup(func() {
		px.release()
		px.mu.Lock()
		defer px.mu.Unlock()
		for _, ln := range px.lns {
			ln.Close()
		}
	})
	return px
}

func (px *holdingProxy) hold() {
	px.mu.Lock()
	px.holding = true
	px.mu.Unlock()
}

func (px *holdingProxy) release() {
	px.mu.Lock()
	px.holding = false
	px.cond.Broadcast()
	px.mu.Unlock()
}

// listen returns the proxy's address for target.
func (px *holdingProxy) listen(target string) (string, error) {
	px.mu.Lock()
	defer px.mu.Unlock()
	if ln, ok := px.lns[target]; ok {
		return ln.Addr().String(), nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	px.lns[target] = ln
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go px.serve(c, target)
		}
	}()
	return ln.Addr().String(), nil
}

func (px *holdingProxy) serve(client net.Conn, target string) {
	broker, err := net.Dial("tcp", target)
	if err != nil {
		client.Close()
		return
	}
	go func() {
		defer broker.Close()
		defer client.Close()
		px.copyFrames(broker, client, func() { px.requests.Add(1) })
	}()
	defer broker.Close()
	defer client.Close()
	px.copyFrames(client, broker, func() {
		px.mu.Lock()
		for px.holding {
			px.cond.Wait()
		}
		px.mu.Unlock()
	})
}

// copyFrames copies size-prefixed frames from src to dst, calling before
// ahead of writing each.
func (px *holdingProxy) copyFrames(dst io.Writer, src io.Reader, before func()) {
	var size [4]byte
	for {
		if _, err := io.ReadFull(src, size[:]); err != nil {
			return
		}
		body := make([]byte, binary.BigEndian.Uint32(size[:]))
		if _, err := io.ReadFull(src, body); err != nil {
			return
		}
		before()
		if _, err := dst.Write(append(size[:], body...)); err != nil {
			return
		}
	}
}
