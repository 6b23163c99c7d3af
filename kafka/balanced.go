package kafka

import (
	"context"
	"errors"
	"iter"
	"log/slog"
	"regexp"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/gregorkafka/gregor/handler"
)

// BalancedConsumer is a member of a consumer group that shares a topic's
// partitions (or several topics', see Client.BalancedConsumer) with the
// group's other members: each partition is consumed by
// one member at a time, and when a member joins or leaves (or dies) the
// group rebalances and the survivors take over its partitions. It is
// pykafka's ManagedBalancedConsumer (coordinated by the group coordinator
// broker, compatible with the Java client) or, when the configuration
// names a ZooKeeper, its BalancedConsumer (coordinated through ZooKeeper);
// see BalancedConsumerConfig, "Coordination".
//
// Underneath, it runs a SimpleConsumer over the partitions it owns of each
// topic and replaces it when they change; Consume, Messages, CommitOffsets and
// HeldOffsets act on that consumer. A member that owns nothing (a group
// with more members than partitions) waits in Consume until a rebalance
// gives it partitions.
//
// # Rebalances
//
// A rebalance first pauses delivery: a Consume waiting for a message goes
// back to waiting for the rebalance to end instead of holding it up, and
// one returning a message finishes before the rebalance goes on. With
// AutoCommit (or CommitOnRebalance) the positions reached are committed then, so the next owner
// of a partition resumes right after the last message delivered here;
// without it nothing is committed behind the application's back, and a
// partition that moves is consumed again from its last commit. Messages
// fetched from partitions the rebalance takes away are dropped, never
// delivered. Partitions kept across a rebalance keep their positions.
//
// With a cooperative assignor (CooperativeStickyAssignor) a managed member
// does not pause for the whole rebalance: it keeps consuming what it owns
// and pauses only to give up the partitions that move (BeforeRevokeCallback
// sees those alone) and to take on new ones (AfterAssignCallback). A member
// dropped from the group behind its back (see LostCallback) drops its
// partitions without committing.
//
// A BalancedConsumer is safe for concurrent use. Stop it when done: it then
// leaves the group (managed) or releases its ZooKeeper nodes, so the rest
// of the group takes over at once instead of after a session timeout.
type BalancedConsumer struct {
	topic   *Topic         // Topic.BalancedConsumer's; nil from Client.BalancedConsumer
	single  string         // the topic, when the consumer has exactly one fixed topic
	pattern *regexp.Regexp // TopicPattern, anchored to whole names; nil without
	cl      *Cluster
	h       handler.Handler
	group   string
	cfg     BalancedConsumerConfig
	log     *slog.Logger
	member  membership

	mu         sync.Mutex
	subscribed []string                      // the topics subscribed to now, sorted (a pattern's: those it matched)
	inners     map[string]*SimpleConsumer    // by topic: the consumers of the partitions owned
	innerList  []*SimpleConsumer             // the same, by topic name, for Consume's turns
	innerGen   uint64                        // counts changes of inners
	owned      topicParts                    // the partitions owned
	assigned   bool                          // a first assignment has been applied
	paused     bool                          // a rebalance is under way: Consume waits
	revoked    bool                          // BeforeRevokeCallback ran for the partitions owned
	lost       bool                          // the partitions owned are lost: drop them uncommitted
	pausedIDs  map[TopicPartition]bool       // partitions paused by Pause, of those owned
	coop       bool                          // rebalances are cooperative: callbacks see the changes only
	active     int                           // Consume calls inside inner
	calls      map[uint64]context.CancelFunc // those of them waiting, to interrupt
	nextCall   uint64
	fatal      error
	turn       atomic.Uint32 // which inner Consume asks first

	avail   handler.Event // shared by the inners: set when one may have queued a message
	bytes   *sharedBytes  // shared by the inners: ConsumerConfig.QueuedMaxBytes
	changed handler.Event // set when Consume's wait may be over: resumed, stopped, failed
	idle    handler.Event // set once active drops to zero while paused
	ready   handler.Event // set once the first rebalance ended, or the consumer failed

	lifecycle // stopped is guarded by mu
	// swap is held while a rebalance replaces inner, and by ResetOffsets,
	// so that a reset never goes to a consumer being replaced.
	swap handler.Lock

	runCtx context.Context // ends at Stop
	cancel context.CancelFunc
	tasks  *taskGroup
}

