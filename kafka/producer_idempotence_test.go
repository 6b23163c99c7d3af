package kafka

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/protocol"
)

// checkSequences verifies that every produce entry of partition part
// carries a producer id, and that a sequence number sent again under the
// same id and epoch carries the same records.
func checkSequences(t *testing.T, seen []pfProduce, part int32) {
	t.Helper()
	type key struct {
		pid   int64
		epoch int16
		seq   int32
	}
	first := map[key]string{}
	for _, e := range seen {
		if e.Partition != part {
			continue
		}
		require.GreaterOrEqual(t, e.ProducerID, int64(0), "an idempotent producer's batch carries its id")
		k := key{e.ProducerID, e.Epoch, e.Sequence}
		v := fmt.Sprintf("%s+%d", e.Records[0].Value, len(e.Records))
		if prev, ok := first[k]; ok {
			assert.Equal(t, prev, v, "sequence %d resent with other records", e.Sequence)
		}
		first[k] = v
	}
}

// produceInSteps produces value(0..n-1) to partition 0 in steps of step
// messages, waiting after each until the fake saw as many more produce
// entries, so that batches follow each other while others are in flight.
func produceInSteps(t *testing.T, c *pfCluster, p *Producer, n, step int) {
	t.Helper()
	ctx := testCtx(t)
	for i := range n {
		require.NoError(t, p.Produce(ctx, Message{Value: value(i)}))
		if (i+1)%step == 0 {
			k := (i + 1) / step
			c.waitSeen(t, func(s []pfProduce) bool { return len(s) >= k })
		}
	}
}

// produceSpread produces value(0..n-1) to partitions 0..parts-1 in turn
// (the producer's partitioner must be manual) and returns each partition's
// message numbers. With step > 0 it waits after every step messages until
// the fake saw as many more produce entries.
func produceSpread(t *testing.T, c *pfCluster, p *Producer, n, parts, step int) [][]int {
	t.Helper()
	ctx := testCtx(t)
	want := make([][]int, parts)
	for i := range n {
		part := i % parts
		require.NoError(t, p.Produce(ctx, Message{Value: value(i), Partition: int32(part)}))
		want[part] = append(want[part], i)
		if step > 0 && (i+1)%step == 0 {
			k := (i + 1) / step
			c.waitSeen(t, func(s []pfProduce) bool { return len(s) >= k })
		}
	}
	return want
}

// checkLogInOrder verifies that partition part's log holds messages
// first..first+n-1 in order, each once, as value(i).
func checkLogInOrder(t *testing.T, c *pfCluster, part int, want []int) {
	t.Helper()
	log := c.log(part)
	got := make([]int, len(log))
	for i, r := range log {
		got[i] = indexOf(t, r.Value)
	}
	assert.Equal(t, want, got, "partition %d: each message once, in produce order", part)
}

func TestIdempotentProducerPipelines(t *testing.T) {
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		c, topic := pfSetup(t, h, 1, 1)
		// The first batch is answered: until then a partition sends one
		// batch at a time. The answers to the others wait.
		gate := make(chan struct{})
		c.setOnProduce(func(e *pfProduce) (int16, <-chan struct{}) {
			if e.Sequence == 0 {
				return 0, nil
			}
			return 0, gate
		})
		p := newTestProducer(t, topic, ProducerConfig{DeliveryReports: true, MinQueuedMessages: 10})
		reports := collectReports(t, p)
		ctx := testCtx(t)
		// Batches of ten, each sent as soon as it is complete.
		const n = 200
		for i := range n {
			require.NoError(t, p.Produce(ctx, Message{Value: value(i)}))
			if k := (i + 1) / 10; (i+1)%10 == 0 && k <= MaxInFlightPerPartition+1 {
				c.waitSeen(t, func(s []pfProduce) bool { return len(s) >= k })
			}
		}
		p.mu.Lock()
		pb := p.parts[0]
		assert.Equal(t, MaxInFlightPerPartition, pb.inflight, "five batches of one partition in flight")
		ok, _ := p.ready(pb.sink, pb, true)
		assert.False(t, ok, "no sixth")
		p.mu.Unlock()
		close(gate)
		require.NoError(t, p.Close())
		checkReports(t, c, reports(), n)
		want := make([]int, n)
		for i := range want {
			want[i] = i
		}
		checkLogInOrder(t, c, 0, want)
		seen := c.produced()
		checkSequences(t, seen, 0)
		assert.Equal(t, int32(0), seen[0].Sequence)
		assert.Equal(t, int16(-1), seen[0].Acks)
		require.Len(t, c.initProducerIDCalls(), 1)
		assert.Nil(t, c.initProducerIDCalls()[0].TransactionalID)
	})
}

