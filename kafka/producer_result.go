package kafka

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/protocol"
)

// errMissingPartition is a Produce response without an answer for a
// partition that was in the request. Retried: a broker might answer the
// next request properly.
var errMissingPartition = errors.New("kafka: produce response lacks a partition of the request")

// outcome is the fate of one settled batch's records, taken from the head
// of its partition's batches under p.mu and delivered after it is
// released.
type outcome struct {
	pb   *partBuf
	b    *batch
	recs []record
	base int64 // offset of recs[0]; -1 when unknown
	err  error
}

// finish handles the end of a request s sent (or failed to send) for
// batches: acknowledged records are reported, failed ones retried or
// reported, and the partitions may send again.
func (p *Producer) finish(s *sink, batches []*batch, resp *protocol.ProduceResponse, err error) {
	var refresh error
	touched := make([]*partBuf, 0, len(batches))
	p.mu.Lock()
	s.inflight--
	for i, b := range batches {
		pb := b.pb
		pb.inflight--
		p.inflightBatches--
		if b.claimed { // Stop gave up on it and reported it
			continue
		}
		touched = append(touched, pb)
		berr, base := err, int64(-1)
		if berr == nil && resp != nil {
			base, berr = partitionResult(resp, p.t.name, pb.id, i)
		}
		switch {
		case berr == nil, p.idem && errors.Is(berr, protocol.ErrDuplicateSequenceNumber):
			// A duplicate was written before, by a try whose answer was
			// lost.
			p.settleBatch(b, base, nil)
			if p.idem {
				p.acknowledged(pb, b)
			}
		case tooLarge(berr) && len(b.recs) > 1:
			// The broker's limit is below ours: halve the batch and try
			// again, without counting it as a retry; later batches are
			// cut to that half's size from the start.
			p.lowerBatchCap(b.bytes / 2)
			if p.idem {
				// Nothing of it was written: its halves take its
				// sequence numbers (splitPending), so the partition's
				// sequence goes on under the same epoch, and a
				// transaction stays whole.
				b.state, b.split = batchPending, true
				pb.resend, pb.forced = true, true
				break
			}
			p.dropBatch(pb, b)
			p.requeue(pb, b.recs)
			p.recycle(pb, b)
		case p.idem && (errors.Is(berr, protocol.ErrOutOfOrderSequenceNumber) || errors.Is(berr, protocol.ErrUnknownProducerID)):
			// The broker did not write it: fewer than five batches went
			// out behind it (idemNext), so a copy written before would
			// have been recognised. A batch behind one that failed gets
			// OUT_OF_ORDER_SEQUENCE and is resent after it. For the first
			// unacknowledged batch there is a real gap (or, for
			// UNKNOWN_PRODUCER_ID, the broker forgot the producer): a new
			// epoch restarts the partition's sequence.
			b.unsure = false
			if errors.Is(berr, protocol.ErrUnknownProducerID) || isSequenceHead(pb, b) {
				p.bumpEpoch(pb, berr)
				p.retryBatch(pb, b, berr)
				break
			}
			// Not a try of its own: the batch before it bounds the wait.
			b.attempts--
			p.retryBatch(pb, b, berr)
		case retriable(berr):
			if stale := isStaleMetadata(berr); stale {
				refresh = berr
				pb.waitMeta = true
				pb.waitGen = p.metaStarted + 1
			}
			if p.idem {
				b.unsure = b.unsure || mayBeWritten(berr)
				p.retryBatch(pb, b, berr)
			} else {
				p.retry(pb, b, berr)
			}
		case p.txn != nil && isFencing(berr):
			p.settleBatch(b, -1, p.fence(berr))
		default:
			p.settleBatch(b, -1, p.partitionErr(pb, berr))
			if p.idem {
				p.bumpEpoch(pb, berr)
			}
		}
	}
	if refresh != nil {
		p.requestRefresh(refresh, false)
	}
	p.maybeBump()
	p.kick(s)
	for _, pb := range touched {
		// A refresh may have moved the partition to another leader's sink
		// while its batches were in flight: that sink waits for them.
		if pb.sink != nil && pb.sink != s {
			p.kick(pb.sink)
		}
	}
	p.mu.Unlock()
	p.report(touched)
}

