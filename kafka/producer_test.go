package kafka

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/protocol"
)

// Producer tests against pfCluster, the in-process fake: they control
// every answer and its timing, so batching, retries and failures are
// checked exactly. Tests against real brokers are in
// producer_integration_test.go.

// pfSetup starts a fake cluster and a client for it on h.
func pfSetup(t *testing.T, h handler.Handler, brokers, partitions int) (*pfCluster, *Topic) {
	t.Helper()
	c := newPFCluster(t, brokers, partitions)
	ctx := testCtx(t)
	cl := newTestClient(t, ctx, h, Config{Hosts: c.bootstrap()})
	topic, err := cl.Topic(ctx, c.topic)
	require.NoError(t, err)
	return c, topic
}

// newTestProducer makes a producer closed at the end of the test.
func newTestProducer(t *testing.T, topic *Topic, cfg ProducerConfig) *Producer {
	t.Helper()
	p, err := topic.Producer(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// collectReports reads p's reports as they come; the function returned
// waits until the channel is closed (by Close) and returns them all.
func collectReports(t *testing.T, p *Producer) func() []DeliveryReport {
	var out []DeliveryReport
	done := make(chan struct{})
	go func() {
		defer close(done)
		for r := range p.Reports() {
			out = append(out, r)
		}
	}()
	return func() []DeliveryReport {
		t.Helper()
		select {
		case <-done:
		case <-t.Context().Done():
			t.Fatal("reports channel never closed")
		}
		return out
	}
}

// indexOf reads the message number from values made by value(i).
func indexOf(t *testing.T, v []byte) int {
	var i int
	_, err := fmt.Sscanf(string(v), "value-%d", &i)
	require.NoError(t, err, "value %q", v)
	return i
}

func value(i int) []byte { return []byte(fmt.Sprintf("value-%d", i)) }

// checkReports verifies that every message 0..n-1 was reported exactly
// once, successfully, at the offset the log holds it. An idempotent
// producer reports offset -1 for a batch whose answer was lost and which
// it knows was written only because a later one was acknowledged: such a
// message must be in the log.
func checkReports(t *testing.T, c *pfCluster, reports []DeliveryReport, n int) {
	t.Helper()
	require.Len(t, reports, n)
	seen := make([]bool, n)
	for _, r := range reports {
		require.NoError(t, r.Err)
		i := indexOf(t, r.Message.Value)
		require.False(t, seen[i], "message %d reported twice", i)
		seen[i] = true
		log := c.log(int(r.Message.Partition))
		if r.Message.Offset == -1 {
			assert.True(t, slices.ContainsFunc(log, func(rec protocol.Record) bool {
				return bytes.Equal(rec.Value, r.Message.Value)
			}), "message %d, reported written at an unknown offset, is not in the log", i)
			continue
		}
		require.GreaterOrEqual(t, r.Message.Offset, int64(0), "report %+v", r)
		require.Less(t, r.Message.Offset, int64(len(log)), "report %+v", r)
		assert.Equal(t, r.Message.Value, log[r.Message.Offset].Value, "the report's offset holds its message")
		assert.Equal(t, c.topic, r.Message.Topic)
	}
}

func TestProducerDeliversAndReports(t *testing.T) {
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		c, topic := pfSetup(t, h, 3, 6)
		p := newTestProducer(t, topic, ProducerConfig{DeliveryReports: true, Partitioner: RoundRobinPartitioner()})
		reports := collectReports(t, p)
		ctx := testCtx(t)
		const n = 600
		for i := range n {
			m := Message{Key: []byte(fmt.Sprint("key-", i)), Value: value(i)}
			if i%5 == 0 {
				m.Headers = []Header{{Key: "h", Value: []byte{byte(i)}}, {Key: "null"}}
			}
			if i%7 == 0 {
				m.Key = nil
			}
			require.NoError(t, p.Produce(ctx, m))
		}
		require.NoError(t, p.Close())
		all := reports()
		checkReports(t, c, all, n)

		// Per partition, the log holds the messages in produce order, with
		// keys, headers and null keys intact.
		for part := range 6 {
			prev := -1
			for _, r := range c.log(part) {
				i := indexOf(t, r.Value)
				assert.Greater(t, i, prev, "partition %d out of order", part)
				prev = i
				if i%7 == 0 {
					assert.Nil(t, r.Key)
				} else {
					assert.Equal(t, fmt.Sprint("key-", i), string(r.Key))
				}
				if i%5 == 0 {
					require.Len(t, r.Headers, 2)
					assert.Equal(t, []byte{byte(i)}, r.Headers[0].Value)
					assert.Nil(t, r.Headers[1].Value)
				} else {
					assert.Empty(t, r.Headers)
				}
			}
			assert.Equal(t, n/6, len(c.log(part)), "round robin spreads evenly")
		}
		for _, e := range c.produced() {
			assert.Equal(t, int8(2), e.Magic, "record batches at Produce v%d", e.Version)
			assert.Equal(t, int16(-1), e.Acks, "acks=all by default")
		}

		_, err := topic.Producer(ProducerConfig{})
		require.NoError(t, err)
		assert.ErrorIs(t, p.Produce(ctx, Message{Value: value(0)}), ErrProducerClosed)
		assert.NoError(t, p.Close(), "Close is idempotent")
	})
}