// TestIdempotentProducerRetriesInOrder fails produce entries with a
// retriable error and loses the answers to others the broker wrote, with
// several batches of a partition in flight: every message is written
// once, in order, and reported once.
func TestIdempotentProducerRetriesInOrder(t *testing.T) {
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		c, topic := pfSetup(t, h, 2, 4)
		n := 0
		c.setOnProduce(func(e *pfProduce) (int16, <-chan struct{}) {
			n++
			switch {
			case n%7 == 0:
				return pfWriteHangUp, nil
			case n%3 == 0:
				return protocol.ErrRequestTimedOut.Code, nil
			case n%11 == 0:
				return protocol.ErrNotEnoughReplicas.Code, nil
			}
			return 0, nil
		})
		p := newTestProducer(t, topic, ProducerConfig{
			DeliveryReports: true, Partitioner: ManualPartitioner(), MaxRetries: 1000,
			RetryBackoff: time.Millisecond, MinQueuedMessages: 5,
		})
		reports := collectReports(t, p)
		const total = 2000
		want := produceSpread(t, c, p, total, 4, 0)
		require.NoError(t, p.Close())
		all := reports()
		checkReports(t, c, all, total)
		last := map[int32]int{}
		for _, r := range all {
			i := indexOf(t, r.Message.Value)
			prev, ok := last[r.Message.Partition]
			assert.True(t, !ok || i > prev, "reports of a partition in produce order")
			last[r.Message.Partition] = i
		}
		for part := range 4 {
			checkLogInOrder(t, c, part, want[part])
			checkSequences(t, c.produced(), int32(part))
		}
		assert.Len(t, c.initProducerIDCalls(), 1, "no epoch bump: every sequence continued")
	})
}

// TestIdempotentProducerUnsettledWindow loses the answer to a batch the
// broker wrote, then times its resends out several times while messages
// keep coming: no more than four batches may be sent behind it meanwhile,
// or the broker, which remembers five, would no longer recognise it and
// refuse it as out of order.
func TestIdempotentProducerUnsettledWindow(t *testing.T) {
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		c, topic := pfSetup(t, h, 1, 1)
		victim, timeouts := int32(-1), 0
		c.setOnProduce(func(e *pfProduce) (int16, <-chan struct{}) {
			switch {
			case victim < 0 && e.Sequence > 0:
				victim = e.Sequence
				return pfWriteHangUp, nil
			case e.Sequence == victim && timeouts < 8:
				timeouts++
				return protocol.ErrRequestTimedOut.Code, nil
			}
			return 0, nil
		})
		p := newTestProducer(t, topic, ProducerConfig{
			DeliveryReports: true, MinQueuedMessages: 5, RetryBackoff: time.Millisecond, MaxRetries: 100,
		})
		reports := collectReports(t, p)
		const total = 400
		produceInSteps(t, c, p, total, 5)
		require.NoError(t, p.Close())
		checkReports(t, c, reports(), total)
		want := make([]int, total)
		for i := range want {
			want[i] = i
		}
		checkLogInOrder(t, c, 0, want)
		assert.Len(t, c.initProducerIDCalls(), 1, "no epoch bump")
		// Count the batches sent behind the victim until it settled.
		seen := c.produced()
		first, last := -1, -1
		for i, e := range seen {
			if e.Sequence == victim {
				if first < 0 {
					first = i
				}
				last = i
			}
		}
		require.GreaterOrEqual(t, first, 0)
		behind := map[int32]bool{}
		for _, e := range seen[first:last] {
			if e.Sequence > victim {
				behind[e.Sequence] = true
			}
		}
		assert.LessOrEqual(t, len(behind), MaxInFlightPerPartition-1, "batches sent behind an unsettled one")
		assert.Equal(t, 8, timeouts)
	})
}

