package kafka

import (
	"slices"
	"time"
)

// route attaches pb to the sink of its partition's current leader, or
// marks it orphaned while there is none. Called with p.mu held.
func (p *Producer) route(pb *partBuf) {
	leader := pb.part.Leader()
	if s := pb.sink; s != nil {
		if s.b == leader {
			return
		}
		s.parts = slices.DeleteFunc(s.parts, func(x *partBuf) bool { return x == pb })
		pb.sink = nil
	}
	if leader == nil {
		pb.orphan = true
		p.scheduleOrphanRound()
		return
	}
	pb.orphan = false
	s := p.sinks[leader]
	if s == nil {
		s = newSink(p, leader)
		p.sinks[leader] = s
	}
	s.parts = append(s.parts, pb)
	pb.sink = s
}

// scheduleOrphanRound arranges a metadata round for leaderless partitions
// after the retry backoff. Called with p.mu held.
func (p *Producer) scheduleOrphanRound() {
	if !p.orphanAt.IsZero() {
		return
	}
	p.orphanAt = p.h.Now().Add(p.cfg.RetryBackoff)
	p.armTimer(p.orphanAt)
}

// requestRefresh refreshes metadata in a task of its own, then re-routes
// every partition. Requests made while one runs are served by one more
// refresh after it. Called with p.mu held.
func (p *Producer) requestRefresh(cause error, orphanRound bool) {
	p.orphanRound = p.orphanRound || orphanRound
	p.refreshCause = cause
	if p.refreshing {
		return
	}
	p.refreshing = true
	p.h.Go("kafka-producer-metadata", p.refreshLoop)
}

func (p *Producer) refreshLoop() {
	p.mu.Lock()
	for {
		p.metaStarted++
		gen, cause := p.metaStarted, p.refreshCause
		orphanRound := p.orphanRound
		p.orphanRound = false
		p.mu.Unlock()

		if _, err := p.cl.refreshIfStale(p.ctx, cause); err != nil {
			p.log.Debug("kafka: producer metadata refresh failed", "error", err)
		}

		p.mu.Lock()
		again := p.orphanRound
		var done []*partBuf
		for _, pb := range p.parts {
			if pb == nil {
				continue
			}
			if pb.waitMeta && pb.waitGen <= gen {
				pb.waitMeta = false
			}
			again = again || pb.waitMeta
			if p.started {
				p.route(pb)
			}
			if orphanRound && pb.orphan && p.orphanTry(pb) {
				done = append(done, pb)
			}
		}
		p.maybeBump()
		p.kickAll()
		if !again {
			p.refreshing = false
			p.mu.Unlock()
			p.report(done)
			return
		}
		p.mu.Unlock()
		p.report(done)
		p.mu.Lock()
	}
}

// orphanTry counts a metadata round without a leader as a try of pb's
// queued records and waiting batches, and settles those out of tries,
// reporting whether it did. Called with p.mu held.
func (p *Producer) orphanTry(pb *partBuf) bool {
	settled := false
	for _, b := range pb.batches {
		if b.state != batchPending {
			continue
		}
		if b.attempts++; int(b.attempts) > p.cfg.MaxRetries {
			if p.failUnlessWritten(pb, b, ErrNoLeader) {
				p.bumpEpoch(pb, ErrNoLeader)
			}
			settled = true
		}
	}
	n := 0
	queued := pb.queue.records()
	for i := range queued {
		queued[i].attempts++
		if int(queued[i].attempts) > p.cfg.MaxRetries {
			n = i + 1
		}
	}
	if n > 0 {
		bytes := 0
		for i := range queued[:n] {
			bytes += int(queued[i].size)
		}
		b := &batch{pb: pb, pid: -1, state: batchDone, claimed: true, base: -1, err: p.partitionErr(pb, ErrNoLeader)}
		b.recs, b.arr = pb.queue.take(n, bytes)
		pb.batches = append(pb.batches, b)
		settled = true
	}
	if pb.queue.len() > 0 || len(pb.batches) > 0 {
		p.scheduleOrphanRound()
	}
	return settled
}

// armTimer makes the producer's timer fire by at. Called with p.mu held.
func (p *Producer) armTimer(at time.Time) {
	if p.timerArmed && !at.Before(p.timerAt) {
		return
	}
	d := at.Sub(p.h.Now())
	if p.timer == nil {
		p.timer = p.h.AfterFunc(d, p.onTimer)
	} else {
		p.timer.Reset(d)
	}
	p.timerArmed, p.timerAt = true, at
}

// onTimer serves every deadline due: linger and retry backoff (by kicking
// the sinks, which re-arm the timer for later deadlines) and orphan
// rounds.
func (p *Producer) onTimer() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.timerArmed = false
	if !p.orphanAt.IsZero() {
		if p.h.Now().Before(p.orphanAt) {
			p.armTimer(p.orphanAt)
		} else {
			p.orphanAt = time.Time{}
			p.requestRefresh(ErrNoLeader, true)
		}
	}
	p.kickAll()
}
