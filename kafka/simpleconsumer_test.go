package kafka

import (
	"context"
	"encoding/binary"
	"errors"
	"log/slog"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler/goroutine"
	"github.com/gregorkafka/gregor/protocol"
)

// offlineTopic is a topic with n partitions in a Cluster that never dials.
func offlineTopic(t testing.TB, n int) *Topic {
	t.Helper()
	cfg, err := Config{Logger: slog.New(slog.DiscardHandler)}.withDefaults()
	require.NoError(t, err)
	h := goroutine.New()
	t.Cleanup(func() { h.Close() })
	c := newCluster(cfg, h)
	c.apply(md{brokers: []int32{1}, topics: []mdTopic{{name: "t", parts: parts(n, func(int32) int32 { return 1 })}}}.response(), false)
	topic := c.state.Load().topics["t"]
	require.NotNil(t, topic)
	return topic
}

func TestConsumerConfigDefaults(t *testing.T) {
	topic := offlineTopic(t, 3)
	cfg, err := ConsumerConfig{}.withDefaults(topic)
	require.NoError(t, err)
	assert.Equal(t, []int32{0, 1, 2}, cfg.Partitions, "all partitions")
	assert.Equal(t, 1<<20, cfg.FetchMessageMaxBytes)
	assert.Equal(t, 50<<20, cfg.FetchMaxBytes)
	assert.Equal(t, 1, cfg.NumConsumerFetchers)
	assert.False(t, cfg.AutoCommit, "pykafka's SimpleConsumer does not auto-commit")
	assert.Equal(t, 60*time.Second, cfg.AutoCommitInterval)
	assert.Equal(t, 2000, cfg.QueuedMaxMessages)
	assert.Equal(t, 1, cfg.FetchMinBytes)
	assert.Equal(t, 100*time.Millisecond, cfg.FetchWaitMax)
	assert.Equal(t, time.Second, cfg.OffsetsChannelBackoff)
	assert.Equal(t, 5, cfg.OffsetsCommitMaxRetries)
	assert.Equal(t, OffsetEarliest, cfg.AutoOffsetReset)
	assert.Zero(t, cfg.ConsumerTimeout, "wait as long as the context allows")
	assert.Equal(t, ReadUncommitted, cfg.IsolationLevel)

	cfg, err = ConsumerConfig{Partitions: []int32{2, 0}, OffsetsCommitMaxRetries: -1}.withDefaults(topic)
	require.NoError(t, err)
	assert.Equal(t, []int32{0, 2}, cfg.Partitions)
	assert.Zero(t, cfg.OffsetsCommitMaxRetries, "negative means no retries")
}

func TestConsumerConfigErrors(t *testing.T) {
	topic := offlineTopic(t, 2)
	for _, tc := range []struct {
		cfg   ConsumerConfig
		field string
	}{
		{ConsumerConfig{FetchWaitMax: -1}, "FetchWaitMax"},
		{ConsumerConfig{ConsumerTimeout: -time.Second}, "ConsumerTimeout"},
		{ConsumerConfig{AutoCommitInterval: -1}, "AutoCommitInterval"},
		{ConsumerConfig{OffsetsChannelBackoff: -1}, "OffsetsChannelBackoff"},
		{ConsumerConfig{QueuedMaxMessages: -1}, "QueuedMaxMessages"},
		{ConsumerConfig{FetchMessageMaxBytes: MaxFetchMessageBytes + 1}, "FetchMessageMaxBytes"},
		{ConsumerConfig{FetchMinBytes: -5}, "FetchMinBytes"},
		{ConsumerConfig{FetchMaxBytes: -1}, "FetchMaxBytes"},
		{ConsumerConfig{FetchMaxBytes: math.MaxInt32 + 1}, "FetchMaxBytes"},
		{ConsumerConfig{NumConsumerFetchers: -1}, "NumConsumerFetchers"},
		{ConsumerConfig{AutoCommit: true}, "AutoCommit"},
		{ConsumerConfig{AutoOffsetReset: OffsetAt(5)}, "AutoOffsetReset"},
		{ConsumerConfig{IsolationLevel: 2}, "IsolationLevel"},
		{ConsumerConfig{Partitions: []int32{}}, "Partitions"},
		{ConsumerConfig{Partitions: []int32{0, 7}}, "Partitions[1]"},
		{ConsumerConfig{Partitions: []int32{1, 1}}, "Partitions[1]"},
	} {
		_, err := tc.cfg.withDefaults(topic)
		var ce *ConfigError
		if assert.ErrorAs(t, err, &ce, "%+v", tc.cfg) {
			assert.Equal(t, "ConsumerConfig."+tc.field, ce.Field)
		}
		_, err = topic.SimpleConsumer(tc.cfg)
		assert.ErrorAs(t, err, &ce, "the constructor validates")
	}
	_, err := topic.Subscribe("")
	var ce *ConfigError
	assert.ErrorAs(t, err, &ce)
}