func TestProducerLegacyMessageSets(t *testing.T) {
	h := newHandler(t, "goroutine")
	for _, tc := range []struct {
		version int16
		magic   int8
	}{{0, 0}, {1, 0}, {2, 1}, {3, 2}} {
		for _, codec := range []Compression{CompressionNone, CompressionGzip, CompressionSnappy, CompressionLZ4} {
			t.Run(fmt.Sprintf("v%d/%s", tc.version, codec), func(t *testing.T) {
				c, topic := pfSetup(t, h, 1, 1)
				c.setMaxProduce(tc.version)
				p := newTestProducer(t, topic, ProducerConfig{Compression: codec, DeliveryReports: true})
				reports := collectReports(t, p)
				ctx := testCtx(t)
				stamp := time.UnixMilli(1700000000123)
				for i := range 20 {
					require.NoError(t, p.Produce(ctx, Message{Key: []byte{byte(i)}, Value: value(i), Timestamp: stamp}))
				}
				require.NoError(t, p.Flush(ctx))
				require.NoError(t, p.Produce(ctx, Message{Value: value(20), Headers: []Header{{Key: "h"}}}))
				require.NoError(t, p.Close())
				all := reports()
				require.Len(t, all, 21)
				last := all[20]
				if tc.magic < 2 {
					require.ErrorIs(t, last.Err, protocol.ErrUnsupportedForMessageFormat, "headers need record batches")
					var pe *PartitionError
					require.ErrorAs(t, last.Err, &pe)
					all = all[:20]
				}
				checkReports(t, c, all, len(all))
				for _, e := range c.produced() {
					assert.Equal(t, tc.version, e.Version)
					assert.Equal(t, tc.magic, e.Magic)
					assert.Equal(t, codec, e.Codec)
				}
				for i, r := range c.log(0)[:20] {
					assert.Equal(t, value(i), r.Value)
					assert.Equal(t, []byte{byte(i)}, r.Key)
					if tc.magic > 0 {
						assert.Equal(t, stamp.UnixMilli(), r.Timestamp)
					}
				}
			})
		}
	}
}

func TestProducerFollowsLeaderMove(t *testing.T) {
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		c, topic := pfSetup(t, h, 2, 1)
		moved := false
		c.setOnProduce(func(e *pfProduce) (int16, <-chan struct{}) {
			if !moved {
				moved = true
				c.leaders[0] = 2 // mu is held
				return protocol.ErrNotLeaderOrFollower.Code, nil
			}
			return 0, nil
		})
		p := newTestProducer(t, topic, ProducerConfig{DeliveryReports: true})
		reports := collectReports(t, p)
		ctx := testCtx(t)
		for i := range 50 {
			require.NoError(t, p.Produce(ctx, Message{Value: value(i)}))
		}
		require.NoError(t, p.Close())
		checkReports(t, c, reports(), 50)
		for i, r := range c.log(0) {
			assert.Equal(t, value(i), r.Value, "in order, each once")
		}
		seen := c.produced()
		assert.Equal(t, int32(1), seen[0].Broker)
		for _, e := range seen[1:] {
			assert.Equal(t, int32(2), e.Broker, "the rest goes to the new leader")
		}
	})
}

func TestProducerRetriesAfterDisconnect(t *testing.T) {
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		c, topic := pfSetup(t, h, 1, 2)
		hangUps := 0
		c.setOnProduce(func(e *pfProduce) (int16, <-chan struct{}) {
			if hangUps < 2 {
				hangUps++
				return pfHangUp, nil
			}
			return 0, nil
		})
		p := newTestProducer(t, topic, ProducerConfig{DeliveryReports: true})
		reports := collectReports(t, p)
		ctx := testCtx(t)
		for i := range 100 {
			require.NoError(t, p.Produce(ctx, Message{Value: value(i)}))
		}
		require.NoError(t, p.Close())
		checkReports(t, c, reports(), 100)
		assert.Len(t, c.log(0), 50)
		assert.Equal(t, 50, len(c.log(1)))
	})
}

func TestProducerRetriesExhausted(t *testing.T) {
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		for _, tc := range []struct {
			maxRetries int
			tries      int
		}{{2, 3}, {-1, 1}} {
			t.Run(fmt.Sprint("MaxRetries ", tc.maxRetries), func(t *testing.T) {
				c, topic := pfSetup(t, h, 1, 1)
				c.setOnProduce(func(e *pfProduce) (int16, <-chan struct{}) {
					return protocol.ErrNotEnoughReplicas.Code, nil
				})
				p := newTestProducer(t, topic, ProducerConfig{
					DeliveryReports: true, MaxRetries: tc.maxRetries, RetryBackoff: time.Millisecond,
				})
				reports := collectReports(t, p)
				require.NoError(t, p.Produce(testCtx(t), Message{Value: value(0)}))
				require.NoError(t, p.Close())
				all := reports()
				require.Len(t, all, 1)
				require.ErrorIs(t, all[0].Err, protocol.ErrNotEnoughReplicas)
				var pe *PartitionError
				require.ErrorAs(t, all[0].Err, &pe)
				assert.Equal(t, int32(0), pe.Partition)
				assert.Equal(t, int64(-1), all[0].Message.Offset)
				assert.Len(t, c.produced(), tc.tries)
			})
		}
	})
}

