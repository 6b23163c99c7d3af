package kafka

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/handler/eventloop"
	"github.com/gregorkafka/gregor/handler/goroutine"
	"github.com/gregorkafka/gregor/internal/testcluster"
	"github.com/gregorkafka/gregor/protocol"
)

func TestMain(m *testing.M) { testcluster.Main(m) }

// testLogger discards logs unless GREGOR_TEST_LOG is set, which sends
// debug-level logs to stderr.
func testLogger() *slog.Logger {
	if os.Getenv("GREGOR_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// forEachHandler runs fn as a subtest on each handler implementation.
func forEachHandler(t *testing.T, fn func(t *testing.T, h handler.Handler)) {
	t.Helper()
	for _, name := range []string{"goroutine", "eventloop"} {
		t.Run(name, func(t *testing.T) {
			fn(t, newHandler(t, name))
		})
	}
}

// forEachHandlerParallel is forEachHandler with the two runs side by
// side, for integration tests whose runs share nothing but the cluster
// (each makes its own topics and groups) and spend most of their time
// waiting on the broker: rebalances, timeouts, other processes. Top-level
// tests stay sequential, so no other test's run overlaps these.
func forEachHandlerParallel(t *testing.T, fn func(t *testing.T, h handler.Handler)) {
	t.Helper()
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		t.Parallel()
		fn(t, h)
	})
}

func newHandler(t *testing.T, name string) handler.Handler {
	t.Helper()
	var h handler.Handler
	switch name {
	case "goroutine":
		h = goroutine.New()
	case "eventloop":
		// Waiting in the netpoller, as on one CPU: the handler's own tests
		// cover gnet's wait, the default with a P to spare.
		el, err := eventloop.New(eventloop.WithLoops(2), eventloop.WithNetpollWait(true))
		require.NoError(t, err)
		h = el
	default:
		t.Fatalf("unknown handler %q", name)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// chaosRounds is how many kill rounds the fault tests run: 1 in make
// test, GREGOR_CHAOS_ROUNDS in make chaos.
func chaosRounds(t *testing.T) int {
	t.Helper()
	v := os.Getenv("GREGOR_CHAOS_ROUNDS")
	if v == "" {
		return 1
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("GREGOR_CHAOS_ROUNDS=%q: want a count of at least 1", v)
	}
	return n
}

// testCtx is bounded, so a hang fails the test instead of the whole run.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func newTestClient(t *testing.T, ctx context.Context, h handler.Handler, cfg Config) *Client {
	t.Helper()
	cfg.Handler = h
	if cfg.Logger == nil {
		cfg.Logger = testLogger()
	}
	c, err := NewClient(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// eventually polls cond until it holds, failing the test when ctx ends.
func eventually(t *testing.T, ctx context.Context, h handler.Handler, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		if err := h.Sleep(ctx, 100*time.Millisecond); err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
	}
}

// uniqueTopic names a topic for one test run on one handler.
func uniqueTopic(t *testing.T, prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano(), topicSeq.Add(1))
}

// topicSeq keeps names unique between tests running side by side.
var topicSeq atomic.Int64

// deadAddr returns an address nothing listens on: connections are refused
// at once.
func deadAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// produce writes records with the given timestamps (ms) to partition p
// through its leader, with the raw protocol, and returns the base offset.
func produceRecords(t *testing.T, ctx context.Context, p *Partition, acks int16, timestamps ...int64) int64 {
	t.Helper()
	batch := &protocol.RecordBatch{ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1}
	for i, ts := range timestamps {
		batch.Records = append(batch.Records, protocol.Record{
			Offset: int64(i), Timestamp: ts, Value: []byte(fmt.Sprintf("record %d", i)),
		})
	}
	records, err := protocol.AppendRecordBatch(nil, batch, protocol.CompressionNone)
	require.NoError(t, err)
	req := protocol.NewProduceRequest()
	req.Acks = acks
	req.TimeoutMs = 10000
	req.TopicData = []protocol.ProduceRequestTopic{{
		Name:          p.Topic().Name(),
		PartitionData: []protocol.ProduceRequestPartition{{Index: p.ID(), Records: records}},
	}}
	leader := p.Leader()
	require.NotNil(t, leader, "partition %v has no leader", p)
	resp, err := leader.Produce(ctx, req)
	require.NoError(t, err)
	if acks == 0 {
		require.Nil(t, resp, "acks=0 gets no response")
		return -1
	}
	require.Len(t, resp.Responses, 1)
	pr := resp.Responses[0].PartitionResponses
	require.Len(t, pr, 1)
	require.NoError(t, protocol.ErrorForCode(pr[0].ErrorCode))
	return pr[0].BaseOffset
}
