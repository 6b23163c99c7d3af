package kafka

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/protocol"
)

// ShareConsumer is a member of a share group (KIP-932): the group's
// brokers hand it records of its topics that no other member holds, each
// locked to it until it acknowledges the record or the lock runs out. Any
// number of members may read the same partitions, so a share group scales
// past its partition count, and records are acknowledged one by one:
// accepted (done), released (delivered again, possibly elsewhere, with
// DeliveryCount one higher) or rejected (never delivered again).
//
//	sc, err := client.ShareConsumer(ctx, kafka.ShareConsumerConfig{Group: "jobs", Topics: []string{"jobs"}})
//	defer sc.Close(context.Background())
//	for {
//		msgs, err := sc.Poll(ctx) // accepts what the previous Poll returned (AckImplicit)
//		if err != nil { break }
//		for _, m := range msgs {
//			if failed(process(m)) { sc.Acknowledge(m, kafka.AckRelease) } // try again later
//		}
//	}
//
// Poll and Commit are meant for one goroutine; Acknowledge and Close may be
// called from any (Close ends a waiting Poll with ErrShareConsumerClosed).
// Every request goes through the client's handler.
type ShareConsumer struct {
	cl       *Cluster
	h        handler.Handler
	log      *slog.Logger
	cfg      ShareConsumerConfig
	memberID string
	hbConn   connKey // heartbeats, on a connection of the member's own
	fetchKey connKey // its ShareFetch long polls, likewise

	ctx    context.Context // the consumer's own tasks; cancelled by Close
	cancel context.CancelFunc
	hbDone handler.Event
	op     handler.Lock // one of Poll, Commit, Close at a time
	wake   handler.Event

	mu          sync.Mutex
	memberEpoch int32
	hbInterval  time.Duration
	byID        map[protocol.UUID]*Topic
	topics      map[string]*Topic
	assigned    []sharePartition
	sessions    map[int32]*shareSession
	pending     map[int32]map[sharePartition][]shareAck // by broker, not yet sent
	delivered   map[shareKey]heldRecord                 // from the last Poll, not yet acknowledged
	buffered    []ShareMessage                          // acquired, not yet returned by Poll
	results     []ShareAckResult                        // for OnAcknowledged
	refreshing  bool
	fatal       error
	closed      bool
}

type shareKey struct {
	topic     string
	partition int32
	offset    int64
}

type heldRecord struct {
	broker  int32
	topicID protocol.UUID
}

// ShareConsumer joins the share group cfg names and returns its member. It
// waits for the first ShareGroupHeartbeat, so a cluster without share
// groups fails here, with ErrShareGroupsUnsupported; a bad config fails
// with a *ConfigError, a missing topic with a *TopicError.
func (c *Client) ShareConsumer(ctx context.Context, cfg ShareConsumerConfig) (*ShareConsumer, error) {
	return newShareConsumer(ctx, c.cluster, c.h, cfg)
}

func newShareConsumer(ctx context.Context, cl *Cluster, h handler.Handler, cfg ShareConsumerConfig) (*ShareConsumer, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	var id protocol.UUID
	_, _ = rand.Read(id[:])
	sc := &ShareConsumer{
		cl: cl, h: h, cfg: cfg, memberID: id.String(),
		hbDone: h.NewEvent(), op: h.NewLock(), wake: h.NewEvent(),
		byID: map[protocol.UUID]*Topic{}, topics: map[string]*Topic{},
		sessions: map[int32]*shareSession{}, pending: map[int32]map[sharePartition][]shareAck{},
		delivered: map[shareKey]heldRecord{},
	}
	sc.log = cl.log.With("group", cfg.Group, "member", sc.memberID)
	sc.hbConn = connKey{purpose: purposeGroup, tag: cfg.Group + "\x00share-" + sc.memberID}
	sc.fetchKey = connKey{purpose: purposeFetch, tag: "share\x00" + sc.memberID}
	for _, name := range cfg.Topics {
		t, err := cl.Topic(ctx, name)
		if err != nil {
			return nil, err
		}
		sc.topics[name] = t
		sc.byID[t.ID()] = t
	}
	sc.ctx, sc.cancel = context.WithCancel(context.Background())
	if err := sc.join(ctx); err != nil {
		sc.cancel()
		sc.dropConns()
		return nil, err
	}
	h.Go(handler.TaskName("kafka-share-heartbeat", "group", cfg.Group), func() { sc.heartbeatLoop(sc.ctx) })
	sc.log.Debug("kafka: share consumer joined", "topics", cfg.Topics)
	return sc, nil
}

