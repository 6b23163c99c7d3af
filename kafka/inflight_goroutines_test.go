package kafka

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/internal/testcluster"
	"github.com/gregorkafka/gregor/protocol"
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

// TestGoroutinesConstantFetching: a consumer waiting for its Fetch (held
// by the broker, here by a proxy) has no task waiting: consumers × fetches
// in flight grow while goroutines stay what they were with none.
func TestGoroutinesConstantFetching(t *testing.T) {
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		kc := testcluster.Shared(t, testcluster.KRaftSingle)
		ctx := testCtx(t)
		const partitions = 16
		admin := newTestClient(t, ctx, h, Config{Hosts: kc.Bootstrap()})
		name := uniqueTopic(t, "fetching")
		makeTopic(t, ctx, admin, TopicSpec{Name: name, Partitions: partitions, ReplicationFactor: 1})

		for _, c := range []struct{ clients, consumers int }{{1, 1}, {4, partitions}} {
			t.Run(fmt.Sprintf("%dx%d", c.clients, c.consumers), func(t *testing.T) {
				px := newHoldingProxy(t)
				ph := &proxiedHandler{Handler: h, px: px}
				topics := make([]*Topic, c.clients)
				for i := range topics {
					cl := newTestClient(t, ctx, ph, Config{Hosts: kc.Bootstrap()})
					topic, err := cl.Topic(ctx, name)
					require.NoError(t, err)
					topics[i] = topic
					// Open the fetch connection, then stop again.
					warm := newConsumer(t, topic, ConsumerConfig{Partitions: []int32{0}, AutoOffsetReset: OffsetLatest})
					require.NoError(t, warm.Start(ctx))
					fetches := px.fetches.Load()
					eventually(t, ctx, h, "a fetch", func() bool { return px.fetches.Load() > fetches })
					require.NoError(t, warm.Stop(ctx))
				}
				base := settledGoroutines(ctx, func(int) bool { return false })

				consumers := make([]*SimpleConsumer, 0, c.clients*c.consumers)
				for _, topic := range topics {
					for part := range c.consumers {
						sc := newConsumer(t, topic, ConsumerConfig{
							Partitions: []int32{int32(part)}, AutoOffsetReset: OffsetLatest, FetchWaitMax: time.Minute,
						})
						require.NoError(t, sc.Start(ctx))
						consumers = append(consumers, sc)
					}
				}
				px.hold()
				eventually(t, ctx, h, "fetches in flight", func() bool { return px.inFlight() >= int64(len(consumers)) })
				held := settledGoroutines(ctx, func(n int) bool { return n <= base })
				t.Logf("%d clients × %d consumers fetching: %d goroutines, %d with none", c.clients, c.consumers, held, base)
				if !assert.LessOrEqual(t, held, base, "goroutines grew with fetches in flight") {
					_ = pprof.Lookup("goroutine").WriteTo(os.Stderr, 1)
				}
				px.release()
				for _, sc := range consumers {
					require.NoError(t, sc.Stop(ctx))
				}
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
	answers  atomic.Int64 // frames forwarded back
	fetches  atomic.Int64 // Fetch requests forwarded

	mu      sync.Mutex
	cond    *sync.Cond
	holding bool
	*proxyListeners
}

func newHoldingProxy(t *testing.T) *holdingProxy {
	px := &holdingProxy{t: t}
	px.cond = sync.NewCond(&px.mu)
	px.proxyListeners = newProxyListeners(t, px.serve)
	t.Cleanup(px.release)
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

func (px *holdingProxy) serve(client net.Conn, target string) {
	broker, err := net.Dial("tcp", target)
	if err != nil {
		client.Close()
		return
	}
	go func() {
		defer broker.Close()
		defer client.Close()
		px.copyFrames(broker, client, func(req []byte) {
			px.requests.Add(1)
			if binary.BigEndian.Uint16(req) == uint16(protocol.APIKeyFetch) {
				px.fetches.Add(1)
			}
		})
	}()
	defer broker.Close()
	defer client.Close()
	px.copyFrames(client, broker, func([]byte) {
		px.mu.Lock()
		for px.holding {
			px.cond.Wait()
		}
		px.mu.Unlock()
		px.answers.Add(1)
	})
}

// inFlight is the number of requests forwarded and not yet answered.
func (px *holdingProxy) inFlight() int64 { return px.requests.Load() - px.answers.Load() }

// copyFrames copies size-prefixed frames from src to dst, calling before
// with its body ahead of writing each.
func (px *holdingProxy) copyFrames(dst io.Writer, src io.Reader, before func(body []byte)) {
	var size [4]byte
	for {
		if _, err := io.ReadFull(src, size[:]); err != nil {
			return
		}
		body := make([]byte, binary.BigEndian.Uint32(size[:]))
		if _, err := io.ReadFull(src, body); err != nil {
			return
		}
		if len(body) < 2 {
			return
		}
		before(body)
		if _, err := dst.Write(append(size[:], body...)); err != nil {
			return
		}
	}
}
