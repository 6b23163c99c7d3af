package kafka

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gregorkafka/gregor/handler"
)

// Producer sends messages to one topic asynchronously, as pykafka's
// Producer does: Produce queues a message and returns; the producer
// batches queued messages per partition and sends each broker's batches
// in one request, retries what failed, and reports every message's
// outcome exactly once, through Reports (ProducerConfig.DeliveryReports),
// to the caller of a synchronous Produce, or, failures only, to the
// client's log. ProducerConfig explains when messages are sent and what
// order they keep.
//
// When a partition's leader moves or its connection breaks, the producer
// refreshes metadata and sends the partition's queued and failed messages
// to the new leader.
//
// Make one with Topic.Producer; it is safe for concurrent use. Close it to
// deliver what it holds.
type Producer struct {
	t   *Topic
	cl  *Cluster
	h   handler.Handler
	log *slog.Logger
	cfg ProducerConfig

	acks         int16
	ackTimeoutMs int32
	// maxRecord is the largest record size bound a batch can carry.
	maxRecord int
	// reqBudget is MaxRequestSize less the request's fixed overhead: what
	// the partitions' batches may fill.
	reqBudget int
	// batchBudget is MaxBatchSize less the same overhead: what one
	// partition's batch may fill, so that a batch alone in its request
	// holds what a request of MaxBatchSize bytes would.
	batchBudget int

	reports chan DeliveryReport
	// gaveUp is closed when Stop's context ends: from then on a report
	// that finds Reports full is dropped rather than waited for.
	gaveUp  chan struct{}
	dropped atomic.Int64 // reports dropped after gaveUp

	// ctx ends when Stop gives up, cutting short dials and waits.
	ctx    context.Context
	cancel context.CancelFunc

	// mu guards everything below and the state of every partBuf and sink.
	// It is held only for bookkeeping, never across I/O or a wait.
	mu       sync.Mutex
	parts    []*partBuf // by partition id
	sinks    map[*Broker]*sink
	buffered int // messages accepted and not yet reported
	// batchCap, once a broker has refused a batch as too large, is the
	// most bytes of records a batch may hold from then on (0: none). It
	// stays: the topic's limit does not move between batches, and
	// relearning it would cost a refused request every time.
	batchCap int
	flushing int // Flush and Close calls under way: send without waiting
	started  bool
	closing  bool

	spaceWaiter  handler.Event   // set when the queue has room again
	idleWaiters  []handler.Event // set when buffered drops to 0
	refreshing   bool
	refreshCause error
	metaStarted  uint64 // metadata refreshes started, for partBuf.waitGen
	orphanRound  bool   // the next refresh is a round for leaderless partitions

	timer      handler.Timer
	timerArmed bool
	timerAt    time.Time
	orphanAt   time.Time // next metadata round for leaderless partitions

	closeDone handler.Event
	closeErr  error

	// Idempotence (producer_idempotence.go). idem is cleared when
	// IdempotenceAuto finds the cluster without support.
	idem            bool
	maxInFlight     int // batches in flight per partition
	pid             producerID
	pidState        pidState
	pidErr          error // why pidState is pidFailed
	bumpWanted      bool  // a partition's sequence broke: bump the epoch once nothing is in flight
	inflightBatches int   // batches in flight, all partitions

	txn *txnState // nil unless ProducerConfig.TransactionalID is set
}

// Producer returns a producer for the topic, started unless
// cfg.ManualStart is set. An invalid cfg gives a *ConfigError.
func (t *Topic) Producer(cfg ProducerConfig) (*Producer, error) {
	return t.producer(cfg, nil)
}

// producer makes the topic's producer; a transactional one joins sess, or
// a session of its own when sess is nil.
func (t *Topic) producer(cfg ProducerConfig, sess *txnSession) (*Producer, error) {
	cl := t.cl
	if cl.closed.Load() {
		return nil, ErrClosed
	}
	cfg, err := cfg.withDefaults(&cl.cfg)
	if err != nil {
		return nil, err
	}
	p := &Producer{
		t:            t,
		cl:           cl,
		h:            cl.h,
		log:          cl.log.With("topic", t.name),
		cfg:          cfg,
		acks:         cfg.RequiredAcks.wire(),
		ackTimeoutMs: int32(cfg.AckTimeout / time.Millisecond),
		sinks:        map[*Broker]*sink{},
		closeDone:    cl.h.NewEvent(),
		idem:         cfg.Idempotence != IdempotenceOff,
		maxInFlight:  1,
		pid:          producerID{id: -1, epoch: -1},
	}
	if p.idem {
		p.maxInFlight = MaxInFlightPerPartition
	}
	if cfg.TransactionalID != "" {
		p.txn = &txnState{id: cfg.TransactionalID, s: sess}
		if sess == nil {
			p.txn.own = true
			p.txn.s = newTxnSession(cfg.TransactionalID, cfg.TransactionTimeout, cfg.RetryBackoff, cl, cl.h, p.log)
		}
		p.mu.Lock()
		err := p.txn.s.join(p)
		p.mu.Unlock()
		if err != nil {
			return nil, err
		}
	}
	overhead := requestOverhead(t.name, cl.cfg.ClientID)
	p.reqBudget = cfg.MaxRequestSize - overhead
	p.batchBudget = cfg.MaxBatchSize - overhead
	p.maxRecord = p.batchBudget - partitionOverhead
	p.reports = make(chan DeliveryReport, reportsBuffer(cfg))
	p.gaveUp = make(chan struct{})
	p.ctx, p.cancel = context.WithCancel(context.Background())
	if !cfg.ManualStart {
		_ = p.Start()
	}
	return p, nil
}