// produceSmallBatches produces value(0..total-1) all at once through an
// idempotent producer of small batches and few retries, so several batches
// go behind one whose resends fail, and returns the reports after Close.
func produceSmallBatches(t *testing.T, topic *Topic, total int) []DeliveryReport {
	t.Helper()
	p := newTestProducer(t, topic, ProducerConfig{
		DeliveryReports: true, MinQueuedMessages: 5, RetryBackoff: time.Millisecond, MaxRetries: 3,
		MaxBatchSize: 2000,
	})
	reports := collectReports(t, p)
	ctx := testCtx(t)
	for i := range total {
		require.NoError(t, p.Produce(ctx, Message{Value: value(i)}))
	}
	require.NoError(t, p.Close())
	return reports()
}

// TestIdempotentProducerWrittenOutOfRetries: a batch whose answer was lost
// and whose resends all fail, while a batch behind it is acknowledged, was
// written: it is reported delivered (at an unknown offset), not failed.
func TestIdempotentProducerWrittenOutOfRetries(t *testing.T) {
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		c, topic := pfSetup(t, h, 1, 1)
		victim := int32(-1)
		c.setOnProduce(func(e *pfProduce) (int16, <-chan struct{}) {
			switch {
			case victim < 0 && e.Sequence > 0:
				victim = e.Sequence
				return pfWriteHangUp, nil
			case firstIdentity(e) && e.Sequence == victim:
				return protocol.ErrNotEnoughReplicas.Code, nil
			}
			return 0, nil
		})
		const total = 600
		all := produceSmallBatches(t, topic, total)
		checkReports(t, c, all, total)
		want := make([]int, total)
		for i := range want {
			want[i] = i
		}
		checkLogInOrder(t, c, 0, want)
		unknown := 0
		for _, r := range all {
			if r.Message.Offset == -1 {
				unknown++
			}
		}
		assert.Positive(t, unknown, "the victim's messages, written at an offset never learnt")
		assert.Len(t, c.initProducerIDCalls(), 1, "no epoch bump")
	})
}

// TestIdempotentProducerWrittenLeaderGone: as above, but the partition
// loses its leader and the victim runs out of tries in metadata rounds
// without one. A batch acknowledged behind it still shows it was written:
// every report says what the log holds.
func TestIdempotentProducerWrittenLeaderGone(t *testing.T) {
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		c, topic := pfSetup(t, h, 1, 1)
		victim, ackedLater := int32(-1), false
		c.setOnProduce(func(e *pfProduce) (int16, <-chan struct{}) {
			switch {
			case victim < 0 && e.Sequence > 0:
				victim = e.Sequence
				return pfWriteHangUp, nil
			case firstIdentity(e) && e.Sequence == victim && ackedLater:
				c.leaders[0] = -1 // onProduce runs with c.mu held
				return protocol.ErrNotLeaderOrFollower.Code, nil
			case firstIdentity(e) && e.Sequence == victim:
				return protocol.ErrNotEnoughReplicas.Code, nil
			case victim >= 0 && e.Sequence > victim && isNext(c, e):
				ackedLater = true // the broker takes it: acknowledged
			}
			return 0, nil
		})
		const total = 600
		all := produceSmallBatches(t, topic, total)
		require.Len(t, all, total)
		inLog := map[int]int{}
		for _, r := range c.log(0) {
			inLog[indexOf(t, r.Value)]++
		}
		unknown := 0
		for _, r := range all {
			i := indexOf(t, r.Message.Value)
			if r.Err != nil {
				assert.Zero(t, inLog[i], "message %d is in the log but reported %v", i, r.Err)
				continue
			}
			assert.Equal(t, 1, inLog[i], "message %d reported delivered", i)
			if r.Message.Offset == -1 {
				unknown++
			}
		}
		assert.Positive(t, unknown, "the victim's messages, written at an offset never learnt")
	})
}