func TestStartPositionRules(t *testing.T) {
	for _, tc := range []struct {
		name         string
		committed    int64
		resetOnStart bool
		next         int64
		reset        bool
	}{
		// "if the last committed offset was 4, consumption starts at 5":
		// the broker stores 5, the offset after the message consumed.
		{"existing group resumes at the committed offset", 5, false, 5, false},
		{"committed offset 0 is an existing group too", 0, false, 0, false},
		{"new group starts at AutoOffsetReset", -1, false, -1, true},
		{"ResetOffsetOnStart ignores the committed offset", 5, true, -1, true},
		{"ResetOffsetOnStart on a new group", -1, true, -1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			next, reset := startPosition(tc.committed, tc.resetOnStart)
			assert.Equal(t, tc.reset, reset)
			if !reset {
				assert.Equal(t, tc.next, next)
			}
		})
	}
}

func TestOffsetTargets(t *testing.T) {
	next, ok := OffsetAfter(41).explicit()
	assert.True(t, ok)
	assert.Equal(t, int64(42), next, "OffsetAfter(n) delivers n+1 next")
	next, _ = OffsetAt(42).explicit()
	assert.Equal(t, int64(42), next, "OffsetAt(n) delivers n next")
	next, _ = OffsetAfter(-1).explicit()
	assert.Zero(t, next)
	_, ok = OffsetEarliest.explicit()
	assert.False(t, ok)
	assert.Equal(t, OffsetEarliest, OffsetTarget{}, "the zero value is earliest")
	assert.Equal(t, timestampEarliest, OffsetEarliest.listOffsetsTimestamp())
	assert.Equal(t, timestampLatest, OffsetLatest.listOffsetsTimestamp())
	tm := time.UnixMilli(1700000000123)
	assert.Equal(t, int64(1700000000123), OffsetAtTime(tm).listOffsetsTimestamp())
	assert.Zero(t, OffsetAtTime(time.Unix(-5, 0)).listOffsetsTimestamp(), "before the epoch counts as the epoch")
	assert.Equal(t, "after 41", OffsetAfter(41).String())
	assert.Equal(t, "after 41", OffsetAt(42).String())
	assert.Equal(t, "latest", OffsetLatest.String())
}

// offlineConsumer is a started consumer of partitions 0 and 1 that fetches
// nothing: tests feed it decoded results through deliver.
func offlineConsumer(t *testing.T, cfg ConsumerConfig) (*SimpleConsumer, *fetchLoop) {
	t.Helper()
	topic := offlineTopic(t, 2)
	cfg, err := cfg.withDefaults(topic)
	require.NoError(t, err)
	c := newSimpleConsumer(topic, cfg)
	c.started.Store(true) // no supervisor: nothing dials
	t.Cleanup(func() { _ = c.Stop(context.Background()) })
	l := &fetchLoop{c: c, index: map[int32]int{}}
	return c, l
}

// feed delivers records for partition id as a fetch from its fetch offset
// would.
func feed(t *testing.T, c *SimpleConsumer, l *fetchLoop, id int32, records []byte) {
	t.Helper()
	sc := protocol.ScanRecords(records)
	c.mu.Lock()
	op := c.byID[id]
	it := decodeItem{op: op, epoch: op.epoch, bytes: sc.End, msgs: sc.Count, in: decodeIn{topic: "t", partition: id,
		records: records[:sc.End], fetchOffset: op.fetchAt, count: sc.Count}}
	op.fetchAt = max(op.fetchAt, sc.Next)
	op.undecoded++
	op.pendingBytes += it.bytes
	op.pendingMsgs += it.msgs
	c.mu.Unlock()
	var d fetchDecoder
	c.deliver(l, &d, &fetchResult{items: []decodeItem{it}})
}