// TestProducerRetryKeepsOrder fails a third of all produce entries with a
// retriable error while four goroutines produce to four partitions: every
// message still arrives once, in produce order.
func TestProducerRetryKeepsOrder(t *testing.T) {
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		c, topic := pfSetup(t, h, 2, 4)
		n := 0
		c.setOnProduce(func(e *pfProduce) (int16, <-chan struct{}) {
			n++
			if n%3 == 0 {
				return protocol.ErrRequestTimedOut.Code, nil
			}
			return 0, nil
		})
		p := newTestProducer(t, topic, ProducerConfig{
			DeliveryReports: true, Partitioner: ManualPartitioner(), MaxRetries: 1000, RetryBackoff: time.Millisecond,
		})
		reports := collectReports(t, p)
		ctx := testCtx(t)
		const per = 300
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range per {
					assert.NoError(t, p.Produce(ctx, Message{Value: value(g*per + i), Partition: int32(g)}))
				}
			}()
		}
		wg.Wait()
		require.NoError(t, p.Close())
		checkReports(t, c, reports(), 4*per)
		for g := range 4 {
			log := c.log(g)
			require.Len(t, log, per)
			for i, r := range log {
				require.Equal(t, value(g*per+i), r.Value, "partition %d offset %d", g, i)
			}
		}
	})
}

// TestProducerSplitsWhatTheBrokerFindsTooLarge: a broker whose limit is
// below the producer's refuses batches of more than 8 records and any
// value above 500 bytes. The producer halves refused batches until they
// pass; the one oversized message fails alone.
func TestProducerSplitsWhatTheBrokerFindsTooLarge(t *testing.T) {
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		c, topic := pfSetup(t, h, 1, 1)
		c.setOnProduce(func(e *pfProduce) (int16, <-chan struct{}) {
			if len(e.Records) > 8 {
				return protocol.ErrMessageTooLarge.Code, nil
			}
			for _, r := range e.Records {
				if len(r.Value) > 500 {
					return protocol.ErrMessageTooLarge.Code, nil
				}
			}
			return 0, nil
		})
		p := newTestProducer(t, topic, ProducerConfig{DeliveryReports: true, ManualStart: true})
		reports := collectReports(t, p)
		ctx := testCtx(t)
		big := bytes.Repeat([]byte{'x'}, 600)
		for i := range 40 {
			require.NoError(t, p.Produce(ctx, Message{Value: value(i)}))
			if i == 20 {
				require.NoError(t, p.Produce(ctx, Message{Value: big}))
			}
		}
		require.NoError(t, p.Start())
		require.NoError(t, p.Close())
		var ok []DeliveryReport
		for _, r := range reports() {
			if bytes.Equal(r.Message.Value, big) {
				require.ErrorIs(t, r.Err, ErrMessageTooLarge)
				continue
			}
			ok = append(ok, r)
		}
		checkReports(t, c, ok, 40)
		for i, r := range c.log(0) {
			assert.Equal(t, value(i), r.Value)
		}
		for _, b := range c.batchesOf(0) {
			assert.LessOrEqual(t, b.Records, 8)
		}
	})
}

// TestProducerRemembersTheBrokersBatchLimit: once a broker has refused a
// batch as too large, the producer cuts later batches below the size that
// passed, rather than sending every batch at full size again only to see
// it refused. An idempotent producer's halves keep the refused batch's
// sequence numbers, so no new epoch is asked for.
func TestProducerRemembersTheBrokersBatchLimit(t *testing.T) {
	for _, idem := range []Idempotence{IdempotenceOff, IdempotenceOn} {
		t.Run(idem.String(), func(t *testing.T) {
			forEachHandler(t, func(t *testing.T, h handler.Handler) {
				c, topic := pfSetup(t, h, 1, 1)
				var refused atomic.Int64
				c.setOnProduce(func(e *pfProduce) (int16, <-chan struct{}) {
					if len(e.Records) > 8 {
						refused.Add(1)
						return protocol.ErrMessageTooLarge.Code, nil
					}
					return 0, nil
				})
				// A batch of 40 waits for all 40 (or Flush).
				p := newTestProducer(t, topic, ProducerConfig{Idempotence: idem, RequiredAcks: AcksAll,
					MinQueuedMessages: 40, Linger: time.Hour})
				ctx := testCtx(t)
				perRound := make([]int64, 4)
				for round := range perRound {
					before := refused.Load()
					for i := range 40 {
						require.NoError(t, p.Produce(ctx, Message{Value: value(round*40 + i)}))
					}
					require.NoError(t, p.Flush(ctx))
					perRound[round] = refused.Load() - before
				}
				assert.Positive(t, perRound[0], "the first batch of 40 is refused")
				assert.Equal(t, []int64{0, 0, 0}, perRound[1:], "later rounds refused")
				require.NoError(t, p.Close())
				if idem == IdempotenceOn {
					// The halves kept the refused batch's sequence
					// numbers: no new epoch was needed.
					assert.Len(t, c.initProducerIDCalls(), 1)
				}
				log := c.log(0)
				require.Len(t, log, 160)
				for i, r := range log {
					assert.Equal(t, value(i), r.Value)
				}
				for _, b := range c.batchesOf(0) {
					assert.LessOrEqual(t, b.Records, 8)
				}
			})
		})
	}
}