// reportsBuffer sizes the reports channel: enough that the producer rarely
// waits for a reader, without preallocating MaxQueuedMessages reports.
func reportsBuffer(cfg ProducerConfig) int {
	if !cfg.DeliveryReports {
		return 0
	}
	return min(cfg.MaxQueuedMessages, 4096)
}

// Topic returns the producer's topic.
func (p *Producer) Topic() *Topic { return p.t }

// Start lets a producer made with ProducerConfig.ManualStart send the
// messages it holds and those produced later. It does nothing on a
// started producer and fails with ErrProducerClosed after Close.
func (p *Producer) Start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closing {
		return ErrProducerClosed
	}
	p.startLocked()
	return nil
}

func (p *Producer) startLocked() {
	if p.started {
		return
	}
	p.started = true
	for _, pb := range p.parts {
		if pb != nil && pb.queue.len() > 0 {
			p.route(pb)
		}
	}
	p.kickAll()
}

// Produce queues msg for sending (or, with ProducerConfig.Sync, sends it
// and waits for the outcome, which it returns).
//
// An error means the message was not accepted and will not be reported:
// ErrProducerClosed, ErrClosed (the client), ErrQueueFull, an error
// matching ErrMessageTooLarge for a message above MaxBatchSize, the
// partitioner's error (ErrNilKey, ErrInvalidPartition), a *TopicError
// when the topic has no partitions, or ctx.Err() while Produce waits for
// room in a full queue. A message accepted is reported exactly once (see
// Producer); the context only bounds that wait, not the delivery.
func (p *Producer) Produce(ctx context.Context, msg Message) error {
	if p.cfg.Sync {
		_, err := p.produceWait(ctx, msg)
		return err
	}
	return p.enqueue(ctx, &msg, nil)
}

// Reports returns the channel of delivery reports. It carries one report
// per message when ProducerConfig.DeliveryReports is set, none otherwise,
// and is closed once Close has delivered everything. Reports for one
// partition arrive in the order the messages were produced.
//
// Receive from it in a goroutine of its own: a report waits for room in
// the channel, the message's queue slot is freed only once its report is
// taken, and Flush and Close wait for every report to be taken. Only a
// Stop whose context ended stops waiting: see Stop.
func (p *Producer) Reports() <-chan DeliveryReport { return p.reports }

// enqueue validates msg, picks its partition and queues it. w, when set,
// receives the outcome instead of the reports channel.
func (p *Producer) enqueue(ctx context.Context, msg *Message, w *syncWait) error {
	if p.cl.closed.Load() {
		return ErrClosed
	}
	size := recordSizeBound(msg)
	if size > p.maxRecord {
		return fmt.Errorf("kafka: message of about %d bytes, above ProducerConfig.MaxBatchSize (%d) less overhead: %w",
			size, p.cfg.MaxBatchSize, ErrMessageTooLarge)
	}
	parts := p.t.state.Load().partitions
	if len(parts) == 0 {
		return &TopicError{Topic: p.t.name, Err: ErrUnknownTopic}
	}
	id, err := p.partition(msg, len(parts))
	if err != nil {
		return err
	}
	if id < 0 || int(id) >= len(parts) {
		return fmt.Errorf("kafka: partition %d of %d: %w", id, len(parts), ErrInvalidPartition)
	}
	part := parts[id]
	// A zero Timestamp is filled in when the message's batch is cut (see
	// stampBatch): one clock read per batch, not one per message.
	msg.Topic, msg.Partition, msg.Offset = p.t.name, part.id, -1

	p.mu.Lock()
	for {
		if p.closing {
			p.mu.Unlock()
			return ErrProducerClosed
		}
		if p.pidState == pidFailed {
			p.mu.Unlock()
			return p.pidErr
		}
		if p.txn != nil {
			if err := p.txnProduceErr(); err != nil {
				p.mu.Unlock()
				return err
			}
		}
		if p.buffered < p.cfg.MaxQueuedMessages {
			break
		}
		if p.cfg.ErrorOnQueueFull {
			p.mu.Unlock()
			return ErrQueueFull
		}
		ev := p.spaceWaiter
		if ev == nil {
			ev = p.h.NewEvent()
			p.spaceWaiter = ev
		}
		p.mu.Unlock()
		if err := ev.Wait(ctx); err != nil {
			return err
		}
		p.mu.Lock()
	}
	pb := p.partBuf(part)
	if pb.queue.len() == 0 && p.cfg.Linger > 0 {
		pb.firstAt = p.h.Now()
	}
	// The queue can hold at most what it holds now and the room left under
	// MaxQueuedMessages: sizing its array by that rather than by the whole
	// limit keeps six partitions sharing a backlog from each growing to
	// four times their share (memory the kernel zeroes and the collector
	// scans).
	pb.queue.push(record{msg: *msg, size: int32(size), wait: w}, pb.queue.len()+p.cfg.MaxQueuedMessages-p.buffered)
	p.buffered++
	if p.started {
		p.schedule(pb)
	}
	p.mu.Unlock()
	return nil
}