// acknowledged notes that the broker took b. Every batch before it under
// the same identity was written too, whatever its own tries said: a
// broker takes a sequence number only after its predecessor. One waiting
// to be sent again is resent to learn its offset (the broker answers it as
// a duplicate) and is not numbered afresh. Called with p.mu held.
func (p *Producer) acknowledged(pb *partBuf, b *batch) {
	if b.pid == pb.pid.id && b.epoch == pb.pid.epoch {
		pb.acked = true
	}
	for _, x := range pb.batches {
		if x == b {
			return
		}
		if x.state == batchPending && x.pid == b.pid && x.epoch == b.epoch {
			x.unsure = true
		}
	}
}

// ackedBehind reports whether a batch behind b, under b's identity, was
// acknowledged. Called with p.mu held.
func ackedBehind(pb *partBuf, b *batch) bool {
	behind := false
	for _, x := range pb.batches {
		switch {
		case x == b:
			behind = true
		case behind && x.state == batchDone && x.err == nil && x.pid == b.pid && x.epoch == b.epoch:
			return true
		}
	}
	return false
}

// maybeBump starts the epoch bump an idempotent producer waits for once
// nothing is in flight. Called with p.mu held.
func (p *Producer) maybeBump() {
	if p.bumpWanted && p.inflightBatches == 0 && p.pidState == pidReady {
		p.askProducerID()
	}
}

// settleBatch decides b's outcome. Called with p.mu held.
func (p *Producer) settleBatch(b *batch, base int64, err error) {
	b.state, b.claimed, b.base, b.err = batchDone, true, base, err
}

// failUnlessWritten settles an idempotent producer's batch b, out of
// tries, as failed with err and reports true, unless a batch acknowledged
// behind it under its identity shows it was written: then b is delivered,
// at an offset never learnt. Called with p.mu held.
func (p *Producer) failUnlessWritten(pb *partBuf, b *batch, err error) bool {
	if ackedBehind(pb, b) {
		p.settleBatch(b, -1, nil)
		return false
	}
	p.settleBatch(b, -1, p.partitionErr(pb, err))
	return true
}

// retryBatch counts a failed try of an idempotent producer's batch b and
// marks it to be sent again, with the same sequence number, or, out of
// tries, reports it failed (failUnlessWritten). Called with p.mu held.
func (p *Producer) retryBatch(pb *partBuf, b *batch, err error) {
	b.attempts++
	if int(b.attempts) > p.cfg.MaxRetries {
		if !p.failUnlessWritten(pb, b, err) {
			return
		}
		p.log.Debug("kafka: produce retries exhausted", "partition", pb.id, "messages", len(b.recs)+pb.queue.len(), "error", err)
		// What is queued behind it would meet the same fault: one retry
		// budget per fault, not per batch.
		p.failQueued(pb, p.partitionErr(pb, err))
		// The broker may or may not have the batch: the partition's
		// sequence continues only under a new epoch.
		p.bumpEpoch(pb, err)
		return
	}
	b.state = batchPending
	pb.resend, pb.forced = true, true
	at := p.h.Now().Add(p.backoff(int(b.attempts)))
	if at.After(pb.retryAt) {
		pb.retryAt = at
	}
}

// retry counts a failed try of b's records (a producer without
// idempotence) and queues them again, or, once the batch's first record is
// out of tries, reports the whole batch and every record queued behind it
// failed: those would meet the same fault, and a retry budget per batch
// would make a dead cluster cost one budget per batch. Called with p.mu
// held.
func (p *Producer) retry(pb *partBuf, b *batch, err error) {
	// Records retried before lead the batch: the first has the most tries.
	for i := range b.recs {
		b.recs[i].attempts++
	}
	if int(b.recs[0].attempts) <= p.cfg.MaxRetries {
		p.requeue(pb, b.recs)
		pb.retryAt = p.h.Now().Add(p.backoff(int(b.recs[0].attempts)))
		p.dropBatch(pb, b)
		p.recycle(pb, b)
		return
	}
	err = p.partitionErr(pb, err)
	p.log.Debug("kafka: produce retries exhausted", "partition", pb.id, "messages", len(b.recs)+pb.queue.len(), "error", err)
	p.settleBatch(b, -1, err)
	p.failQueued(pb, err)
}

// failQueued settles every record queued on pb, behind its batches, with
// err, as a batch that was never written (pid -1). Called with p.mu held.
func (p *Producer) failQueued(pb *partBuf, err error) {
	if pb.queue.len() > 0 {
		recs := pb.queue.takeAll()
		pb.batches = append(pb.batches, &batch{pb: pb, pid: -1, recs: recs, state: batchDone, claimed: true, base: -1, err: err})
	}
}