// membership is how a BalancedConsumer learns which partitions it owns:
// zkMembership (balanced_zookeeper.go, over internal/zookeeper),
// managedMembership (balanced_managed.go, the classic protocol) or
// consumerMembership (consumer_group.go, KIP-848's, with the broker
// assigning). Each calls revoke (or revokeSome, for incremental protocols),
// markLost or dropLost, and assign on the consumer as its protocol dictates.
type membership interface {
	// open prepares membership (a ZooKeeper session and registration);
	// Start retries it until it succeeds.
	open(ctx context.Context) error
	// run keeps the consumer's assignment current until ctx ends, calling
	// BalancedConsumer.revoke before it gives partitions up and
	// BalancedConsumer.assign with each new assignment. Tasks it needs are
	// started on BalancedConsumer.tasks.
	run(ctx context.Context)
	// generation returns what offset commits carry; nil where the group
	// has no generations (ZooKeeper).
	generation() func() (int32, string)
	// close leaves the group after the consumer stopped consuming.
	close(ctx context.Context) error
	// memberID is the consumer's id in the group ("" before it has one).
	memberID() string
}

// BalancedConsumer returns a member of the consumer group group consuming
// the topic, coordinated by the group's coordinator broker or, when cfg
// names a ZooKeeper, through ZooKeeper. cfg is validated (a bad field gives a
// *ConfigError) and, unless cfg.ManualStart, the consumer joins the group
// at once in the background; Consume waits for its first assignment.
// Client.BalancedConsumer makes a member of several topics, or of a
// pattern's.
func (t *Topic) BalancedConsumer(group string, cfg BalancedConsumerConfig) (*BalancedConsumer, error) {
	return newBalancedConsumer(t.cl, t, group, cfg)
}

// BalancedConsumer returns a member of the consumer group group consuming
// the topics cfg.Topics names, or those cfg.TopicPattern matches, through
// the brokers' group protocol (classic or, with GroupProtocolConsumer,
// KIP-848's). It is Topic.BalancedConsumer for several topics: the same
// consumer, whose messages carry their topic (Message.Topic), whose
// Assignment, HeldTopicOffsets and NextTopicOffsets name partitions by
// topic and whose commits go to every topic owned. The methods and
// callbacks that name partitions of one topic (Partitions, HeldOffsets,
// ResetOffsets, Pause, BeforeRevokeCallback, ...) serve a consumer of one
// topic only; with several, their topic forms apply. Topic.BalancedConsumer
// stays the way to a one-topic consumer, pykafka's, and the only one to a
// ZooKeeper-coordinated one, which has one topic.
func (c *Client) BalancedConsumer(group string, cfg BalancedConsumerConfig) (*BalancedConsumer, error) {
	return newBalancedConsumer(c.cluster, nil, group, cfg)
}

func newBalancedConsumer(cl *Cluster, t *Topic, group string, cfg BalancedConsumerConfig) (*BalancedConsumer, error) {
	if cl.closed.Load() {
		return nil, ErrClosed
	}
	cfg, err := cfg.withDefaultsOn(cl, t, group)
	if err != nil {
		return nil, err
	}
	h := cl.h
	b := &BalancedConsumer{
		topic:     t,
		cl:        cl,
		h:         h,
		group:     group,
		cfg:       cfg,
		calls:     map[uint64]context.CancelFunc{},
		inners:    map[string]*SimpleConsumer{},
		bytes:     &sharedBytes{},
		owned:     topicParts{},
		pausedIDs: map[TopicPartition]bool{},
		avail:     h.NewEvent(),
		changed:   h.NewEvent(),
		idle:      h.NewEvent(),
		ready:     h.NewEvent(),
		swap:      h.NewLock(),
		tasks:     newTaskGroup(h),
	}
	switch {
	case t != nil:
		b.single, b.subscribed = t.name, []string{t.name}
		b.log = cl.log.With("topic", t.name, "group", group)
	case cfg.TopicPattern != "":
		b.pattern = regexp.MustCompile("^(?:" + cfg.TopicPattern + ")$") // compiled once already by withDefaults
		b.log = cl.log.With("topicPattern", cfg.TopicPattern, "group", group)
	default:
		b.subscribed = cfg.Topics
		if len(cfg.Topics) == 1 {
			b.single = cfg.Topics[0]
		}
		b.log = cl.log.With("topics", cfg.Topics, "group", group)
	}
	b.lifecycle = newLifecycle(h, &b.mu)
	b.runCtx, b.cancel = context.WithCancel(context.Background())
	if cfg.Managed && cfg.GroupProtocol == GroupProtocolConsumer {
		b.member = newConsumerMembership(b)
	} else if cfg.Managed {
		b.member = newManagedMembership(b)
	} else {
		b.member = newZKMembership(b)
	}
	if !cfg.ManualStart {
		b.tasks.Go("kafka-balanced-start", b.startInBackground)
	}
	return b, nil
}