func TestProducerRefusesOversizeMessage(t *testing.T) {
	h := newHandler(t, "goroutine")
	c, topic := pfSetup(t, h, 1, 1)
	p := newTestProducer(t, topic, ProducerConfig{DeliveryReports: true, MaxRequestSize: 2000})
	reports := collectReports(t, p)
	ctx := testCtx(t)
	require.NoError(t, p.Produce(ctx, Message{Value: value(0)}))
	err := p.Produce(ctx, Message{Value: make([]byte, 2000)})
	require.ErrorIs(t, err, ErrMessageTooLarge)
	require.ErrorIs(t, err, protocol.ErrMessageTooLarge)
	require.NoError(t, p.Produce(ctx, Message{Value: value(1)}))
	require.NoError(t, p.Close())
	checkReports(t, c, reports(), 2)

	// Many messages that fit one by one are spread over requests below the
	// limit.
	before := len(c.produced())
	p = newTestProducer(t, topic, ProducerConfig{MaxRequestSize: 2000, ManualStart: true})
	for i := range 100 {
		require.NoError(t, p.Produce(ctx, Message{Value: append(value(i), make([]byte, 80)...)}))
	}
	require.NoError(t, p.Start())
	require.NoError(t, p.Close())
	total := 0
	for _, e := range c.produced()[before:] {
		assert.Less(t, e.valueBytes(), 2000)
		total += len(e.Records)
	}
	assert.Equal(t, 100, total)
}

// TestProducerRequestsCarrySeveralBatches: by default a request carries
// the batches of its broker's partitions that have some, each within
// MaxBatchSize, which also caps a message; MaxRequestSize bounds them all
// together. Setting MaxRequestSize alone caps batches at it, as before.
func TestProducerRequestsCarrySeveralBatches(t *testing.T) {
	h := newHandler(t, "goroutine")
	c, topic := pfSetup(t, h, 1, 3)
	ctx := testCtx(t)
	produce := func(cfg ProducerConfig) []pfProduce {
		t.Helper()
		before := len(c.produced())
		cfg.ManualStart, cfg.Partitioner = true, ManualPartitioner()
		p := newTestProducer(t, topic, cfg)
		for i := range 90 {
			require.NoError(t, p.Produce(ctx, Message{Value: append(value(i), make([]byte, 80)...), Partition: int32(i % 3)}))
		}
		require.NoError(t, p.Start())
		require.NoError(t, p.Close())
		return c.produced()[before:]
	}
	entries := produce(ProducerConfig{MaxBatchSize: 2000})
	parts := map[int]map[int32]bool{} // request → partitions in it
	total := 0
	for _, e := range entries {
		assert.Less(t, e.valueBytes(), 2000, "a batch above MaxBatchSize")
		if parts[e.Request] == nil {
			parts[e.Request] = map[int32]bool{}
		}
		parts[e.Request][e.Partition] = true
		total += len(e.Records)
	}
	assert.Equal(t, 90, total)
	for req, ps := range parts {
		assert.Len(t, ps, 3, "request %d carries every partition's batch", req)
	}

	p := newTestProducer(t, topic, ProducerConfig{MaxBatchSize: 2000})
	require.ErrorIs(t, p.Produce(ctx, Message{Value: make([]byte, 2000)}), ErrMessageTooLarge)

	// MaxRequestSize alone: a request of at most 2000 bytes, as a batch is.
	entries = produce(ProducerConfig{MaxRequestSize: 2000})
	sizes := map[int]int{}
	for _, e := range entries {
		sizes[e.Request] += e.valueBytes()
	}
	for req, size := range sizes {
		assert.Less(t, size, 2000, "request %d", req)
	}
}

// TestProducerBatchesWhileBusy: a message to an idle broker goes out at
// once; what is produced while its request is in flight goes out together
// in the next one.
func TestProducerBatchesWhileBusy(t *testing.T) {
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		c, topic := pfSetup(t, h, 1, 1)
		gate := make(chan struct{})
		first := true
		c.setOnProduce(func(e *pfProduce) (int16, <-chan struct{}) {
			if first {
				first = false
				return 0, gate
			}
			return 0, nil
		})
		p := newTestProducer(t, topic, ProducerConfig{DeliveryReports: true})
		reports := collectReports(t, p)
		ctx := testCtx(t)
		require.NoError(t, p.Produce(ctx, Message{Value: value(0)}))
		c.waitSeen(t, func(s []pfProduce) bool { return len(s) == 1 })
		for i := 1; i <= 50; i++ {
			require.NoError(t, p.Produce(ctx, Message{Value: value(i)}))
		}
		close(gate)
		require.NoError(t, p.Flush(ctx))
		var sizes []int
		for _, b := range c.batchesOf(0) {
			sizes = append(sizes, b.Records)
		}
		assert.Equal(t, []int{1, 50}, sizes)
		require.NoError(t, p.Close())
		checkReports(t, c, reports(), 51)
	})
}

// TestProducerMinQueuedWhileBusy: a partition holding MinQueuedMessages
// does not wait for the broker's request for another partition.
func TestProducerMinQueuedWhileBusy(t *testing.T) {
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		c, topic := pfSetup(t, h, 1, 2)
		gate := make(chan struct{})
		c.setOnProduce(func(e *pfProduce) (int16, <-chan struct{}) {
			if e.Partition == 0 {
				return 0, gate
			}
			return 0, nil
		})
		p := newTestProducer(t, topic, ProducerConfig{
			DeliveryReports: true, Partitioner: ManualPartitioner(), MinQueuedMessages: 10,
		})
		reports := collectReports(t, p)
		ctx := testCtx(t)
		require.NoError(t, p.Produce(ctx, Message{Value: value(0), Partition: 0}))
		c.waitSeen(t, func(s []pfProduce) bool { return len(s) == 1 })
		for i := 1; i <= 10; i++ {
			require.NoError(t, p.Produce(ctx, Message{Value: value(i), Partition: 1}))
		}
		// Partition 1 goes out while partition 0's request is still held.
		c.waitSeen(t, func(s []pfProduce) bool { return len(s) == 2 })
		seen := c.produced()
		assert.Equal(t, int32(1), seen[1].Partition)
		assert.Len(t, seen[1].Records, 10, "nothing went out before the tenth message")
		close(gate)
		require.NoError(t, p.Close())
		checkReports(t, c, reports(), 11)
	})
}

