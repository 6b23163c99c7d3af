package kafka

import (
	"context"
	"errors"
	"iter"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gregorkafka/gregor/handler"
)

// SimpleConsumer reads a topic's partitions (all of them, or
// ConsumerConfig.Partitions) without coordinating with other consumers:
// pykafka's SimpleConsumer. Two SimpleConsumers of one topic both receive
// every message. A consumer group, when configured, only stores offsets.
//
// Messages come out one at a time through Consume, or by ranging over
// Messages, in offset order within each partition and round-robin across
// partitions (message by message, or in runs of up to 64 when more than 32
// partitions have messages waiting). Behind them, one fetch loop per leader broker keeps a Fetch
// in flight while the application works through what the previous one
// brought, up to ConsumerConfig.QueuedMaxMessages per partition.
//
// # Where consumption starts
//
// The rules are those of pykafka's usage guide. For a partition the group
// has no committed offset for, consumption starts at AutoOffsetReset. For
// one it has, consumption resumes right after the last message consumed
// before that commit (the broker stores the next offset to read: a consumer
// that delivered offset 4 commits 5, and its successor starts at 5), unless
// ResetOffsetOnStart, which starts at AutoOffsetReset regardless. A start
// at AutoOffsetReset is committed at once when there is a group. An offset
// that turns out to be out of range (deleted by retention, say) moves the
// partition to AutoOffsetReset too.
//
// A SimpleConsumer is safe for concurrent use. Stop it when done.
type SimpleConsumer struct {
	topic *Topic
	cl    *Cluster
	h     handler.Handler
	cfg   ConsumerConfig
	log   *slog.Logger

	parts []*ownedPartition // sorted by id
	byID  map[int32]*ownedPartition

	mu          sync.Mutex
	ready       partRing // partitions with queued entries, in delivery order
	run         int      // entries taken in a row from ready's head
	loops       map[int32]*fetchLoop
	bytes       byteBound // QueuedMaxBytes
	needRefresh bool      // the supervisor should refresh metadata
	// recordBytes is the wire size per record of the latest fetch that
	// brought records, for partitions yet to bring any.
	recordBytes int
	fatal       error // the client closed under the consumer, or authentication failed

	avail      handler.Event // set when an entry may have been queued
	supervisor *onDemand     // runs supervise; kicked to re-route partitions
	retryAt    time.Time     // supervise only: a leaderless partition is looked at again then
	backoff    time.Duration // supervise only

	lifecycle // stopped is guarded by mu
	// dropCommit keeps Stop from committing: the partitions were lost to
	// another member of the group.
	dropCommit atomic.Bool

	runCtx context.Context // ends at Stop
	cancel context.CancelFunc
	tasks  *taskGroup
}

// SimpleConsumer returns a consumer of the topic. cfg is validated (a bad
// field gives a *ConfigError) and, unless cfg.ManualStart, the consumer
// starts at once in the background: it looks up its starting offsets and
// begins fetching, and Consume waits for that. Errors of a background start
// are logged and the start retried; Consume reports them too.
func (t *Topic) SimpleConsumer(cfg ConsumerConfig) (*SimpleConsumer, error) {
	if t.cl.closed.Load() {
		return nil, ErrClosed
	}
	cfg, err := cfg.withDefaults(t)
	if err != nil {
		return nil, err
	}
	c := newSimpleConsumer(t, cfg)
	if !cfg.ManualStart {
		c.tasks.Go("kafka-consumer-start", c.startInBackground)
	}
	return c, nil
}

func newSimpleConsumer(t *Topic, cfg ConsumerConfig) *SimpleConsumer {
	h := t.cl.h
	c := &SimpleConsumer{
		topic: t,
		cl:    t.cl,
		h:     h,
		cfg:   cfg,
		log:   t.cl.log.With("topic", t.name),
		byID:  make(map[int32]*ownedPartition, len(cfg.Partitions)),
		loops: map[int32]*fetchLoop{},
		avail: h.NewEvent(),
		tasks: newTaskGroup(h),
	}
	c.lifecycle = newLifecycle(h, &c.mu)
	c.supervisor = newOnDemand(c.tasks.Go, "kafka-consumer-supervisor", c.supervise)
	if cfg.ConsumerGroup != "" {
		c.log = c.log.With("group", cfg.ConsumerGroup)
	}
	c.runCtx, c.cancel = context.WithCancel(context.Background())
	for _, id := range cfg.Partitions {
		op := newOwnedPartition(t.Partition(id), cfg.FetchMessageMaxBytes)
		c.parts = append(c.parts, op)
		c.byID[id] = op
	}
	return c
}