// dropBatch removes b, whose records went back to the queue, from pb's
// batches. Called with p.mu held.
func (p *Producer) dropBatch(pb *partBuf, b *batch) {
	pb.batches = slices.DeleteFunc(pb.batches, func(x *batch) bool { return x == b })
}

// requeue puts recs back at the head of pb's queue, to be sent next.
func (p *Producer) requeue(pb *partBuf, recs []record) {
	pb.queue.unshift(recs)
	pb.forced = true
}

// backoff is the wait before try n+1 (n >= 1): RetryBackoff doubled per
// earlier retry, capped.
func (p *Producer) backoff(n int) time.Duration {
	d := p.cfg.RetryBackoff
	limit := max(maxRetryBackoff, d)
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

// fail reports batches that could not be encoded.
func (p *Producer) fail(failed []failedBatch) {
	touched := make([]*partBuf, 0, len(failed))
	p.mu.Lock()
	for _, f := range failed {
		b := f.b
		b.pb.inflight--
		p.inflightBatches--
		if s := b.pb.sink; s != nil {
			p.kick(s)
		}
		if b.claimed { // Stop gave up on it and reported it
			continue
		}
		p.settleBatch(b, -1, p.partitionErr(b.pb, f.err))
		if p.idem {
			p.bumpEpoch(b.pb, f.err)
		}
		touched = append(touched, b.pb)
	}
	p.maybeBump()
	p.mu.Unlock()
	p.report(touched)
}

// report delivers the settled batches at the head of each partition's
// batches, in order. One task at a time reports a partition's batches
// (partBuf.delivering); batches settled meanwhile are reported by it.
func (p *Producer) report(pbs []*partBuf) {
	for i, pb := range pbs {
		if slices.Contains(pbs[:i], pb) {
			continue
		}
		for {
			p.mu.Lock()
			if pb.delivering {
				p.mu.Unlock()
				break
			}
			// Mostly one or two batches: room for them on the stack.
			var scratch [2]outcome
			done := p.takeSettled(pb, scratch[:0])
			if len(done) == 0 {
				p.mu.Unlock()
				break
			}
			pb.delivering = true
			p.mu.Unlock()
			p.deliver(done)
			p.mu.Lock()
			pb.delivering = false
			p.settle(done)
			p.mu.Unlock()
		}
	}
}

// takeSettled removes the settled batches at the head of pb's batches and
// appends their outcomes to done. Called with p.mu held.
func (p *Producer) takeSettled(pb *partBuf, done []outcome) []outcome {
	n := 0
	for n < len(pb.batches) && pb.batches[n].state == batchDone {
		b := pb.batches[n]
		done = append(done, outcome{pb: pb, b: b, recs: b.recs, base: b.base, err: b.err})
		n++
	}
	switch {
	case n == len(pb.batches):
		// All settled: keep the array for the next batch, which an idle
		// producer cuts for every message it sends alone.
		clear(pb.batches)
		pb.batches = pb.batches[:0]
	case n > 0:
		clear(pb.batches[:n])
		pb.batches = pb.batches[n:]
	}
	return done
}

// deliver hands each record's outcome to its sync waiter or the reports
// channel. It runs without p.mu: a full channel makes it wait.
func (p *Producer) deliver(done []outcome) {
	var now time.Time
	for _, o := range done {
		waiters := false
		for i := range o.recs {
			r := &o.recs[i]
			m := r.msg
			if m.Timestamp.IsZero() {
				// Never cut into a batch (it failed in the queue): the
				// report carries the time of its outcome.
				if now.IsZero() {
					now = p.h.Now()
				}
				m.Timestamp = now
			}
			if o.err == nil && o.base >= 0 {
				m.Offset = o.base + int64(i)
			}
			switch {
			case r.wait != nil:
				waiters = true
				r.wait.complete(m, o.err)
			case p.cfg.DeliveryReports:
				p.sendReport(DeliveryReport{Message: m, Err: o.err})
			}
		}
		if o.err != nil && !waiters && !p.cfg.DeliveryReports {
			p.log.Warn("kafka: messages not delivered", "partition", o.pb.id, "messages", len(o.recs), "error", o.err)
		}
	}
}

// sendReport sends r to the reports channel, waiting for room until Stop
// gives up.
func (p *Producer) sendReport(r DeliveryReport) {
	select {
	case p.reports <- r:
		return
	default:
	}
	select {
	case p.reports <- r:
	case <-p.gaveUp:
		p.dropped.Add(1)
	}
}

// settle forgets reported records: frees their queue slots and wakes
// Produce and Flush callers waiting for that. Called with p.mu held.
func (p *Producer) settle(done []outcome) {
	for _, o := range done {
		p.buffered -= len(o.recs)
		if b := o.b; b != nil {
			p.recycle(o.pb, b)
		}
		if s := o.pb.sink; s != nil {
			p.kick(s)
		}
	}
	if p.spaceWaiter != nil && p.buffered < p.cfg.MaxQueuedMessages {
		p.spaceWaiter.Set()
		p.spaceWaiter = nil
	}
	if p.buffered == 0 {
		for _, ev := range p.idleWaiters {
			ev.Set()
		}
		p.idleWaiters = nil
	}
}

// reportHeld reports every message held, queued or in flight, with err.
// Responses that arrive later are ignored.
func (p *Producer) reportHeld(err error) {
	var touched []*partBuf
	p.mu.Lock()
	for _, pb := range p.parts {
		if pb == nil {
			continue
		}
		for _, b := range pb.batches {
			if b.state != batchDone {
				p.settleBatch(b, -1, err)
			}
		}
		p.failQueued(pb, err)
		touched = append(touched, pb)
	}
	p.mu.Unlock()
	p.report(touched)
}

// recycle keeps the array of settled batch b for pb's queue: every
// record of it was reported or copied back to the queue. Called with p.mu
// held.
func (p *Producer) recycle(pb *partBuf, b *batch) {
	pb.queue.recycle(b.arr)
	b.arr = nil
}

// partitionErr wraps a delivery error with the partition it concerns.
func (p *Producer) partitionErr(pb *partBuf, err error) error {
	return &PartitionError{Topic: p.t.name, Partition: pb.id, Err: err}
}

// partitionResult finds partition id of topic in resp, looking first at
// position i (brokers answer in request order), and returns its error or
// base offset.
func partitionResult(resp *protocol.ProduceResponse, topic string, id int32, i int) (int64, error) {
	for ti := range resp.Responses {
		rt := &resp.Responses[ti]
		if rt.Name != topic {
			continue
		}
		prs := rt.PartitionResponses
		if i < len(prs) && prs[i].Index == id {
			return partitionResponseResult(&prs[i])
		}
		for j := range prs {
			if prs[j].Index == id {
				return partitionResponseResult(&prs[j])
			}
		}
	}
	return -1, errMissingPartition
}

func partitionResponseResult(pr *protocol.ProduceResponsePartition) (int64, error) {
	if err := brokerError(pr.ErrorCode, pr.ErrorMessage); err != nil {
		return -1, err
	}
	return pr.BaseOffset, nil
}

// lowerBatchCap caps the bytes of records of every batch cut from now on
// at n, if that is lower than the cap so far. Called with p.mu held.
func (p *Producer) lowerBatchCap(n int) {
	n = max(n, 1)
	if p.batchCap == 0 || n < p.batchCap {
		p.batchCap = n
		p.log.Debug("kafka: a broker refused a batch as too large; batches are kept smaller from now on",
			"topic", p.t.name, "max_batch_bytes", n)
	}
}

// tooLarge reports a broker refusing a batch for its size.
func tooLarge(err error) bool {
	return errors.Is(err, protocol.ErrMessageTooLarge) || errors.Is(err, protocol.ErrRecordListTooLarge)
}

// retriable reports whether sending the same records again may succeed.
func retriable(err error) bool {
	return protocol.IsRetriable(err) || isStaleMetadata(err) || errors.Is(err, errMissingPartition)
}

// syncWait receives the outcome of one synchronously produced message.
type syncWait struct {
	ev  handler.Event
	msg Message
	err error
}

func (w *syncWait) complete(m Message, err error) {
	w.msg, w.err = m, err
	w.ev.Set() // publishes msg and err to the waiter
}

// produceWait queues msg and waits for its outcome.
func (p *Producer) produceWait(ctx context.Context, msg Message) (Message, error) {
	w := &syncWait{ev: p.h.NewEvent()}
	if err := p.enqueue(ctx, &msg, w); err != nil {
		return msg, err
	}
	if err := w.ev.Wait(ctx); err != nil {
		return msg, err
	}
	return w.msg, w.err
}