func consumeN(t *testing.T, c *SimpleConsumer, n int) []string {
	t.Helper()
	var got []string
	for range n {
		m, err := c.Consume(t.Context())
		require.NoError(t, err)
		got = append(got, string(m.Value))
	}
	return got
}

func TestOffsetBookkeeping(t *testing.T) {
	c, l := offlineConsumer(t, ConsumerConfig{})
	c.mu.Lock()
	c.moveLocked(c.byID[0], 10)
	c.moveLocked(c.byID[1], 20)
	c.mu.Unlock()
	assert.Equal(t, map[int32]int64{0: 9, 1: 19}, c.HeldOffsets(), "held = next to deliver - 1")

	feed(t, c, l, 0, batchAt(t, protocol.CompressionNone, 10, 11, 12))
	feed(t, c, l, 1, batchAt(t, protocol.CompressionNone, 20, 21))
	assert.Equal(t, []string{"v10", "v20", "v11", "v21", "v12"}, consumeN(t, c, 5), "round robin, offset order")
	assert.Equal(t, map[int32]int64{0: 12, 1: 21}, c.HeldOffsets())
	assert.Equal(t, map[int32]int64{0: 13, 1: 22}, c.toCommit(c.Partitions(), false),
		"a commit stores the next offset to consume")

	// Fetched but undelivered messages do not count.
	feed(t, c, l, 0, batchAt(t, protocol.CompressionNone, 13, 14))
	assert.Equal(t, int64(12), c.HeldOffsets()[0])
	c.mu.Lock()
	c.byID[0].committed = 13
	c.mu.Unlock()
	assert.Equal(t, map[int32]int64{1: 22}, c.toCommit(c.Partitions(), true), "auto-commits skip unchanged partitions")

	// ResetOffsets(OffsetAfter(41)): 41 is the last consumed, 42 comes next.
	require.NoError(t, c.ResetOffsets(t.Context(), map[int32]OffsetTarget{0: OffsetAfter(41)}))
	assert.Equal(t, int64(41), c.HeldOffsets()[0])
	c.mu.Lock()
	assert.Zero(t, c.byID[0].queue.len(), "messages fetched before the reset are dropped")
	assert.Equal(t, int64(42), c.byID[0].fetchAt)
	c.mu.Unlock()
	feed(t, c, l, 0, batchAt(t, protocol.CompressionNone, 40, 41, 42, 43))
	assert.Equal(t, []string{"v42", "v43"}, consumeN(t, c, 2))

	require.NoError(t, c.ResetOffsets(t.Context(), map[int32]OffsetTarget{1: OffsetAt(5)}))
	assert.Equal(t, int64(4), c.HeldOffsets()[1])

	err := c.ResetOffsets(t.Context(), map[int32]OffsetTarget{7: OffsetAt(1)})
	assert.ErrorIs(t, err, ErrPartitionNotConsumed)
	var pe *PartitionError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, int32(7), pe.Partition)
	assert.Error(t, c.ResetOffsets(t.Context(), map[int32]OffsetTarget{0: OffsetAfter(-2)}), "before offset 0")

	assert.ErrorIs(t, c.CommitOffsets(t.Context()), ErrNoConsumerGroup)
	_, err = c.FetchOffsets(t.Context())
	assert.ErrorIs(t, err, ErrNoConsumerGroup)
}

func TestResultsFromBeforeAResetAreDropped(t *testing.T) {
	c, l := offlineConsumer(t, ConsumerConfig{})
	c.mu.Lock()
	c.moveLocked(c.byID[0], 0)
	op := c.byID[0]
	stale := decodeItem{op: op, epoch: op.epoch, in: decodeIn{topic: "t", records: batchAt(t, protocol.CompressionNone, 0, 1), count: 2}, msgs: 2}
	op.undecoded++
	op.pendingMsgs += 2
	c.moveLocked(op, 100) // a reset while the result waited to be decoded
	c.mu.Unlock()
	var d fetchDecoder
	c.deliver(l, &d, &fetchResult{items: []decodeItem{stale}})
	c.mu.Lock()
	assert.Zero(t, op.queue.len())
	assert.Zero(t, op.pendingMsgs)
	assert.Zero(t, op.undecoded)
	c.mu.Unlock()
}