// isNext reports whether e carries the sequence number its partition
// expects next from its producer. Called with c.mu held.
func isNext(c *pfCluster, e *pfProduce) bool {
	st := c.seqs[e.Partition][e.ProducerID]
	return st != nil && st.epoch == e.Epoch && st.next == e.Sequence
}

// TestIdempotentProducerBumpLeavesUnsureBatch bumps the epoch for one
// partition (the fake, like Kafka, answers with a new producer id) while
// another holds a batch the broker wrote but whose answer was lost: that
// batch is resent under its old identity, where the broker recognises it,
// and is not numbered afresh, which would write it twice.
func TestIdempotentProducerBumpLeavesUnsureBatch(t *testing.T) {
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		c, topic := pfSetup(t, h, 1, 2)
		victim, refused := int32(-1), false
		c.setOnProduce(func(e *pfProduce) (int16, <-chan struct{}) {
			bumped := len(c.pidCalls) > 1 // onProduce runs with c.mu held
			switch {
			case e.Partition == 1 && victim < 0 && e.Sequence > 0:
				victim = e.Sequence
				return pfWriteHangUp, nil
			case e.Partition == 1 && firstIdentity(e) && e.Sequence == victim && !bumped:
				return protocol.ErrRequestTimedOut.Code, nil
			case e.Partition == 1 && firstIdentity(e) && e.Sequence > victim && victim >= 0 && !bumped:
				// Nothing is written behind it: no acknowledgement
				// tells that it was.
				return protocol.ErrNotEnoughReplicas.Code, nil
			case e.Partition == 0 && victim >= 0 && !refused && isNext(c, e):
				// A batch the broker does not have: one written by the
				// request that lost the victim's answer would be
				// recognised.
				refused = true
				return protocol.ErrUnknownProducerID.Code, nil
			}
			return 0, nil
		})
		p := newTestProducer(t, topic, ProducerConfig{
			DeliveryReports: true, Partitioner: ManualPartitioner(), MinQueuedMessages: 2,
			RetryBackoff: time.Millisecond, MaxRetries: 1000,
		})
		reports := collectReports(t, p)
		const total = 400
		want := produceSpread(t, c, p, total, 2, 10)
		require.NoError(t, p.Close())
		checkReports(t, c, reports(), total)
		checkLogInOrder(t, c, 0, want[0])
		checkLogInOrder(t, c, 1, want[1])
		require.True(t, refused)
		require.Len(t, c.initProducerIDCalls(), 2, "one epoch bump")
		var first []byte // the unsure batch's first value
		for _, e := range c.produced() {
			switch {
			case e.Partition != 1:
			case firstIdentity(&e) && e.Sequence == victim:
				first = e.Records[0].Value
			case !firstIdentity(&e):
				assert.NotEqual(t, string(first), string(e.Records[0].Value), "the unsure batch numbered afresh")
			}
		}
	})
}