// join sends heartbeats until the coordinator has taken the member in,
// through a moving or loading coordinator; an error that will not pass, or
// ctx ending, fails it.
func (c *ShareConsumer) join(ctx context.Context) error {
	var lastErr error
	for {
		err := c.heartbeat(ctx)
		if err != nil {
			lastErr = err
		}
		c.mu.Lock()
		joined := c.memberEpoch > 0
		c.mu.Unlock()
		if joined {
			return nil
		}
		var fatal *ShareGroupError
		if errors.As(err, &fatal) {
			return err
		}
		if err != nil {
			c.log.Debug("kafka: share group join failed, retrying", "error", err)
		}
		if err := c.h.Sleep(ctx, shareRetryBackoff); err != nil {
			if lastErr != nil {
				return fmt.Errorf("kafka: joining share group %q: %w (last error: %w)", c.cfg.Group, err, lastErr)
			}
			return fmt.Errorf("kafka: joining share group %q: %w", c.cfg.Group, err)
		}
	}
}

// MemberID is the member's id in its share group.
func (c *ShareConsumer) MemberID() string { return c.memberID }

// Assignment returns the partitions the group coordinator lets the member
// fetch from now, by topic (other members may share them).
func (c *ShareConsumer) Assignment() map[string][]int32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string][]int32{}
	for _, p := range c.assigned {
		out[p.topic] = append(out[p.topic], p.partition)
	}
	return out
}

// setAssignment replaces the assignment and wakes a waiting Poll. Caller
// holds mu.
func (c *ShareConsumer) setAssignment(parts []sharePartition) {
	c.assigned = parts
	c.wake.Set()
}

// fail ends the consumer with err: Poll and Commit return it from now on.
func (c *ShareConsumer) fail(err error) {
	c.mu.Lock()
	if c.fatal == nil {
		c.fatal = err
		c.log.Warn("kafka: share consumer stopped", "error", err)
	}
	c.wake.Set()
	c.mu.Unlock()
}

// Poll returns records acquired for this member, waiting until there are
// some or ctx ends (then nil and ctx's error). First it settles the
// previous Poll's records: with AckImplicit, those not acknowledged
// otherwise are accepted; with AckExplicit, Poll fails with
// ErrShareUnacknowledged while any is unacknowledged. The acknowledgements
// travel with the next ShareFetch. A record should be acknowledged before
// its LockExpires.
func (c *ShareConsumer) Poll(ctx context.Context) ([]ShareMessage, error) {
	if err := c.op.LockContext(ctx); err != nil {
		return nil, err
	}
	defer c.op.Unlock()
	c.mu.Lock()
	if err := c.usableLocked(); err != nil {
		c.mu.Unlock()
		return nil, err
	}
	if c.cfg.AckMode == AckExplicit && len(c.delivered) > 0 {
		n := len(c.delivered)
		c.mu.Unlock()
		return nil, fmt.Errorf("%w: %d record(s)", ErrShareUnacknowledged, n)
	}
	c.settleDeliveredLocked(AckAccept)
	c.mu.Unlock()
	defer c.report()
	for {
		c.mu.Lock()
		if err := c.usableLocked(); err != nil {
			c.mu.Unlock()
			return nil, err
		}
		// Fetch only while nothing waits in the buffer: records acquired
		// ahead of need would sit out their lock there.
		if len(c.buffered) == 0 {
			c.kickLocked()
		}
		c.dropExpiredLocked()
		if len(c.buffered) > 0 {
			msgs := c.buffered
			c.buffered = nil
			for _, m := range msgs {
				c.delivered[shareKey{m.Topic, m.Partition, m.Offset}] = heldRecord{broker: m.broker, topicID: m.topicID}
			}
			c.mu.Unlock()
			return msgs, nil
		}
		c.wake.Clear()
		c.mu.Unlock()
		c.report()
		if err := c.wake.Wait(ctx); err != nil {
			return nil, err
		}
	}
}

