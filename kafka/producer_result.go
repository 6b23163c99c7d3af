package kafka

import (
	"context"
	"errors"
	"time"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/protocol"
)

// errMissingPartition is a Produce response without an answer for a
// partition that was in the request. Retried: a broker might answer the
// next request properly.
var errMissingPartition = errors.New("kafka: produce response lacks a partition of the request")

// outcome is the fate of some records of one partition, decided under
// p.mu and delivered after it is released.
type outcome struct {
	pb   *partBuf
	recs []record
	base int64 // offset of recs[0]; -1 when unknown
	err  error
	// release is the in-flight batch the records came from: the partition
	// may send again once they are reported, which keeps its reports in
	// order.
	release *batch
}

// finish handles the end of a request s sent (or failed to send) for
// batches: acknowledged records are reported, failed ones retried or
// reported, and the partitions may send again.
func (p *Producer) finish(s *sink, batches []*batch, resp *protocol.ProduceResponse, err error) {
	var done []outcome
	var refresh error
	p.mu.Lock()
	s.inflight--
	for i, b := range batches {
		pb := b.pb
		if b.claimed { // Stop gave up on it and reported it
			if pb.inflight == b {
				pb.inflight = nil
			}
			continue
		}
		berr, base := err, int64(-1)
		if berr == nil && resp != nil {
			base, berr = partitionResult(resp, p.t.name, pb.id, i)
		}
		switch {
		case berr == nil:
			b.claimed = true
			done = append(done, outcome{pb: pb, recs: b.recs, base: base, release: b})
		case tooLarge(berr) && len(b.recs) > 1:
			// The broker's limit is below ours: halve the batch and try
			// again, without counting it as a retry.
			p.requeue(pb, b.recs)
			p.recycle(pb, b)
			pb.maxRecs = len(b.recs) / 2
			pb.inflight = nil
		case retriable(berr):
			if stale := isStaleMetadata(berr); stale {
				refresh = berr
				pb.waitMeta = true
				pb.waitGen = p.metaStarted + 1
			}
			failed := p.retry(pb, b, berr)
			if failed != nil {
				done = append(done, *failed)
			} else {
				p.recycle(pb, b)
				pb.inflight = nil
			}
		default:
			b.claimed = true
			done = append(done, outcome{pb: pb, recs: b.recs, base: -1, err: p.partitionErr(pb, berr), release: b})
		}
	}
	if refresh != nil {
		p.requestRefresh(refresh, false)
	}
	p.kick(s)
	p.mu.Unlock()
	p.complete(done)
}

// retry counts a failed try of b's records and queues them again, or,
// once the batch's first record is out of tries, returns as an outcome to
// report the whole batch and every record queued behind it: those would
// meet the same fault, and giving each batch a retry budget of its own
// would make a dead cluster cost one budget per batch. Called with p.mu
// held.
func (p *Producer) retry(pb *partBuf, b *batch, err error) *outcome {
	// Records retried before lead the batch: the first has the most tries.
	for i := range b.recs {
		b.recs[i].attempts++
	}
	if int(b.recs[0].attempts) <= p.cfg.MaxRetries {
		p.requeue(pb, b.recs)
		pb.retryAt = p.h.Now().Add(p.backoff(int(b.recs[0].attempts)))
		return nil
	}
	b.claimed = true
	failed := b.recs
	if pb.queue.len() > 0 {
		failed = append(failed[:len(failed):len(failed)], pb.queue.takeAll()...)
	}
	p.log.Debug("kafka: produce retries exhausted", "partition", pb.id, "messages", len(failed), "error", err)
	return &outcome{pb: pb, recs: failed, base: -1, err: p.partitionErr(pb, err), release: b}
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
	done := make([]outcome, 0, len(failed))
	p.mu.Lock()
	for _, f := range failed {
		b := f.b
		if b.claimed { // Stop gave up on it and reported it
			if b.pb.inflight == b {
				b.pb.inflight = nil
			}
			continue
		}
		b.claimed = true
		done = append(done, outcome{pb: b.pb, recs: b.recs, base: -1, err: p.partitionErr(b.pb, f.err), release: b})
	}
	p.mu.Unlock()
	p.complete(done)
}

// complete reports done and then settles the bookkeeping.
func (p *Producer) complete(done []outcome) {
	if len(done) == 0 {
		return
	}
	p.deliver(done)
	p.mu.Lock()
	p.settle(done)
	p.mu.Unlock()
}

// deliver hands each record's outcome to its sync waiter or the reports
// channel. It runs without p.mu: a full channel makes it wait.
func (p *Producer) deliver(done []outcome) {
	for _, o := range done {
		waiters := false
		for i := range o.recs {
			r := &o.recs[i]
			m := r.msg
			if o.err == nil && o.base >= 0 {
				m.Offset = o.base + int64(i)
			}
			switch {
			case r.wait != nil:
				waiters = true
				r.wait.complete(m, o.err)
			case p.cfg.DeliveryReports:
				p.report(DeliveryReport{Message: m, Err: o.err})
			}
		}
		if o.err != nil && !waiters && !p.cfg.DeliveryReports {
			p.log.Warn("kafka: messages not delivered", "partition", o.pb.id, "messages", len(o.recs), "error", o.err)
		}
	}
}

// report sends r to the reports channel, waiting for room until Stop
// gives up.
func (p *Producer) report(r DeliveryReport) {
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

// settle forgets reported records: frees their queue slots, lets their
// partitions send again and wakes Produce and Flush callers waiting for
// that. Called with p.mu held.
func (p *Producer) settle(done []outcome) {
	for _, o := range done {
		p.buffered -= len(o.recs)
		if b := o.release; b != nil && o.pb.inflight == b {
			o.pb.inflight = nil
			p.recycle(o.pb, b)
			if o.err == nil {
				o.pb.maxRecs = 0
			}
			if s := o.pb.sink; s != nil {
				p.kick(s)
			}
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