// TestProducerLinger: with Linger set, a partition waits for
// MinQueuedMessages (or Linger) even when the broker is idle.
func TestProducerLinger(t *testing.T) {
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		t.Run("min queued", func(t *testing.T) {
			c, topic := pfSetup(t, h, 1, 1)
			p := newTestProducer(t, topic, ProducerConfig{DeliveryReports: true, Linger: time.Hour, MinQueuedMessages: 5})
			reports := collectReports(t, p)
			ctx := testCtx(t)
			for i := range 12 {
				require.NoError(t, p.Produce(ctx, Message{Value: value(i)}))
			}
			c.waitSeen(t, func(s []pfProduce) bool { return len(s) >= 1 })
			require.NoError(t, p.Close())
			seen := c.produced()
			total := 0
			for i, e := range seen {
				if i < len(seen)-1 {
					assert.GreaterOrEqual(t, len(e.Records), 5, "only Close sends fewer than MinQueuedMessages")
				}
				total += len(e.Records)
			}
			assert.Equal(t, 12, total)
			checkReports(t, c, reports(), 12)
		})
		t.Run("timer", func(t *testing.T) {
			c, topic := pfSetup(t, h, 1, 1)
			p := newTestProducer(t, topic, ProducerConfig{DeliveryReports: true, Linger: 5 * time.Millisecond})
			ctx := testCtx(t)
			for i := range 3 {
				require.NoError(t, p.Produce(ctx, Message{Value: value(i)}))
			}
			// No Flush: the linger timer sends them.
			var got []DeliveryReport
			for len(got) < 3 {
				select {
				case r := <-p.Reports():
					require.NoError(t, r.Err)
					got = append(got, r)
				case <-ctx.Done():
					t.Fatal("lingering messages never sent")
				}
			}
			assert.Len(t, c.log(0), 3)
		})
	})
}

func TestProducerQueueFull(t *testing.T) {
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		c, topic := pfSetup(t, h, 1, 1)
		gate := make(chan struct{})
		c.setOnProduce(func(e *pfProduce) (int16, <-chan struct{}) { return 0, gate })
		ctx := testCtx(t)

		p := newTestProducer(t, topic, ProducerConfig{MaxQueuedMessages: 5, ErrorOnQueueFull: true})
		for i := range 5 {
			require.NoError(t, p.Produce(ctx, Message{Value: value(i)}))
		}
		require.ErrorIs(t, p.Produce(ctx, Message{Value: value(5)}), ErrQueueFull)

		b := newTestProducer(t, topic, ProducerConfig{MaxQueuedMessages: 5, DeliveryReports: true})
		reports := collectReports(t, b)
		for i := range 5 {
			require.NoError(t, b.Produce(ctx, Message{Value: value(10 + i)}))
		}
		short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		defer cancel()
		require.ErrorIs(t, b.Produce(short, Message{Value: value(15)}), context.DeadlineExceeded, "blocks while full")
		blocked := make(chan error, 1)
		go func() { blocked <- b.Produce(ctx, Message{Value: value(16)}) }()
		close(gate) // room again once the broker answers
		require.NoError(t, <-blocked)
		require.NoError(t, p.Close())
		require.NoError(t, b.Close())
		assert.Len(t, reports(), 6)
		assert.Len(t, c.log(0), 11)
	})
}

// TestProducerStopGivesUp: when Stop's context ends before the broker
// answers, every message held is reported once with ErrProducerClosed, and
// the late answer changes nothing.
func TestProducerStopGivesUp(t *testing.T) {
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		c, topic := pfSetup(t, h, 1, 2)
		gate := make(chan struct{})
		c.setOnProduce(func(e *pfProduce) (int16, <-chan struct{}) { return 0, gate })
		p := newTestProducer(t, topic, ProducerConfig{DeliveryReports: true})
		reports := collectReports(t, p)
		ctx := testCtx(t)
		for i := range 10 {
			require.NoError(t, p.Produce(ctx, Message{Value: value(i)}))
		}
		c.waitSeen(t, func(s []pfProduce) bool { return len(s) >= 1 })
		stop, cancel := context.WithCancel(ctx)
		cancel()
		require.ErrorIs(t, p.Stop(stop), context.Canceled)
		all := reports()
		require.Len(t, all, 10)
		seen := map[int]bool{}
		for _, r := range all {
			require.ErrorIs(t, r.Err, ErrProducerClosed)
			seen[indexOf(t, r.Message.Value)] = true
		}
		assert.Len(t, seen, 10)
		close(gate)
		eventually(t, ctx, h, "late responses handled", func() bool {
			p.mu.Lock()
			defer p.mu.Unlock()
			for _, pb := range p.parts {
				if pb != nil && pb.inflight != 0 {
					return false
				}
			}
			return true
		})
		assert.ErrorIs(t, p.Stop(ctx), context.Canceled, "later calls return the first result")
	})
}