// dropExpiredLocked forgets buffered records whose acquisition lock ran
// out while they waited (a Poll gave up before their fetch answered): the
// broker has already handed them back to the group, so delivering them now
// would have them processed twice.
func (c *ShareConsumer) dropExpiredLocked() {
	now := c.h.Now()
	kept := c.buffered[:0]
	for _, m := range c.buffered {
		if m.LockExpires.IsZero() || now.Before(m.LockExpires) {
			kept = append(kept, m)
		}
	}
	if n := len(c.buffered) - len(kept); n > 0 {
		c.log.Debug("kafka: share records' lock expired before Poll took them", "records", n)
	}
	clear(c.buffered[len(kept):])
	c.buffered = kept
}

func (c *ShareConsumer) usableLocked() error {
	if c.closed {
		return ErrShareConsumerClosed
	}
	return c.fatal
}

// Acknowledge acknowledges a record the last Poll returned: AckAccept,
// AckRelease or AckReject. The acknowledgement leaves with the next Poll or
// Commit. It fails with ErrShareNotDelivered for a record not held (another
// Poll's, or one already acknowledged), and never blocks.
func (c *ShareConsumer) Acknowledge(m ShareMessage, t AckType) error {
	if t != AckAccept && t != AckRelease && t != AckReject {
		return fmt.Errorf("kafka: acknowledge type %v is not accept, release or reject", t)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrShareConsumerClosed
	}
	k := shareKey{m.Topic, m.Partition, m.Offset}
	held, ok := c.delivered[k]
	if !ok {
		return fmt.Errorf("%w: %s/%d at %d", ErrShareNotDelivered, m.Topic, m.Partition, m.Offset)
	}
	delete(c.delivered, k)
	c.addAckLocked(held.broker, sharePartition{topicID: held.topicID, topic: m.Topic, partition: m.Partition}, shareAck{offset: m.Offset, typ: t})
	return nil
}

// Commit sends the acknowledgements made so far (with AckImplicit, it
// first accepts every record the last Poll returned) and waits for the
// brokers' answers. Failures are a *ShareAckError; they also reach
// OnAcknowledged.
func (c *ShareConsumer) Commit(ctx context.Context) error {
	if err := c.op.LockContext(ctx); err != nil {
		return err
	}
	defer c.op.Unlock()
	c.mu.Lock()
	if err := c.usableLocked(); err != nil {
		c.mu.Unlock()
		return err
	}
	if c.cfg.AckMode == AckImplicit {
		c.settleDeliveredLocked(AckAccept)
	}
	c.mu.Unlock()
	return c.flushAcks(ctx, false)
}

// flushAcks sends every pending acknowledgement and waits until they are
// answered; final closes the share sessions as it goes. It returns the
// failures among the results it saw.
func (c *ShareConsumer) flushAcks(ctx context.Context, final bool) error {
	var failed []ShareAckResult
	for {
		c.mu.Lock()
		for _, r := range c.results {
			if r.Err != nil {
				failed = append(failed, r)
			}
		}
		results := c.results
		c.results = nil
		done := c.kickAcksLocked(final)
		if !done {
			c.wake.Clear()
		}
		c.mu.Unlock()
		c.callback(results)
		if done {
			break
		}
		if err := c.wake.Wait(ctx); err != nil {
			return err
		}
	}
	if len(failed) > 0 {
		return &ShareAckError{Failed: failed}
	}
	return nil
}