// Topic returns the topic consumed.
func (c *SimpleConsumer) Topic() *Topic { return c.topic }

// Partitions returns the ids of the partitions consumed, sorted.
func (c *SimpleConsumer) Partitions() []int32 {
	ids := make([]int32, len(c.parts))
	for i, op := range c.parts {
		ids[i] = op.id
	}
	return ids
}

// Start begins consuming: it fetches the group's committed offsets, picks
// each partition's starting offset by the rules in the type's doc (a
// partition already moved by ResetOffsets keeps that position), and starts
// fetching and, with AutoCommit, committing. It returns nil at once when
// already started, and ErrConsumerStopped after Stop. Consume calls it when
// needed; an explicit Start reports start errors (a coordinator that cannot
// be reached, say) before the first message is wanted.
func (c *SimpleConsumer) Start(ctx context.Context) error {
	return c.runStart(ctx, c.initPositions, func() {
		if c.cfg.AutoCommit {
			c.tasks.Go("kafka-consumer-autocommit", func() { c.autoCommit(c.runCtx) })
		}
		c.supervisor.kick()
		c.log.Debug("kafka: consumer started", "partitions", len(c.parts))
	})
}

// startInBackground runs Start until it succeeds or the consumer stops.
func (c *SimpleConsumer) startInBackground() {
	ctx := c.runCtx
	for {
		err := c.Start(ctx)
		if err == nil || ctx.Err() != nil || errors.Is(err, ErrConsumerStopped) || errors.Is(err, ErrClosed) {
			return
		}
		c.log.Warn("kafka: consumer start failed, retrying", "error", err)
		if c.h.Sleep(ctx, c.cfg.OffsetsChannelBackoff) != nil {
			return
		}
	}
}

// Stop stops the consumer: fetching ends, Consume fails with
// ErrConsumerStopped (messages fetched but not delivered are dropped), and
// with AutoCommit the positions reached are committed. It waits, within
// ctx, for the consumer's tasks to end. Later calls do nothing and return
// the first call's result.
func (c *SimpleConsumer) Stop(ctx context.Context) error {
	return c.runStop(ctx, func(ctx context.Context) error {
		c.mu.Lock()
		c.stopped = true
		loops := make([]*fetchLoop, 0, len(c.loops))
		for _, l := range c.loops {
			loops = append(loops, l)
		}
		freed := c.leaveSharedLocked()
		c.mu.Unlock()
		kickAll(freed)
		c.cancel()
		c.avail.Set()
		c.supervisor.kick()
		for _, l := range loops {
			l.kick()
		}
		err := c.tasks.Wait(ctx)
		if err == nil && c.cfg.AutoCommit && c.started.Load() && !c.dropCommit.Load() {
			err = c.commit(ctx, true)
		}
		c.log.Debug("kafka: consumer stopped", "error", err)
		return err
	})
}

// Consume returns the next message. Messages of one partition come in
// offset order; partitions take turns. It waits for a message as long as
// ctx allows, and at most ConsumerConfig.ConsumerTimeout when that is set
// (then failing with a *ConsumerTimeoutError, errors.Is(err,
// ErrConsumerTimeout)). A context that has ended ends the call at once,
// with ctx.Err(), even when messages are waiting: they stay queued for a
// later call. It returns ErrConsumerStopped after Stop.
//
// An error about one partition comes as a *PartitionError in that
// partition's place among its messages (a record too large to fetch, a
// corrupt batch, a broker refusing the partition); the other partitions go
// on, so calling Consume again is the usual response.
func (c *SimpleConsumer) Consume(ctx context.Context) (*Message, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !c.started.Load() {
		if err := c.Start(ctx); err != nil {
			return nil, err
		}
	}
	// A message at hand costs no wait bound (a context and a timer).
	e, ok, err := c.take(true)
	if ok {
		return e.msg, e.err
	}
	if err != nil {
		return nil, err
	}
	return c.consumeWait(ctx)
}