// Topic returns the topic consumed by a consumer made with
// Topic.BalancedConsumer; nil for one made with Client.BalancedConsumer
// (see Topics).
func (b *BalancedConsumer) Topic() *Topic { return b.topic }

// Topics returns the topics the consumer subscribes to now, sorted: its
// topic, cfg.Topics, or those cfg.TopicPattern matched at the last look
// (nil for a GroupProtocolConsumer member, whose broker matches the
// pattern; see Assignment).
func (b *BalancedConsumer) Topics() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.subscribed)
}

// Group returns the consumer group's name.
func (b *BalancedConsumer) Group() string { return b.group }

// MemberID returns the consumer's id in its group: the member id the
// coordinator gave it (managed; "" until it has joined), or its
// "hostname:uuid4" registration name (ZooKeeper; made with the consumer).
func (b *BalancedConsumer) MemberID() string { return b.member.memberID() }

// Partitions returns the ids of the partitions the consumer owns now,
// sorted; empty while it owns none or before its first assignment. It
// serves a consumer of one topic; with several, see Assignment.
func (b *BalancedConsumer) Partitions() []int32 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.owned[b.single])
}

// Assignment returns the partitions the consumer owns now, topic →
// partition ids (sorted); empty while it owns none.
func (b *BalancedConsumer) Assignment() map[string][]int32 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.owned.clone()
}

// Start joins the group and returns once the first rebalance has given the
// consumer its partitions (possibly none). It returns nil at once when
// already started, and ErrConsumerStopped after Stop. Consume calls it when
// needed, so only a consumer made with ManualStart needs an explicit Start.
// If ctx ends before the first assignment, Start returns ctx.Err() but the
// consumer goes on joining in the background.
func (b *BalancedConsumer) Start(ctx context.Context) error {
	if err := b.ensureStarted(ctx); err != nil {
		return err
	}
	if err := b.ready.Wait(ctx); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.fatal
}

// ensureStarted opens membership and starts the rebalancing task, unless
// done already; it does not wait for the first assignment.
func (b *BalancedConsumer) ensureStarted(ctx context.Context) error {
	return b.runStart(ctx, b.member.open, func() {
		b.tasks.Go("kafka-balanced-membership", func() { b.member.run(b.runCtx) })
	})
}

// startInBackground runs Start until the consumer has joined or stops.
func (b *BalancedConsumer) startInBackground() {
	ctx := b.runCtx
	for attempt := 1; ; attempt++ {
		err := b.ensureStarted(ctx)
		if err == nil || ctx.Err() != nil || errors.Is(err, ErrConsumerStopped) {
			return
		}
		if errors.Is(err, ErrClosed) {
			b.fail(err)
			return
		}
		b.log.Warn("kafka: balanced consumer start failed, retrying", "error", err, "attempt", attempt)
		if b.h.Sleep(ctx, b.cfg.RebalanceBackoff) != nil {
			return
		}
	}
}

// fail records an error the consumer cannot recover from; Consume and
// Start return it.
func (b *BalancedConsumer) fail(err error) {
	b.mu.Lock()
	if b.fatal == nil {
		b.fatal = err
		b.log.Error("kafka: balanced consumer failed", "error", err)
	}
	b.mu.Unlock()
	b.changed.Set()
	b.ready.Set()
}