func TestQueueLimits(t *testing.T) {
	c, l := offlineConsumer(t, ConsumerConfig{QueuedMaxMessages: 3, FetchMessageMaxBytes: 1000})
	c.mu.Lock()
	c.moveLocked(c.byID[0], 0)
	op := c.byID[0]
	assert.True(t, c.hasRoomLocked(op))
	c.mu.Unlock()
	feed(t, c, l, 0, batchAt(t, protocol.CompressionNone, 0, 1, 2, 3))
	c.mu.Lock()
	assert.False(t, c.hasRoomLocked(op), "4 queued, limit 3")
	c.mu.Unlock()
	consumeN(t, c, 2)
	c.mu.Lock()
	assert.False(t, c.hasRoomLocked(op), "2 queued: below the limit, but not yet half drained")
	c.mu.Unlock()
	consumeN(t, c, 1)
	c.mu.Lock()
	assert.True(t, c.hasRoomLocked(op), "drained to half the limit")
	op.pendingBytes = 1000
	assert.False(t, c.hasRoomLocked(op), "a fetch's worth of bytes in the pipeline")
	c.mu.Unlock()
}

// TestFetchSizeFollowsQueueRoom: a partition's share of a fetch is the room
// QueuedMaxMessages leaves, at the size per record the last fetch showed,
// in whole batches of the size it showed.
func TestFetchSizeFollowsQueueRoom(t *testing.T) {
	c, l := offlineConsumer(t, ConsumerConfig{QueuedMaxMessages: 100, FetchMessageMaxBytes: 1 << 20})
	c.mu.Lock()
	c.moveLocked(c.byID[0], 0)
	op := c.byID[0]
	assert.Equal(t, 100*initialRecordBytes, c.fetchSizeLocked(op), "before any fetch: the guessed record size")
	c.mu.Unlock()

	b1 := batchAt(t, protocol.CompressionNone, offsetRange(0, 10)...)
	b2 := batchAt(t, protocol.CompressionNone, offsetRange(10, 20)...)
	records := concat(b1, b2, b1[:20]) // two whole batches and the start of a third
	res := takeFor(t, l, op, fetchResponse(0, 0, 30, records))
	var d fetchDecoder
	c.deliver(l, &d, res)

	c.mu.Lock()
	defer c.mu.Unlock()
	per := (len(b1) + len(b2) + 19) / 20
	batch := max(len(b1), len(b2))
	assert.Equal(t, per, op.recordBytes)
	assert.Equal(t, batch, op.batchBytes, "the largest batch that came")
	assert.Equal(t, 80*per/batch*batch, c.fetchSizeLocked(op), "20 queued: room for 80 records, in whole batches")
	op.first = true
	assert.Equal(t, 1<<20, c.fetchSizeLocked(op), "a partition owed a whole batch asks for all")
	op.first = false
	op.batchBytes = 200 * per
	assert.Equal(t, 200*per, c.fetchSizeLocked(op), "at least a batch, which brokers send whole")
	op.batchBytes = 3000
	op.recordBytes = 1 << 20
	assert.Equal(t, (1<<20)/3000*3000, c.fetchSizeLocked(op), "never above FetchMessageMaxBytes")
	op.batchBytes = 2 << 20
	assert.Equal(t, 1<<20, c.fetchSizeLocked(op), "a batch over FetchMessageMaxBytes does not count")
}

// takeFor has l take resp as the answer to a fetch of op alone.
func takeFor(t *testing.T, l *fetchLoop, op *ownedPartition, resp *protocol.FetchResponse) *fetchResult {
	t.Helper()
	c := l.c
	l.broker = op.p.Leader()
	if l.index == nil {
		l.index = map[int32]int{}
	}
	c.mu.Lock()
	l.sent = append(l.sent[:0], sentPartition{op: op, epoch: op.epoch, offset: op.fetchAt})
	op.inflight, op.owner = true, l
	c.mu.Unlock()
	res, _ := l.take(resp)
	return res
}