func TestProducerAcksNone(t *testing.T) {
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		c, topic := pfSetup(t, h, 1, 1)
		p := newTestProducer(t, topic, ProducerConfig{DeliveryReports: true, RequiredAcks: AcksNone})
		reports := collectReports(t, p)
		ctx := testCtx(t)
		for i := range 20 {
			require.NoError(t, p.Produce(ctx, Message{Value: value(i)}))
		}
		require.NoError(t, p.Close())
		all := reports()
		require.Len(t, all, 20)
		for _, r := range all {
			require.NoError(t, r.Err)
			assert.Equal(t, int64(-1), r.Message.Offset)
		}
		c.waitSeen(t, func(s []pfProduce) bool {
			n := 0
			for _, e := range s {
				n += len(e.Records)
			}
			return n == 20
		})
		for _, e := range c.produced() {
			assert.Equal(t, int16(0), e.Acks)
		}
	})
}

func TestSyncProducer(t *testing.T) {
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		c, topic := pfSetup(t, h, 2, 4)
		sp, err := topic.SyncProducer(ProducerConfig{Partitioner: HashPartitioner(nil)})
		require.NoError(t, err)
		defer sp.Close()
		ctx := testCtx(t)
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 25 {
					n := g*25 + i
					part, off, err := sp.Produce(ctx, Message{Key: []byte(fmt.Sprint(n)), Value: value(n)})
					if !assert.NoError(t, err) {
						return
					}
					want, _ := HashPartitioner(nil).Partition(&Message{Key: []byte(fmt.Sprint(n))}, 4)
					assert.Equal(t, want, part)
					assert.Equal(t, value(n), c.log(int(part))[off].Value, "acknowledged before Produce returned")
				}
			}()
		}
		wg.Wait()

		_, _, err = sp.Produce(ctx, Message{Value: value(0)})
		require.ErrorIs(t, err, ErrNilKey)

		c.setOnProduce(func(e *pfProduce) (int16, <-chan struct{}) { return protocol.ErrInvalidRecord.Code, nil })
		part, off, err := sp.Produce(ctx, Message{Key: []byte("k"), Value: value(0)})
		require.ErrorIs(t, err, protocol.ErrInvalidRecord)
		assert.Equal(t, int64(-1), off)
		want, _ := HashPartitioner(nil).Partition(&Message{Key: []byte("k")}, 4)
		assert.Equal(t, want, part)

		// Producer with Sync returns the error from Produce too.
		p := newTestProducer(t, topic, ProducerConfig{Sync: true, DeliveryReports: true})
		require.ErrorIs(t, p.Produce(ctx, Message{Value: value(0)}), protocol.ErrInvalidRecord)
	})
}

func TestProducerRefusals(t *testing.T) {
	h := newHandler(t, "goroutine")
	_, topic := pfSetup(t, h, 1, 3)
	ctx := testCtx(t)
	p := newTestProducer(t, topic, ProducerConfig{Partitioner: ManualPartitioner()})
	require.ErrorIs(t, p.Produce(ctx, Message{Partition: 3}), ErrInvalidPartition)
	require.ErrorIs(t, p.Produce(ctx, Message{Partition: -1}), ErrInvalidPartition)
	failing := errors.New("no partition for you")
	q := newTestProducer(t, topic, ProducerConfig{
		Partitioner: PartitionerFunc(func(*Message, int) (int32, error) { return 0, failing }),
	})
	require.ErrorIs(t, q.Produce(ctx, Message{}), failing)
}

func TestProducerWaitsForLeader(t *testing.T) {
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		t.Run("gives up", func(t *testing.T) {
			c, topic := pfSetup(t, h, 1, 1)
			c.setLeader(0, -1)
			require.NoError(t, topic.cl.Update(testCtx(t)))
			p := newTestProducer(t, topic, ProducerConfig{DeliveryReports: true, MaxRetries: 2, RetryBackoff: time.Millisecond})
			reports := collectReports(t, p)
			require.NoError(t, p.Produce(testCtx(t), Message{Value: value(0)}))
			require.NoError(t, p.Close())
			all := reports()
			require.Len(t, all, 1)
			require.ErrorIs(t, all[0].Err, ErrNoLeader)
			assert.Empty(t, c.produced())
		})
		t.Run("leader comes back", func(t *testing.T) {
			c, topic := pfSetup(t, h, 1, 1)
			c.setLeader(0, -1)
			ctx := testCtx(t)
			require.NoError(t, topic.cl.Update(ctx))
			p := newTestProducer(t, topic, ProducerConfig{DeliveryReports: true, MaxRetries: 1000, RetryBackoff: time.Millisecond})
			reports := collectReports(t, p)
			before := c.metadataRequests()
			require.NoError(t, p.Produce(ctx, Message{Value: value(0)}))
			eventually(t, ctx, h, "metadata rounds", func() bool { return c.metadataRequests() >= before+3 })
			c.setLeader(0, 1)
			require.NoError(t, p.Close())
			checkReports(t, c, reports(), 1)
		})
	})
}

func TestProducerManualStart(t *testing.T) {
	h := newHandler(t, "goroutine")
	c, topic := pfSetup(t, h, 1, 2)
	p := newTestProducer(t, topic, ProducerConfig{ManualStart: true, DeliveryReports: true})
	reports := collectReports(t, p)
	ctx := testCtx(t)
	for i := range 5 {
		require.NoError(t, p.Produce(ctx, Message{Value: value(i)}))
	}
	p.mu.Lock()
	assert.Empty(t, p.sinks, "nothing routed before Start")
	p.mu.Unlock()
	require.NoError(t, p.Start())
	require.NoError(t, p.Flush(ctx))
	assert.Len(t, c.log(0), 3)
	assert.Len(t, c.log(1), 2)
	require.NoError(t, p.Close())
	require.ErrorIs(t, p.Start(), ErrProducerClosed)
	checkReports(t, c, reports(), 5)
}