// Consume returns the next message from the partitions the consumer owns,
// as SimpleConsumer.Consume does. It waits through rebalances, and while
// the consumer owns nothing, as long as ctx allows and at most
// ConsumerTimeout when that is set (then failing with a
// *ConsumerTimeoutError). It returns ctx.Err() when ctx ends first, at
// once even with messages waiting, ErrConsumerStopped after Stop, and a
// *GroupError when the group membership failed for good.
func (b *BalancedConsumer) Consume(ctx context.Context) (*Message, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// The ConsumerTimeout clock starts when the call first has to wait, as
	// SimpleConsumer's does: a message already fetched costs no timer.
	wb := waitBound{h: b.h, after: b.cfg.ConsumerTimeout}
	defer wb.end()
	if !b.started.Load() {
		wctx := wb.ctx(ctx)
		if err := b.ensureStarted(wctx); err != nil {
			if ctx.Err() == nil && wctx.Err() != nil {
				return nil, b.waitError(ctx)
			}
			return nil, err
		}
	}
	for {
		b.mu.Lock()
		switch {
		case b.stopped:
			b.mu.Unlock()
			return nil, ErrConsumerStopped
		case b.fatal != nil:
			err := b.fatal
			b.mu.Unlock()
			return nil, err
		}
		inners, gen := b.innerList, b.innerGen
		if b.paused || len(inners) == 0 {
			// Cleared under mu, and set under mu by whoever changes these,
			// so no wake-up is lost.
			b.changed.Clear()
			b.mu.Unlock()
			if err := b.changed.Wait(wb.ctx(ctx)); err != nil {
				return nil, b.waitError(ctx)
			}
			continue
		}
		// A message already fetched is taken without a cancellable call:
		// per message, that context and its bookkeeping cost more than the
		// rest of the path. Counting the call in active is what keeps a
		// rebalance from starting under it.
		b.active++
		b.mu.Unlock()
		e, ok, _ := b.pollInners(inners)
		b.mu.Lock()
		b.leaveLocked()
		if ok {
			b.mu.Unlock()
			return e.msg, e.err
		}
		if b.paused || b.innerGen != gen || b.stopped {
			b.mu.Unlock()
			continue
		}
		wctx := wb.ctx(ctx)
		callCtx, cancel := context.WithCancel(wctx)
		id := b.nextCall
		b.nextCall++
		b.calls[id] = cancel
		b.active++
		b.mu.Unlock()

		msg, err := b.consumeInners(callCtx, inners)

		b.mu.Lock()
		delete(b.calls, id)
		b.leaveLocked()
		b.mu.Unlock()
		cancel()
		switch {
		case err == nil:
			return msg, nil
		case ctx.Err() != nil || wctx.Err() != nil:
			return nil, b.waitError(ctx)
		case errors.Is(err, context.Canceled), errors.Is(err, ErrConsumerStopped):
			continue // a rebalance interrupted the wait, or replaced the consumer
		}
		return nil, err
	}
}

// pollInners takes a message (or partition error) one of inners has ready,
// the inners taking turns, without waiting. err is an inner's
// ErrConsumerStopped or fatal error when no inner had anything.
func (b *BalancedConsumer) pollInners(inners []*SimpleConsumer) (e entry, ok bool, err error) {
	n := len(inners)
	first := 0
	if n > 1 {
		first = int(b.turn.Load()) % n
	}
	for i := range n {
		c := inners[(first+i)%n]
		if !c.started.Load() {
			continue
		}
		var cerr error
		e, ok, cerr = c.take(false)
		if ok {
			if n > 1 {
				b.turn.Store(uint32((first + i + 1) % n))
			}
			return e, true, nil
		}
		if err == nil {
			err = cerr
		}
	}
	return entry{}, false, err
}

// consumeInners waits for a message of inners until ctx ends. The inners
// share b.avail: it is cleared before they are all asked, so a message
// queued by any of them after that sets it again and no wake-up is lost.
func (b *BalancedConsumer) consumeInners(ctx context.Context, inners []*SimpleConsumer) (*Message, error) {
	for _, c := range inners {
		if !c.started.Load() {
			// Its start failed under the rebalance; retried here, and what
			// keeps failing is reported.
			if err := c.Start(ctx); err != nil {
				return nil, err
			}
		}
	}
	for {
		b.avail.Clear()
		e, ok, err := b.pollInners(inners)
		if ok {
			return e.msg, e.err
		}
		if err != nil {
			return nil, err
		}
		if err := b.avail.Wait(ctx); err != nil {
			return nil, err
		}
	}
}

// leaveLocked ends a Consume call's stay inside inner, waking a rebalance
// that waits for the last one. b.mu is held.
func (b *BalancedConsumer) leaveLocked() {
	b.active--
	if b.active == 0 && b.paused {
		b.idle.Set()
	}
}

// waitError is what Consume returns when its wait ended: ctx's error, or
// the consumer timeout.
func (b *BalancedConsumer) waitError(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return &ConsumerTimeoutError{After: b.cfg.ConsumerTimeout}
}