// TestFetchSizeLearnsTheBatchSize: a share cut inside a batch shows the
// size of that batch, which the next share covers; a first batch larger
// than the share (Fetch v0-2 answer with its start) is asked for whole
// without moving the partition to the front of the request.
func TestFetchSizeLearnsTheBatchSize(t *testing.T) {
	c, l := offlineConsumer(t, ConsumerConfig{QueuedMaxMessages: 100, FetchMessageMaxBytes: 1 << 20})
	c.mu.Lock()
	c.moveLocked(c.byID[0], 0)
	op := c.byID[0]
	c.mu.Unlock()
	big := batchAt(t, protocol.CompressionNone, offsetRange(0, 200)...)
	require.Greater(t, len(big), 100*initialRecordBytes)

	res := takeFor(t, l, op, fetchResponse(0, 0, 200, big[:100*initialRecordBytes]))
	assert.Empty(t, res.items)
	c.mu.Lock()
	assert.False(t, op.first, "the batch fits the partition's fetch size: no need to come first")
	assert.Equal(t, len(big), c.fetchSizeLocked(op), "the whole batch, and no more")
	c.mu.Unlock()

	small := batchAt(t, protocol.CompressionNone, 0, 1)
	res = takeFor(t, l, op, fetchResponse(0, 0, 202, concat(small, big[:30])))
	require.Len(t, res.items, 1)
	c.mu.Lock()
	assert.Equal(t, len(big), op.batchBytes, "the batch cut short is larger than the one that came")
	c.mu.Unlock()
}

// TestFetchSharesDropNothing: against a log of equal batches, as a busy
// producer writes, and a broker that cuts each partition at its share, no
// fetch after the first brings bytes that are dropped, whatever the
// consumer has queued.
func TestFetchSharesDropNothing(t *testing.T) {
	const perBatch, batches = 7, 60
	c, l := offlineConsumer(t, ConsumerConfig{QueuedMaxMessages: 50, FetchMessageMaxBytes: 1 << 20})
	c.mu.Lock()
	c.moveLocked(c.byID[0], 0)
	op := c.byID[0]
	c.mu.Unlock()
	var log []byte
	size := 0
	for b := range batches {
		rb := &protocol.RecordBatch{BaseOffset: int64(b * perBatch), ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1}
		for i := range perBatch {
			rb.Records = append(rb.Records, protocol.Record{Offset: int64(b*perBatch + i), Timestamp: 1, Value: make([]byte, 20)})
		}
		n := len(log)
		var err error
		log, err = protocol.AppendRecordBatch(log, rb, protocol.CompressionNone)
		require.NoError(t, err)
		require.True(t, size == 0 || size == len(log)-n, "batches of one size")
		size = len(log) - n
	}
	end := int64(batches * perBatch)
	var d fetchDecoder
	dropped, fetches, most := 0, 0, 0
	for op.fetchAt < end {
		c.mu.Lock()
		share := c.fetchSizeLocked(op)
		room := c.hasRoomLocked(op)
		at := int(op.fetchAt) / perBatch * size
		c.mu.Unlock()
		if room {
			answer := log[at:min(at+share, len(log))]
			res := takeFor(t, l, op, fetchResponse(0, 0, end, answer))
			sc := protocol.ScanRecords(answer)
			if fetches > 0 {
				dropped += len(answer) - sc.End
			}
			fetches++
			c.deliver(l, &d, res)
		}
		c.mu.Lock()
		queued := op.queue.len()
		c.mu.Unlock()
		most = max(most, queued)
		consumeN(t, c, min(1+fetches%23, queued)) // drain by varying amounts
	}
	assert.Zero(t, dropped, "bytes fetched and dropped over %d fetches", fetches)
	assert.Greater(t, fetches, 5)
	assert.LessOrEqual(t, most, 50, "no more queued than QueuedMaxMessages")
}