func TestIdempotentProducerUnknownProducerID(t *testing.T) {
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		c, topic := pfSetup(t, h, 1, 1)
		n := 0
		c.setOnProduce(func(e *pfProduce) (int16, <-chan struct{}) {
			n++
			if n == 3 {
				return protocol.ErrUnknownProducerID.Code, nil
			}
			return 0, nil
		})
		p := newTestProducer(t, topic, ProducerConfig{DeliveryReports: true, MinQueuedMessages: 10, RetryBackoff: time.Millisecond})
		reports := collectReports(t, p)
		const total = 300
		want := make([]int, total)
		for i := range want {
			want[i] = i
		}
		produceInSteps(t, c, p, total, 10)
		require.NoError(t, p.Close())
		checkReports(t, c, reports(), total)
		checkLogInOrder(t, c, 0, want)
		calls := c.initProducerIDCalls()
		require.Len(t, calls, 2, "one epoch bump")
		assert.Equal(t, int64(pfFirstPID), calls[1].ProducerID, "KIP-360: the bump names the current id and epoch")
		assert.Equal(t, int16(0), calls[1].ProducerEpoch)
		seen := c.produced()
		checkSequences(t, seen, 0)
		bumped := false
		for _, e := range seen {
			if !firstIdentity(&e) && !bumped {
				bumped = true
				assert.Equal(t, int32(0), e.Sequence, "a new identity starts at sequence 0")
			}
		}
		assert.True(t, bumped)
	})
}

// TestIdempotentProducerRetriesExhausted: a batch that fails for good is
// reported failed; the batches behind it, refused as out of order
// meanwhile, go out under a new identity, in order.
func TestIdempotentProducerRetriesExhausted(t *testing.T) {
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		c, topic := pfSetup(t, h, 1, 1)
		gate := make(chan struct{})
		failSeq, failLen := int32(-1), 0 // the second batch, whatever its size
		c.setOnProduce(func(e *pfProduce) (int16, <-chan struct{}) {
			if firstIdentity(e) && e.Sequence > 0 && failSeq < 0 {
				failSeq, failLen = e.Sequence, len(e.Records)
			}
			if firstIdentity(e) && e.Sequence == failSeq {
				return protocol.ErrNotEnoughReplicas.Code, gate
			}
			return 0, nil
		})
		p := newTestProducer(t, topic, ProducerConfig{
			DeliveryReports: true, MinQueuedMessages: 10, MaxRetries: 2, RetryBackoff: time.Millisecond,
		})
		reports := collectReports(t, p)
		// The second batch's answer is held while four more follow it.
		ctx := testCtx(t)
		for i := range 50 {
			require.NoError(t, p.Produce(ctx, Message{Value: value(i)}))
			if (i+1)%10 == 0 {
				k := (i + 1) / 10
				c.waitSeen(t, func(s []pfProduce) bool { return len(s) >= k })
			}
		}
		close(gate)
		require.NoError(t, p.Close())
		all := reports()
		require.Len(t, all, 50)
		var failed, want []int
		for _, r := range all {
			if r.Err != nil {
				assert.ErrorIs(t, r.Err, protocol.ErrNotEnoughReplicas)
				failed = append(failed, indexOf(t, r.Message.Value))
			} else {
				want = append(want, indexOf(t, r.Message.Value))
			}
		}
		c.mu.Lock()
		wantFailed := seqInts(int(failSeq), int(failSeq)+failLen)
		c.mu.Unlock()
		assert.Equal(t, wantFailed, failed, "the second batch failed")
		checkLogInOrder(t, c, 0, want)
		assert.Len(t, c.initProducerIDCalls(), 2, "one epoch bump")
		checkSequences(t, c.produced(), 0)
	})
}

func TestIdempotenceOff(t *testing.T) {
	for _, cfg := range []ProducerConfig{{Idempotence: IdempotenceOff}, {RequiredAcks: AcksLeader}} {
		t.Run(fmt.Sprintf("%v/%v", cfg.Idempotence, cfg.RequiredAcks), func(t *testing.T) {
			h := newHandler(t, "goroutine")
			c, topic := pfSetup(t, h, 1, 1)
			reports := produceFake(t, topic, cfg, 100)
			checkReports(t, c, reports, 100)
			for _, e := range c.produced() {
				assert.Equal(t, int64(-1), e.ProducerID)
				assert.Equal(t, int32(-1), e.Sequence)
			}
			assert.Empty(t, c.initProducerIDCalls())
		})
	}
}