// Messages returns an iterator over the consumer's messages, for use with
// range, as SimpleConsumer.Messages: when ctx ends it yields (nil,
// ctx.Err()) and ends; it ends without yielding an error when the consumer
// times out and when it is stopped; a *PartitionError is yielded and the
// iteration goes on; any other error is yielded and ends it.
func (b *BalancedConsumer) Messages(ctx context.Context) iter.Seq2[*Message, error] {
	return messages(ctx, b.Consume)
}

// CommitOffsets commits the positions of the partitions the consumer owns
// (see SimpleConsumer.CommitOffsets), of every topic, with the group
// generation and member id in a managed group, so a commit from a member
// that lost its partitions in a rebalance is refused. It returns nil when
// the consumer owns nothing.
func (b *BalancedConsumer) CommitOffsets(ctx context.Context) error {
	var errs []error
	for _, inner := range b.currentInners() {
		errs = append(errs, inner.CommitOffsets(ctx))
	}
	return errors.Join(errs...)
}

// currentInners returns the consumers of the partitions owned now.
func (b *BalancedConsumer) currentInners() []*SimpleConsumer {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.innerList
}

// singleInner returns the consumer of the one topic, nil when the
// consumer owns nothing of it or has several topics.
func (b *BalancedConsumer) singleInner() *SimpleConsumer {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.inners[b.single]
}

// HeldOffsets returns, for each partition the consumer owns and has
// started, the offset of the message it delivered last (-1 before the
// first); see SimpleConsumer.HeldOffsets. It serves a consumer of one
// topic; with several, see HeldTopicOffsets.
func (b *BalancedConsumer) HeldOffsets() map[int32]int64 {
	if inner := b.singleInner(); inner != nil {
		return inner.HeldOffsets()
	}
	return map[int32]int64{}
}

// NextOffsets returns, for each partition the consumer owns and has
// started, the offset of the next message it will deliver, which is what
// CommitOffsets stores; see SimpleConsumer.NextOffsets. It serves a
// consumer of one topic; with several, see NextTopicOffsets.
func (b *BalancedConsumer) NextOffsets() map[int32]int64 {
	if inner := b.singleInner(); inner != nil {
		return inner.NextOffsets()
	}
	return map[int32]int64{}
}

// HeldTopicOffsets is HeldOffsets by topic: topic → partition → the
// offset of the message delivered last.
func (b *BalancedConsumer) HeldTopicOffsets() map[string]map[int32]int64 {
	out := map[string]map[int32]int64{}
	for _, inner := range b.currentInners() {
		out[inner.topic.name] = inner.HeldOffsets()
	}
	return out
}

// NextTopicOffsets is NextOffsets by topic: topic → partition → the
// offset of the next message, the form Producer.SendOffsetsToTransaction
// takes.
func (b *BalancedConsumer) NextTopicOffsets() map[string]map[int32]int64 {
	out := map[string]map[int32]int64{}
	for _, inner := range b.currentInners() {
		out[inner.topic.name] = inner.NextOffsets()
	}
	return out
}

// Stop stops the consumer: Consume fails with ErrConsumerStopped, the
// rebalancing tasks end, BeforeRevokeCallback runs over the partitions
// owned, the underlying SimpleConsumer stops (committing with AutoCommit),
// and the consumer leaves the group: LeaveGroup for a
// dynamic managed member (a heartbeat with epoch -1 in a consumer-protocol
// group, -2 for a static member there), for a ZooKeeper one closing its own session or,
// on a session given in the config, deleting its nodes. It waits, within
// ctx, for all of it. Later calls return the first call's result.
func (b *BalancedConsumer) Stop(ctx context.Context) error {
	return b.runStop(ctx, func(ctx context.Context) error {
		b.mu.Lock()
		b.stopped = true
		for _, cancel := range b.calls {
			cancel()
		}
		b.mu.Unlock()
		b.changed.Set()
		b.ready.Set()
		b.cancel()
		var errs []error
		if err := b.tasks.Wait(ctx); err != nil {
			errs = append(errs, err)
		}
		inners := b.currentInners()
		if b.takeLost() {
			b.dropLost(ctx)
			inners = nil
		}
		if len(inners) > 0 {
			b.beforeRevoke(ctx, nil)
			for _, inner := range inners {
				if err := inner.Stop(ctx); err != nil {
					errs = append(errs, err)
				}
			}
		}
		if b.started.Load() {
			if err := b.member.close(ctx); err != nil {
				errs = append(errs, err)
			}
		}
		err := errors.Join(errs...)
		b.log.Debug("kafka: balanced consumer stopped", "error", err)
		return err
	})
}

var _ Consumer = (*BalancedConsumer)(nil)