func TestPublish(t *testing.T) {
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		c, topic := pfSetup(t, h, 2, 4)
		ctx := testCtx(t)
		require.NoError(t, topic.Publish(ctx, []byte("hello world")))
		require.NoError(t, topic.Publish(ctx, []byte("hello"), []byte("world"), nil))
		seen := c.produced()
		require.Len(t, seen, 2)
		assert.Len(t, seen[0].Records, 1)
		require.Len(t, seen[1].Records, 3, "a list is one batch to one partition")
		assert.Equal(t, []byte("hello"), seen[1].Records[0].Value)
		assert.Equal(t, []byte("world"), seen[1].Records[1].Value)
		assert.Nil(t, seen[1].Records[2].Value)
		require.NoError(t, topic.Publish(ctx))

		moved := false
		c.setOnProduce(func(e *pfProduce) (int16, <-chan struct{}) {
			if !moved {
				moved = true
				c.leaders[e.Partition] = 3 - e.Broker
				return protocol.ErrNotLeaderOrFollower.Code, nil
			}
			return 0, nil
		})
		require.NoError(t, topic.Publish(ctx, []byte("after a move")))
		seen = c.produced()
		assert.NotEqual(t, seen[len(seen)-2].Broker, seen[len(seen)-1].Broker)

		// A refusal that retrying cannot mend fails at once (retries run
		// out in TestPublishRetriesOnVirtualClock).
		before := len(c.produced())
		c.setOnProduce(func(e *pfProduce) (int16, <-chan struct{}) { return protocol.ErrInvalidRecord.Code, nil })
		err := topic.Publish(ctx, []byte("x"))
		require.ErrorIs(t, err, protocol.ErrInvalidRecord)
		var pe *PartitionError
		require.ErrorAs(t, err, &pe)
		assert.Len(t, c.produced(), before+1, "sent once")

		require.ErrorIs(t, topic.Publish(ctx, make([]byte, DefaultMaxBatchSize)), ErrMessageTooLarge)
	})
}

func TestProducerConfigErrors(t *testing.T) {
	h := newHandler(t, "goroutine")
	_, topic := pfSetup(t, h, 1, 1)
	for _, tc := range []struct {
		cfg   ProducerConfig
		field string
	}{
		{ProducerConfig{RetryBackoff: -1}, "ProducerConfig.RetryBackoff"},
		{ProducerConfig{AckTimeout: -1}, "ProducerConfig.AckTimeout"},
		{ProducerConfig{AckTimeout: time.Hour}, "ProducerConfig.AckTimeout"},
		{ProducerConfig{Linger: -1}, "ProducerConfig.Linger"},
		{ProducerConfig{Compression: 5}, "ProducerConfig.Compression"},
		{ProducerConfig{RequiredAcks: 4}, "ProducerConfig.RequiredAcks"},
		{ProducerConfig{Idempotence: 3}, "ProducerConfig.Idempotence"},
		{ProducerConfig{Idempotence: IdempotenceOn, RequiredAcks: AcksLeader}, "ProducerConfig.Idempotence"},
		{ProducerConfig{Idempotence: IdempotenceOn, RequiredAcks: AcksNone}, "ProducerConfig.Idempotence"},
		{ProducerConfig{MaxQueuedMessages: -1}, "ProducerConfig.MaxQueuedMessages"},
		{ProducerConfig{MinQueuedMessages: -1}, "ProducerConfig.MinQueuedMessages"},
		{ProducerConfig{MinQueuedMessages: 11, MaxQueuedMessages: 10}, "ProducerConfig.MinQueuedMessages"},
		{ProducerConfig{MinQueuedMessages: DefaultMaxQueuedMessages + 1}, "ProducerConfig.MinQueuedMessages"},
		{ProducerConfig{MaxRequestSize: 100}, "ProducerConfig.MaxRequestSize"},
		{ProducerConfig{MaxBatchSize: 100}, "ProducerConfig.MaxBatchSize"},
		{ProducerConfig{MaxBatchSize: -1}, "ProducerConfig.MaxBatchSize"},
		{ProducerConfig{MaxBatchSize: 5000, MaxRequestSize: 4000}, "ProducerConfig.MaxBatchSize"},
	} {
		_, err := topic.Producer(tc.cfg)
		var ce *ConfigError
		require.ErrorAs(t, err, &ce, "%+v", tc.cfg)
		assert.Equal(t, tc.field, ce.Field)
	}

	cfg, err := ProducerConfig{}.withDefaults(&topic.cl.cfg)
	require.NoError(t, err)
	assert.Equal(t, DefaultMaxRetries, cfg.MaxRetries)
	assert.Equal(t, DefaultRetryBackoff, cfg.RetryBackoff)
	assert.Equal(t, DefaultAckTimeout, cfg.AckTimeout)
	assert.Equal(t, DefaultMaxQueuedMessages, cfg.MaxQueuedMessages)
	assert.Equal(t, DefaultMinQueuedMessages, cfg.MinQueuedMessages)
	assert.Equal(t, DefaultMaxRequestSize, cfg.MaxRequestSize)
	assert.Equal(t, DefaultMaxBatchSize, cfg.MaxBatchSize)
	for _, tc := range []struct{ in, want ProducerConfig }{
		{ProducerConfig{MaxRequestSize: 5000}, ProducerConfig{MaxRequestSize: 5000, MaxBatchSize: 5000}},
		{ProducerConfig{MaxBatchSize: 5000}, ProducerConfig{MaxRequestSize: DefaultMaxRequestSize, MaxBatchSize: 5000}},
		{ProducerConfig{MaxBatchSize: 32 << 20}, ProducerConfig{MaxRequestSize: 32 << 20, MaxBatchSize: 32 << 20}},
	} {
		got, err := tc.in.withDefaults(&topic.cl.cfg)
		require.NoError(t, err)
		assert.Equal(t, tc.want.MaxRequestSize, got.MaxRequestSize, "%+v", tc.in)
		assert.Equal(t, tc.want.MaxBatchSize, got.MaxBatchSize, "%+v", tc.in)
	}
	assert.Equal(t, AcksAll, cfg.RequiredAcks)
	assert.Equal(t, IdempotenceAuto, cfg.Idempotence)
	assert.Equal(t, int16(1), AcksLeader.wire())
	assert.Equal(t, int16(-1), AcksAll.wire())
	assert.Equal(t, int16(0), AcksNone.wire())
	assert.Zero(t, cfg.Linger)
	assert.NotNil(t, cfg.Partitioner)

	// An explicit AcksLeader turns the default idempotence off.
	cfg, err = ProducerConfig{RequiredAcks: AcksLeader}.withDefaults(&topic.cl.cfg)
	require.NoError(t, err)
	assert.Equal(t, IdempotenceOff, cfg.Idempotence)

	// A small MaxQueuedMessages caps the default MinQueuedMessages.
	cfg, err = ProducerConfig{MaxQueuedMessages: 10}.withDefaults(&topic.cl.cfg)
	require.NoError(t, err)
	assert.Equal(t, 10, cfg.MinQueuedMessages)

	cfg, err = ProducerConfig{MaxRetries: -1, Sync: true, DeliveryReports: true}.withDefaults(&topic.cl.cfg)
	require.NoError(t, err)
	assert.Zero(t, cfg.MaxRetries)
	assert.Equal(t, 1, cfg.MinQueuedMessages)
	assert.False(t, cfg.DeliveryReports)
}