// consumeWait is Consume once nothing was ready: it waits for an entry.
func (c *SimpleConsumer) consumeWait(ctx context.Context) (*Message, error) {
	wb := waitBound{h: c.h, after: c.cfg.ConsumerTimeout}
	defer wb.end()
	for {
		if err := c.avail.Wait(wb.ctx(ctx)); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, &ConsumerTimeoutError{After: c.cfg.ConsumerTimeout}
		}
		e, ok, err := c.take(true)
		if ok {
			return e.msg, e.err
		}
		if err != nil {
			return nil, err
		}
	}
}

// take takes the next message or partition error if one is ready. When
// none is, err is ErrConsumerStopped after Stop or the consumer's fatal
// error, or else nil and, with clear, avail is cleared under the same lock
// that found nothing, so an entry queued afterwards sets it again. (A
// BalancedConsumer's inners share avail, which it clears itself before
// asking them all.)
func (c *SimpleConsumer) take(clear bool) (e entry, ok bool, err error) {
	c.mu.Lock()
	if c.stopped {
		c.mu.Unlock()
		return entry{}, false, ErrConsumerStopped
	}
	e, ok, wake, reroute := c.popLocked()
	if !ok {
		if err = c.fatal; err == nil && clear {
			c.avail.Clear()
		}
	}
	freed := c.roomFreedLocked()
	c.mu.Unlock()
	if wake != nil {
		wake.kick()
	}
	kickAll(freed)
	if reroute {
		c.supervisor.kick()
	}
	return e, ok, err
}

// popLocked takes the next entry, round-robin across partitions in runs of
// up to deliveryRun entries. When the partition now has room to fetch into,
// wake is its leader's fetch loop, or reroute is set when that broker has no
// loop.
func (c *SimpleConsumer) popLocked() (e entry, ok bool, wake *fetchLoop, reroute bool) {
	for {
		op, found := c.ready.peek()
		if !found {
			return entry{}, false, nil, false
		}
		if op.queue.len() == 0 || op.paused {
			c.ready.pop()
			op.inReady = false
			c.run = 0
			continue
		}
		full := !c.hasRoomLocked(op)
		e = op.queue.pop()
		if e.msg != nil {
			op.position = e.msg.Offset + 1
			c.addQueuedLocked(op, -messageBytes(e.msg))
			op.catchUpLocked()
		}
		c.run++
		switch {
		case op.queue.len() == 0:
			c.ready.pop()
			op.inReady = false
			c.run = 0
		case c.run >= deliveryRun || c.ready.n <= deliveryRunFrom:
			c.ready.pop()
			c.ready.push(op)
			c.run = 0
		}
		if full && c.hasRoomLocked(op) {
			if b := op.p.Leader(); b != nil && c.loops[b.ID()] != nil {
				wake = c.loops[b.ID()]
			} else {
				reroute = true
			}
		}
		return e, true, wake, reroute
	}
}

// deliveryRun is how many entries Consume takes from one partition before
// moving to the next once more than deliveryRunFrom partitions have some
// ready. Strict alternation touches another partition's state and message
// slab on every message, which across thousands of partitions is a cache
// miss each time; a run keeps them hot while every partition still gets its
// turn. Fewer partitions fit the cache and alternate message by message.
const (
	deliveryRun     = 64
	deliveryRunFrom = 32
)

// hasRoomLocked reports whether the partition's queue, counting results
// still being decoded, is low enough to fetch more: at least half of
// QueuedMaxMessages free (so a fetch brings a useful amount, not a few
// messages at a time) and fewer bytes than one fetch brings.
func (c *SimpleConsumer) hasRoomLocked(op *ownedPartition) bool {
	room := c.cfg.QueuedMaxMessages - op.queue.len() - op.pendingMsgs
	return room > 0 && 2*room >= c.cfg.QueuedMaxMessages &&
		op.queuedBytes+op.pendingBytes < c.cfg.FetchMessageMaxBytes
}

// initialRecordBytes is the size per record assumed before a partition's
// first fetch shows the real one: about the least a record takes in a
// batch, so that a first fetch never brings more than QueuedMaxMessages
// (but for the rest of a batch); larger records only make it bring fewer.
const initialRecordBytes = 8