// settleDeliveredLocked acknowledges every record still held from the last
// Poll with t.
func (c *ShareConsumer) settleDeliveredLocked(t AckType) {
	for k, held := range c.delivered {
		c.addAckLocked(held.broker, sharePartition{topicID: held.topicID, topic: k.topic, partition: k.partition}, shareAck{offset: k.offset, typ: t})
	}
	clear(c.delivered)
}

func (c *ShareConsumer) addAckLocked(broker int32, p sharePartition, a shareAck) {
	m := c.pending[broker]
	if m == nil {
		m = map[sharePartition][]shareAck{}
		c.pending[broker] = m
	}
	m[p] = append(m[p], a)
}

// report hands the acknowledgement results gathered so far to
// OnAcknowledged, on the caller's goroutine.
func (c *ShareConsumer) report() {
	c.mu.Lock()
	results := c.results
	c.results = nil
	c.mu.Unlock()
	c.callback(results)
}

func (c *ShareConsumer) callback(results []ShareAckResult) {
	for _, r := range results {
		if r.Err != nil {
			c.log.Debug("kafka: share acknowledgement failed", "topic", r.Topic, "partition", r.Partition,
				"offsets", len(r.Offsets), "error", r.Err)
		}
		if c.cfg.OnAcknowledged != nil {
			c.cfg.OnAcknowledged(r)
		}
	}
}

// Close settles what the member holds, closes its share sessions and
// leaves the group; it is a no-op the second time. With AckImplicit the last Poll's records are accepted,
// with AckExplicit those not acknowledged are released; records acquired
// but never returned by Poll are released. It returns failed
// acknowledgements as a *ShareAckError; ctx bounds the whole.
func (c *ShareConsumer) Close(ctx context.Context) error {
	// A Poll waiting on another goroutine returns ErrShareConsumerClosed at
	// once instead of holding Close up.
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.wake.Set()
	c.mu.Unlock()
	if err := c.op.LockContext(ctx); err != nil {
		c.cancel() // too late to settle: at least stop heartbeating
		return err
	}
	defer c.op.Unlock()
	c.mu.Lock()
	if c.cfg.AckMode == AckImplicit {
		c.settleDeliveredLocked(AckAccept)
	} else {
		c.settleDeliveredLocked(AckRelease)
	}
	for _, m := range c.buffered {
		c.addAckLocked(m.broker, sharePartition{topicID: m.topicID, topic: m.Topic, partition: m.Partition},
			shareAck{offset: m.Offset, typ: AckRelease})
	}
	c.buffered = nil
	c.assigned = nil
	fatal := c.fatal
	c.mu.Unlock()

	var ackErr error
	if fatal == nil {
		ackErr = c.flushAcks(ctx, true)
	}
	c.cancel() // ends the heartbeat loop
	if err := c.hbDone.Wait(ctx); err != nil && ackErr == nil {
		ackErr = err
	}
	if fatal == nil {
		if err := c.leave(ctx); err != nil {
			c.log.Debug("kafka: share group leave failed", "error", err)
		}
	}
	c.dropConns()
	c.log.Debug("kafka: share consumer closed")
	return ackErr
}

func (c *ShareConsumer) dropConns() {
	for _, b := range c.cl.Brokers() {
		b.dropConn(c.hbConn)
		b.dropConn(c.fetchKey)
	}
}

// refreshTopicsLocked refreshes metadata in the background (at most once at
// a time), so that leaders and topic ids catch up; a Poll waiting wakes
// when it is done.
func (c *ShareConsumer) refreshTopicsLocked() {
	if c.refreshing || c.closed {
		return
	}
	c.refreshing = true
	c.h.Go(handler.TaskName("kafka-share-metadata", "group", c.cfg.Group), func() {
		err := c.cl.Update(c.ctx)
		if err != nil {
			_ = c.h.Sleep(c.ctx, shareRetryBackoff)
		}
		c.mu.Lock()
		c.refreshing = false
		for name, t := range c.topics {
			if _, ok := c.byID[t.ID()]; !ok {
				c.byID[t.ID()] = c.topics[name]
			}
		}
		c.wake.Set()
		c.mu.Unlock()
	})
}