// TestConsumeEndsAtOnceWhenCancelled: with messages queued, a cancelled
// context ends Consume and Messages at once; the iterator says so, and the
// messages stay for a later call.
func TestConsumeEndsAtOnceWhenCancelled(t *testing.T) {
	c, l := offlineConsumer(t, ConsumerConfig{ConsumerTimeout: 20 * time.Millisecond})
	c.mu.Lock()
	c.moveLocked(c.byID[0], 0)
	c.mu.Unlock()
	feed(t, c, l, 0, batchAt(t, protocol.CompressionNone, offsetRange(0, 50)...))

	ctx, cancel := context.WithCancel(t.Context())
	assert.Equal(t, []string{"v0", "v1"}, consumeN(t, c, 2))
	cancel()
	_, err := c.Consume(ctx)
	require.ErrorIs(t, err, context.Canceled, "a cancelled context wins over queued messages")

	ctx, cancel = context.WithCancel(t.Context())
	defer cancel()
	var got []*Message
	var errs []error
	for m, err := range c.Messages(ctx) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		got = append(got, m)
		if len(got) == 3 {
			cancel()
		}
	}
	assert.Len(t, got, 3, "nothing more after the cancel")
	require.Len(t, errs, 1, "the iterator yields the cancellation once, then ends")
	assert.ErrorIs(t, errs[0], context.Canceled)

	// Not cancelled, the iterator drains the rest and ends quietly on the
	// consumer timeout: a finished loop sees no error.
	errs, got = nil, nil
	for m, err := range c.Messages(t.Context()) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		got = append(got, m)
	}
	assert.Empty(t, errs)
	require.Len(t, got, 45)
	assert.Equal(t, int64(5), got[0].Offset, "the messages a cancelled call left stay queued")
	assert.Equal(t, map[int32]int64{0: 49}, c.HeldOffsets(), "the last delivered")
	assert.Equal(t, map[int32]int64{0: 50}, c.NextOffsets(), "the next to deliver, what a commit stores")
}

func TestConsumeErrors(t *testing.T) {
	c, l := offlineConsumer(t, ConsumerConfig{ConsumerTimeout: 20 * time.Millisecond})
	_, err := c.Consume(t.Context())
	require.ErrorIs(t, err, ErrConsumerTimeout)
	var te *ConsumerTimeoutError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, 20*time.Millisecond, te.After)
	assert.True(t, te.Timeout())

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = c.Consume(ctx)
	assert.ErrorIs(t, err, context.Canceled, "a context that ends first is reported as such")

	// A partition error arrives in its place in the stream.
	c.mu.Lock()
	c.moveLocked(c.byID[0], 0)
	op := c.byID[0]
	op.undecoded++
	tooLarge := &PartitionError{Topic: "t", Partition: 0, Err: &MessageTooLargeError{Offset: 1, Size: 1 << 27, MaxBytes: MaxFetchMessageBytes}}
	c.mu.Unlock()
	feed(t, c, l, 0, batchAt(t, protocol.CompressionNone, 0))
	c.deliver(l, &fetchDecoder{}, &fetchResult{items: []decodeItem{{op: op, epoch: op.epoch, err: tooLarge}}})
	var got []error
	for msg, err := range c.Messages(t.Context()) {
		if err == nil {
			assert.Equal(t, int64(0), msg.Offset)
		}
		got = append(got, err)
	}
	require.Len(t, got, 2, "the message, then the error; then the timeout ends the iteration")
	assert.NoError(t, got[0])
	var mtl *MessageTooLargeError
	assert.ErrorAs(t, got[1], &mtl)
	assert.Equal(t, int64(1), mtl.Offset)
	assert.Equal(t, int64(0), c.HeldOffsets()[0], "an error does not move the position")

	require.NoError(t, c.Stop(t.Context()))
	require.NoError(t, c.Stop(t.Context()), "idempotent")
	_, err = c.Consume(t.Context())
	assert.ErrorIs(t, err, ErrConsumerStopped)
	assert.ErrorIs(t, c.ResetOffsets(t.Context(), nil), ErrConsumerStopped)
	for range c.Messages(t.Context()) {
		t.Fatal("a stopped consumer yields nothing")
	}
	assert.True(t, errors.Is(te, ErrConsumerTimeout))
}

// fetchResponse is a Fetch response for partition id of topic "t".
func fetchResponse(id int32, code int16, hw int64, records []byte) *protocol.FetchResponse {
	resp := protocol.NewFetchResponse()
	resp.Responses = []protocol.FetchResponseTopic{{Topic: "t", Partitions: []protocol.FetchResponsePartition{{
		PartitionIndex: id, ErrorCode: code, HighWatermark: hw, LastStableOffset: hw, Records: records}}}}
	return resp
}