// partition asks the partitioner for msg's partition.
func (p *Producer) partition(msg *Message, n int) (int32, error) {
	if bp, ok := p.cfg.Partitioner.(builtinPartitioner); ok {
		return bp.pick(msg.Key, msg.Partition, n)
	}
	m := *msg // a user's partitioner may keep it: only this copy escapes
	return p.cfg.Partitioner.Partition(&m, n)
}

// partBuf returns the buffer of part, creating it.
func (p *Producer) partBuf(part *Partition) *partBuf {
	id := int(part.id)
	if id >= len(p.parts) {
		p.parts = append(p.parts, make([]*partBuf, id+1-len(p.parts))...)
	}
	pb := p.parts[id]
	if pb == nil {
		pb = &partBuf{id: part.id, part: part, pid: producerID{id: -1, epoch: -1}}
		p.parts[id] = pb
	}
	return pb
}

// Flush sends every message held without waiting (for Linger or
// MinQueuedMessages) and returns once every message is reported, or with
// ctx.Err(). Messages produced during Flush are waited for too. A
// producer made with ManualStart sends nothing before Start, so Flush
// waits for that.
func (p *Producer) Flush(ctx context.Context) error {
	p.mu.Lock()
	if p.buffered == 0 {
		p.mu.Unlock()
		return nil
	}
	p.flushing++
	ev := p.idleEvent()
	p.kickAll()
	p.mu.Unlock()
	err := ev.Wait(ctx)
	p.mu.Lock()
	p.flushing--
	p.mu.Unlock()
	return err
}

// idleEvent returns an event set when no message is held. Called with
// p.mu held and p.buffered > 0.
func (p *Producer) idleEvent() handler.Event {
	ev := p.h.NewEvent()
	p.idleWaiters = append(p.idleWaiters, ev)
	return ev
}

// Close is Stop without a deadline: it returns once every message held is
// reported. The retry budget bounds that: a partition whose batch runs out
// of retries fails every message queued behind it too, so against a dead
// cluster Close takes about one retry budget (some 12 seconds with the
// defaults; see ProducerConfig.MaxRetries) however many messages it holds.
// With DeliveryReports, Close also waits for Reports to be drained; use
// Stop with a deadline when nothing may read it.
func (p *Producer) Close() error { return p.Stop(context.Background()) }

// Stop stops accepting messages, sends those held at once (starting a
// producer that was not started) and waits until each is reported. If ctx
// ends first, the messages still held are reported with ErrProducerClosed
// (those in flight may still be written by a broker) and Stop returns
// ctx.Err() without waiting any longer, even for a Reports channel nobody
// reads: from then on a report that finds the channel full is dropped
// (and the number dropped logged), while reports already in the channel
// stay there to be received. The Reports channel is closed when Stop
// returns. Later calls wait for the first to finish and return its result.
func (p *Producer) Stop(ctx context.Context) error {
	p.abortOpenTransaction(ctx)
	p.mu.Lock()
	if p.closing {
		p.mu.Unlock()
		_ = p.closeDone.Wait(context.Background())
		return p.closeErr
	}
	p.closing = true
	p.flushing++
	p.startLocked()
	p.kickAll()
	var idle handler.Event
	if p.buffered > 0 {
		idle = p.idleEvent()
	}
	p.mu.Unlock()

	var err error
	if idle != nil {
		if err = idle.Wait(ctx); err != nil {
			close(p.gaveUp)
			p.abort()
			// Reports claimed before the abort are on their way.
			_ = p.waitIdle()
		}
	}
	p.cancel()
	p.mu.Lock()
	if p.timer != nil {
		p.timer.Stop()
		p.timerArmed = false
	}
	p.mu.Unlock()
	// Nothing sends reports once nothing is held, so closing is safe.
	close(p.reports)
	if n := p.dropped.Load(); n > 0 {
		p.log.Warn("kafka: delivery reports dropped: Reports was full when Stop gave up", "reports", n, "error", err)
	}
	p.closeErr = err
	p.closeDone.Set()
	return err
}

// waitIdle waits until no message is held.
func (p *Producer) waitIdle() error {
	p.mu.Lock()
	if p.buffered == 0 {
		p.mu.Unlock()
		return nil
	}
	ev := p.idleEvent()
	p.mu.Unlock()
	return ev.Wait(context.Background())
}

// abort reports every message held, queued or in flight, with
// ErrProducerClosed. Responses that arrive later are ignored.
func (p *Producer) abort() { p.reportHeld(ErrProducerClosed) }