// fetchSizeLocked is the partition's share of a Fetch request: the room
// QueuedMaxMessages leaves, in bytes at the partition's recent bytes per
// record, within maxBytes, and in whole batches of the partition's recent
// batch size. Brokers cut a share at its byte limit, and a consumer drops
// the partial batch at the end and fetches it again: a share of whole
// batches, when batches are of one size as a busy producer makes them,
// ends where a batch does and wastes nothing. The share is rounded down,
// so it brings no more than the room, but it is at least one batch: a
// smaller share would bring nothing. A partition that must get a whole
// oversized batch (first) asks for maxBytes.
func (c *SimpleConsumer) fetchSizeLocked(op *ownedPartition) int {
	if op.first {
		return op.maxBytes
	}
	room := max(c.cfg.QueuedMaxMessages-op.queue.len()-op.pendingMsgs, 1)
	per := op.recordBytes
	if per <= 0 {
		per = initialRecordBytes
	}
	size := op.maxBytes
	if room <= op.maxBytes/per {
		size = room * per
	}
	if b := op.batchBytes; b > 0 && b <= op.maxBytes {
		size = max(size/b, 1) * b
	}
	return max(size, 1)
}

// expectedBytesLocked is what a Fetch naming op with a share of size
// bytes (fetchSizeLocked) is expected to bring: the share, or less when
// the partition's end, as the latest response gave it, is nearer at its
// recent bytes per record. A partition at its end, or whose end is
// unknown, brings nothing.
func (c *SimpleConsumer) expectedBytesLocked(op *ownedPartition, size int) int {
	if op.highWatermark <= op.fetchAt {
		return 0
	}
	per := op.recordBytes
	if per <= 0 {
		per = c.recordBytes
	}
	if lag := op.highWatermark - op.fetchAt; per > 0 && lag < int64(size/per) {
		return int(lag) * per
	}
	return size
}

// Messages returns an iterator over the consumer's messages, for use with
// range:
//
//	for msg, err := range consumer.Messages(ctx) {
//		if err != nil {
//			log.Print(err) // a *PartitionError; the others go on
//			continue
//		}
//		fmt.Println(msg.Offset, string(msg.Value))
//	}
//
// It yields what Consume returns. When ctx ends, the iteration yields
// (nil, ctx.Err()) once and ends, at once, even with messages fetched
// ahead: so a loop that sees errors.Is(err, context.Canceled) knows it was
// cancelled, while a loop that ends without an error has finished. It ends
// without yielding an error when the consumer times out (as pykafka's
// iterator does) and when it is stopped. A *PartitionError is yielded and
// the iteration goes on; any other error is yielded and ends it.
func (c *SimpleConsumer) Messages(ctx context.Context) iter.Seq2[*Message, error] {
	return messages(ctx, c.Consume)
}

// HeldOffsets returns, for each partition the consumer has a position in,
// the offset of the message it delivered last (pykafka's held_offsets), or
// of a transaction marker or aborted record it skipped after it: one less
// than the next offset it will deliver, so -1 for a partition starting at
// offset 0. Partitions not started yet are missing. What a
// commit stores is the other form, NextOffsets.
func (c *SimpleConsumer) HeldOffsets() map[int32]int64 { return c.offsets(-1) }

// NextOffsets returns, for each partition the consumer has a position in,
// the offset of the next message it will deliver: HeldOffsets()+1, and
// what CommitOffsets stores (Kafka's committed offset, from which the
// group's next consumer of the partition starts). Partitions not started
// yet are missing.
func (c *SimpleConsumer) NextOffsets() map[int32]int64 { return c.offsets(0) }

// offsets returns every started partition's position plus delta.
func (c *SimpleConsumer) offsets(delta int64) map[int32]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[int32]int64, len(c.parts))
	for _, op := range c.parts {
		if op.position >= 0 {
			out[op.id] = op.position + delta
		}
	}
	return out
}

// autoCommit commits every AutoCommitInterval until ctx ends.
func (c *SimpleConsumer) autoCommit(ctx context.Context) {
	for c.h.Sleep(ctx, c.cfg.AutoCommitInterval) == nil {
		if err := c.commit(ctx, true); err != nil && ctx.Err() == nil {
			c.log.Warn("kafka: automatic offset commit failed", "error", err)
		}
	}
}

// failLocked records an error that ends consumption (the client closed, or
// a broker refused to authenticate the connection);
// Consume returns it once the queues are drained.
func (c *SimpleConsumer) failLocked(err error) {
	if c.fatal == nil {
		c.fatal = err
	}
}