func TestTakeOversizedBatch(t *testing.T) {
	c, _ := offlineConsumer(t, ConsumerConfig{FetchMessageMaxBytes: 1024})
	l := &fetchLoop{c: c, broker: c.topic.Partition(0).Leader(), index: map[int32]int{}}
	c.mu.Lock()
	c.moveLocked(c.byID[0], 0)
	op := c.byID[0]
	c.mu.Unlock()
	// Under c.mu, as the consumer's own loops (a reset starts them) read
	// these fields; owned by l and in flight, the partition is left to l.
	send := func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		l.sent = append(l.sent[:0], sentPartition{op: op, epoch: op.epoch, offset: op.fetchAt})
		op.inflight, op.owner = true, l
	}
	value := make([]byte, 5000)
	b := &protocol.RecordBatch{ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1,
		Records: []protocol.Record{{Offset: 0, Timestamp: 1, Value: value}}}
	big, err := protocol.AppendRecordBatch(nil, b, protocol.CompressionNone)
	require.NoError(t, err)

	// Fetch v0-2 answer with the start of a batch that does not fit.
	send()
	res, o := l.take(fetchResponse(0, 0, 1, big[:1024]))
	assert.Empty(t, res.items)
	assert.False(t, o.failed)
	assert.Equal(t, len(big), op.maxBytes, "grown to the batch's size")
	assert.True(t, op.first, "asked for first in the next request")
	assert.Equal(t, int64(0), op.fetchAt)

	// Newer versions answer nothing but show the high watermark ahead.
	c.mu.Lock()
	op.first = false
	c.mu.Unlock()
	send()
	l.take(fetchResponse(0, 0, 1, nil))
	assert.True(t, op.first)

	// The whole batch comes: back to the configured size.
	send()
	res, _ = l.take(fetchResponse(0, 0, 1, big))
	require.Len(t, res.items, 1)
	assert.Equal(t, 1024, op.maxBytes)
	assert.False(t, op.first)
	assert.Equal(t, int64(1), op.fetchAt)
	c.deliver(l, &fetchDecoder{}, res)
	m, err := c.Consume(t.Context())
	require.NoError(t, err)
	assert.Len(t, m.Value, 5000)

	// A batch beyond MaxFetchMessageBytes is reported, and the partition
	// waits for a reset.
	huge := make([]byte, 12)
	binary.BigEndian.PutUint64(huge, 1)
	binary.BigEndian.PutUint32(huge[8:], MaxFetchMessageBytes+1)
	send()
	res, _ = l.take(fetchResponse(0, 0, 5, huge))
	require.Len(t, res.items, 1)
	assert.True(t, op.stalled)
	c.deliver(l, &fetchDecoder{}, res)
	_, err = c.Consume(t.Context())
	var mtl *MessageTooLargeError
	require.ErrorAs(t, err, &mtl)
	assert.Equal(t, int64(1), mtl.Offset)
	assert.Equal(t, MaxFetchMessageBytes+12+1, mtl.Size) // offset and length fields, then the length claimed
	require.NoError(t, c.ResetOffsets(t.Context(), map[int32]OffsetTarget{0: OffsetAfter(1)}))
	assert.False(t, op.stalled, "a reset moves past it")

	// Broker errors: retriable ones wait, others are reported in place.
	send()
	_, o = l.take(fetchResponse(0, protocol.ErrNotLeaderOrFollower.Code, 5, nil))
	assert.True(t, o.stale)
	assert.True(t, o.failed)
	assert.False(t, op.stalled)
	send()
	res, _ = l.take(fetchResponse(0, protocol.ErrTopicAuthorizationFailed.Code, 5, nil))
	require.Len(t, res.items, 1)
	assert.ErrorIs(t, res.items[0].err, protocol.ErrTopicAuthorizationFailed)
	send()
	_, o = l.take(fetchResponse(0, protocol.ErrOffsetOutOfRange.Code, 5, nil))
	assert.Len(t, o.outOfRange, 1)
}