func TestIdempotenceUnsupported(t *testing.T) {
	h := newHandler(t, "goroutine")
	setup := func(t *testing.T) (*pfCluster, *Topic) {
		c := newPFCluster(t, 1, 1)
		c.noPID = true
		ctx := testCtx(t)
		cl := newTestClient(t, ctx, h, Config{Hosts: c.bootstrap()})
		topic, err := cl.Topic(ctx, c.topic)
		require.NoError(t, err)
		return c, topic
	}
	t.Run("auto", func(t *testing.T) {
		c, topic := setup(t)
		reports := produceFake(t, topic, ProducerConfig{}, 100)
		checkReports(t, c, reports, 100)
		for _, e := range c.produced() {
			assert.Equal(t, int64(-1), e.ProducerID, "auto falls back to no idempotence")
		}
	})
	t.Run("on", func(t *testing.T) {
		c, topic := setup(t)
		reports, refused := produceFakeRefused(t, topic, ProducerConfig{Idempotence: IdempotenceOn}, 10)
		require.Len(t, reports, 10-refused)
		for _, r := range reports {
			assert.ErrorIs(t, r.Err, ErrIdempotenceUnsupported)
		}
		assert.Empty(t, c.produced())
	})
}

// produceFake produces value(0..n-1) with cfg and returns the reports.
func produceFake(t *testing.T, topic *Topic, cfg ProducerConfig, n int) []DeliveryReport {
	r, _ := produceFakeRefused(t, topic, cfg, n)
	return r
}

// produceFakeRefused is produceFake, also counting the messages Produce
// refused with ErrIdempotenceUnsupported.
func produceFakeRefused(t *testing.T, topic *Topic, cfg ProducerConfig, n int) ([]DeliveryReport, int) {
	t.Helper()
	cfg.DeliveryReports = true
	p := newTestProducer(t, topic, cfg)
	reports := collectReports(t, p)
	ctx := testCtx(t)
	refused := 0
	for i := range n {
		if err := p.Produce(ctx, Message{Value: value(i)}); err != nil {
			require.ErrorIs(t, err, ErrIdempotenceUnsupported)
			refused++
		}
	}
	require.NoError(t, p.Close())
	return reports(), refused
}

func seqInts(from, to int) []int {
	out := make([]int, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

// TestIdempotentProducerFirstBatchAlone: a broker takes any sequence number
// as a producer's first on a partition, so until one batch of a partition
// is acknowledged no second one may be in flight: it could be written
// ahead of a first that failed.
func TestIdempotentProducerFirstBatchAlone(t *testing.T) {
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		c, topic := pfSetup(t, h, 1, 1)
		first := true
		gate := make(chan struct{})
		c.setOnProduce(func(e *pfProduce) (int16, <-chan struct{}) {
			if first {
				first = false
				return protocol.ErrNotLeaderOrFollower.Code, gate
			}
			return 0, nil
		})
		p := newTestProducer(t, topic, ProducerConfig{DeliveryReports: true, MinQueuedMessages: 10, RetryBackoff: time.Millisecond})
		reports := collectReports(t, p)
		ctx := testCtx(t)
		for i := range 100 {
			require.NoError(t, p.Produce(ctx, Message{Value: value(i)}))
			if i == 9 {
				c.waitSeen(t, func(s []pfProduce) bool { return len(s) == 1 })
			}
		}
		p.mu.Lock()
		pb := p.parts[0]
		assert.Equal(t, 1, pb.inflight)
		ok, _ := p.ready(pb.sink, pb, false)
		assert.False(t, ok, "a full queue waits for the first batch's answer")
		p.mu.Unlock()
		close(gate)
		require.NoError(t, p.Close())
		checkReports(t, c, reports(), 100)
		checkLogInOrder(t, c, 0, seqInts(0, 100))
		seen := c.produced()
		require.GreaterOrEqual(t, len(seen), 2)
		assert.Equal(t, int32(0), seen[0].Sequence)
		assert.Equal(t, int32(0), seen[1].Sequence, "the first batch goes again before any other")
	})
}