// countingHandler counts the tasks and timers a producer starts.
type countingHandler struct {
	handler.Handler
	tasks, timers atomic.Int64
}

func (h *countingHandler) Go(name string, fn func()) {
	h.tasks.Add(1)
	h.Handler.Go(name, fn)
}

func (h *countingHandler) AfterFunc(d time.Duration, fn func()) handler.Timer {
	h.timers.Add(1)
	return h.Handler.AfterFunc(d, fn)
}

// TestProducerIdleDoesNothing: between messages, a producer starts no task
// and arms no timer, whatever its settings (pykafka's sync producer spun
// with linger 0).
func TestProducerIdleDoesNothing(t *testing.T) {
	for name, cfg := range map[string]ProducerConfig{
		"adaptive": {}, "sync": {Sync: true}, "linger": {Linger: time.Millisecond, MinQueuedMessages: 1},
	} {
		t.Run(name, func(t *testing.T) {
			h := &countingHandler{Handler: newHandler(t, "goroutine")}
			c, topic := pfSetup(t, h, 1, 2)
			p := newTestProducer(t, topic, cfg)
			ctx := testCtx(t)
			for i := range 10 {
				require.NoError(t, p.Produce(ctx, Message{Value: value(i)}))
			}
			require.NoError(t, p.Flush(ctx))
			require.NoError(t, h.Sleep(ctx, 20*time.Millisecond)) // let any linger timer fire
			tasks, timers := h.tasks.Load(), h.timers.Load()
			require.NoError(t, h.Sleep(ctx, 200*time.Millisecond))
			assert.Equal(t, tasks, h.tasks.Load(), "tasks started while idle")
			assert.Equal(t, timers, h.timers.Load(), "timers armed while idle")
			assert.Len(t, c.log(0), 5)
		})
	}
}

// TestRecordSizeBound: the bound used to fill requests is never below the
// encoded size, in record batches and legacy message sets alike.
func TestRecordSizeBound(t *testing.T) {
	sizes := []int{0, 1, 63, 64, 127, 128, 8191, 8192, 1 << 20}
	var bb protocol.RecordBatchBuilder
	for _, kn := range sizes[:6] {
		for _, vn := range sizes {
			for _, headers := range [][]Header{nil, {{Key: "k", Value: make([]byte, 200)}, {Key: string(make([]byte, 130))}}} {
				m := Message{Key: make([]byte, kn), Value: make([]byte, vn), Headers: headers, Timestamp: time.UnixMilli(1 << 40)}
				recs := []record{{msg: m}, {msg: m}}
				bound := 2*recordSizeBound(&m) + partitionOverhead
				for _, version := range []int16{0, 2, 3, 11} {
					if version < 3 && headers != nil {
						continue
					}
					out, _, err := appendRecords(nil, &bb, nil, &producerBatch, recs, version, CompressionNone)
					require.NoError(t, err)
					assert.LessOrEqual(t, len(out), bound, "key %d, value %d, v%d", kn, vn, version)
				}
			}
		}
	}
}
