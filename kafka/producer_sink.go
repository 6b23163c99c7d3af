package kafka

import (
	"context"
	"fmt"
	"time"

	"github.com/gregorkafka/gregor/conn"
	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/protocol"
)

// record is one accepted message: queued in its partition's buffer, then
// in flight in a batch, until reported.
type record struct {
	msg      Message
	size     int32 // upper bound of its encoded size
	attempts int32 // sends that failed so far
	wait     *syncWait
}

// partBuf holds one partition's messages on their way. Its fields are
// guarded by Producer.mu.
type partBuf struct {
	id   int32
	part *Partition
	sink *sink // the leader's; nil while the partition has no leader

	queue   recQueue
	firstAt time.Time // when the oldest queued message arrived (Linger mode)

	// batches are those cut from the queue and not yet reported, oldest
	// first: in flight, waiting to be sent again (idempotent producers
	// only; others put a failed batch's records back in the queue), or
	// settled and waiting for those before them to be reported, which
	// keeps reports in order.
	batches    []*batch
	inflight   int        // batches in flight: at most Producer.maxInFlight
	pid        producerID // the identity seq runs under (idempotent): an earlier one while its batches settle
	seq        int32      // the sequence number of the next new batch (idempotent)
	resend     bool       // a batch failed: send nothing until none is in flight, then resend in order
	delivering bool       // a task is reporting the settled head of batches

	retryAt  time.Time // not before, after a failure
	waitMeta bool      // a metadata refresh must finish first:
	waitGen  uint64    // one of this generation or later (Producer.metaStarted)
	forced   bool      // send next without waiting (a retry or split)
	orphan   bool      // no leader: waiting for a metadata round
	inTxn    bool      // added to the open transaction (transactional producers)
	acked    bool      // a batch of the current producer epoch was acknowledged
}

// batchState is where a batch is.
type batchState int8

const (
	batchInflight batchState = iota
	batchPending             // failed, to be sent again (idempotent)
	batchDone                // outcome decided: base or err
)

// batch is one partition's records in one request.
type batch struct {
	pb    *partBuf
	recs  []record
	arr   []record // the array holding recs, the batch's own: recycled once settled
	bytes int
	state batchState
	// claimed is set once an outcome was decided for the records, by the
	// response or by Stop giving up; the other then leaves them alone.
	claimed bool

	// The identity an idempotent producer wrote into the batch header; pid
	// is -1 otherwise. They stay the same across retries, so that a broker
	// recognises a batch it already wrote, and change only when the epoch
	// is bumped.
	pid      int64
	epoch    int16
	seq      int32
	attempts int32 // sends that failed so far (idempotent)
	// unsure is set when a failed try may have been written (the
	// connection failed, or the broker's answer came after its append):
	// the batch is resent under its own identity until an answer settles
	// it, never numbered afresh (see adoptEpoch).
	unsure  bool
	written bool // in a request before: hooks count its records as retried
	split   bool // refused as too large: halve before sending again

	base int64 // outcome: offset of recs[0], -1 when unknown
	err  error // outcome: the delivery error
}

// sink sends the batches of the partitions one broker leads. At most one
// task drains it at a time (draining), so the encoder state is the
// drainer's alone; the other fields are guarded by Producer.mu, except
// answers and finisher, which are safe for concurrent use.
type sink struct {
	p        *Producer
	b        *Broker
	parts    []*partBuf
	next     int // first partition looked at by the next collect, for fairness
	inflight int // requests awaiting a response
	draining bool
	overflow bool // the last request was full: send the rest at once

	bb     protocol.RecordBatchBuilder
	buf    []byte
	legacy []protocol.Record

	// Requests whose response (or error) arrived, in arrival order: a
	// future's OnDone hook queues it and kicks finisher, the one task that
	// handles them. No task waits for a response in flight.
	answers  *handler.Queue[*answer]
	finisher *onDemand
}

// answer is a settled Produce request of a sink.
type answer struct {
	f    *conn.ResponseFuture
	sent []*batch
}

func newSink(p *Producer, b *Broker) *sink {
	s := &sink{p: p, b: b, answers: handler.NewQueue[*answer](p.h, 0)}
	s.finisher = newOnDemand(p.h.Go, "kafka-producer-response", s.finishAnswers)
	return s
}

// finishAnswers handles the responses that arrived, oldest first.
func (s *sink) finishAnswers() {
	for {
		a, err := s.answers.TryGet()
		if err != nil {
			return
		}
		// The future is done: Get decodes without waiting.
		m, err := a.f.Get(context.Background())
		resp, _ := m.(*protocol.ProduceResponse)
		if err == nil && resp == nil {
			err = fmt.Errorf("kafka: Produce response of type %T", m)
		}
		s.p.finish(s, a.sent, resp, err)
	}
}

// ready reports whether pb may be sent now by s, or else when it may be
// (zero when an event, not time, will make it ready). Called with p.mu
// held.
func (p *Producer) ready(s *sink, pb *partBuf, idle bool) (bool, time.Time) {
	limit := p.maxInFlight
	if !pb.acked {
		// A broker takes any sequence number as a producer's first on a
		// partition: a second batch could be written ahead of a first
		// that failed. Until one is acknowledged, one at a time.
		limit = 1
	}
	if pb.inflight >= limit || pb.waitMeta || pb.orphan || pb.resend && pb.inflight > 0 {
		return false, time.Time{}
	}
	resend := p.idem && pb.pending() != nil
	if !resend && pb.queue.len() == 0 {
		return false, time.Time{}
	}
	if p.idem && (!p.idemReady() || !p.idemNext(pb, limit)) {
		return false, time.Time{}
	}
	if p.txn != nil && !pb.inTxn && !p.txnAdd(pb) {
		return false, time.Time{}
	}
	if !pb.retryAt.IsZero() {
		if now := p.h.Now(); now.Before(pb.retryAt) {
			return false, pb.retryAt
		}
		pb.retryAt = time.Time{}
	}
	switch {
	case resend || pb.forced || p.flushing > 0 || s.overflow:
		return true, time.Time{}
	case pb.queue.len() >= p.cfg.MinQueuedMessages || pb.queue.bytes >= p.batchBudget:
		return true, time.Time{}
	case p.cfg.Linger == 0:
		// Send at once to an idle broker; otherwise wait for its
		// response, and send what gathered meanwhile.
		return idle, time.Time{}
	}
	at := pb.firstAt.Add(p.cfg.Linger)
	if p.h.Now().Before(at) {
		return false, at
	}
	return true, time.Time{}
}

// schedule makes sure a partition that just got a message is sent in time.
// Called with p.mu held on a started producer.
func (p *Producer) schedule(pb *partBuf) {
	if pb.sink == nil && !pb.orphan {
		p.route(pb)
	}
	s := pb.sink
	if s == nil || s.draining {
		return
	}
	if ok, at := p.ready(s, pb, s.inflight == 0); ok {
		s.draining = true
		p.h.Go("kafka-producer-send", s.drain)
	} else if !at.IsZero() {
		p.armTimer(at)
	}
}

// kick starts a drain of s if one of its partitions is ready, and arms the
// timer for those that will be. Called with p.mu held.
func (p *Producer) kick(s *sink) {
	if s.draining || !p.started {
		return
	}
	idle := s.inflight == 0
	var next time.Time
	for _, pb := range s.parts {
		ok, at := p.ready(s, pb, idle)
		if ok {
			s.draining = true
			p.h.Go("kafka-producer-send", s.drain)
			return
		}
		if !at.IsZero() && (next.IsZero() || at.Before(next)) {
			next = at
		}
	}
	if !next.IsZero() {
		p.armTimer(next)
	}
}

// kickAll kicks every sink. Called with p.mu held.
func (p *Producer) kickAll() {
	for _, s := range p.sinks {
		p.kick(s)
	}
}

// drain sends requests while s has partitions ready.
func (s *sink) drain() {
	p := s.p
	for {
		p.mu.Lock()
		batches := p.collect(s)
		if len(batches) == 0 {
			s.draining = false
			p.mu.Unlock()
			return
		}
		s.inflight++
		p.mu.Unlock()
		s.send(batches)
	}
}

// collect takes one request's worth of ready batches from s's partitions,
// marking them in flight. Partitions whose leader moved go to their new
// sink. Called with p.mu held.
func (p *Producer) collect(s *sink) []*batch {
	idle := s.inflight == 0
	overflow := false
	budget := p.reqBudget
	var out []*batch
	var moved []*partBuf
	var next time.Time
	n := len(s.parts)
	for k := range n {
		pb := s.parts[(s.next+k)%n]
		if pb.inflight == 0 && pb.part.Leader() != s.b {
			moved = append(moved, pb)
			continue
		}
		ok, at := p.ready(s, pb, idle)
		if !ok {
			if !at.IsZero() && (next.IsZero() || at.Before(next)) {
				next = at
			}
			continue
		}
		b := p.cut(pb, &budget)
		if b == nil {
			overflow = true
			break
		}
		out = append(out, b)
	}
	if n > 0 {
		s.next = (s.next + 1) % n
	}
	s.overflow = overflow
	for _, pb := range moved {
		p.route(pb)
		if pb.sink != nil && pb.sink != s {
			p.kick(pb.sink)
		}
	}
	if !next.IsZero() {
		p.armTimer(next)
	}
	return out
}

// cut takes the longest run of pb's queued records that fits budget and
// batchBudget as a batch, or returns nil when not even the first fits.
func (p *Producer) cut(pb *partBuf, budget *int) *batch {
	avail := min(*budget, p.batchBudget) - partitionOverhead
	if p.idem {
		if b := pb.pending(); b != nil {
			if b.split && len(b.recs) > 1 {
				b = p.splitPending(pb, b)
			}
			// A batch is resent as it was, with its sequence number.
			if avail < b.bytes {
				return nil
			}
			b.state = batchInflight
			p.sent(pb, b)
			*budget -= partitionOverhead + b.bytes
			return b
		}
	}
	if avail < int(pb.queue.front().size) {
		return nil
	}
	queued := pb.queue.records()
	if p.batchCap > 0 {
		// The first record goes even when larger: alone, the broker's
		// answer is its own.
		avail = min(avail, max(p.batchCap, int(queued[0].size)))
	}
	k, bytes := 0, 0
	for k < len(queued) && bytes+int(queued[k].size) <= avail {
		bytes += int(queued[k].size)
		k++
	}
	b := &batch{pb: pb, bytes: bytes, pid: -1}
	b.recs, b.arr = pb.queue.take(k, bytes)
	p.stampBatch(b.recs)
	if p.idem {
		// ready adopted the producer's identity (idemNext).
		b.pid, b.epoch, b.seq = pb.pid.id, pb.pid.epoch, pb.seq
		pb.seq = nextSequence(pb.seq, k)
	}
	pb.batches = append(pb.batches, b)
	p.sent(pb, b)
	if p.cfg.Linger > 0 {
		pb.firstAt = p.h.Now()
	}
	*budget -= partitionOverhead + bytes
	return b
}

// sent counts b, cut or resent, in flight. Called with p.mu held.
func (p *Producer) sent(pb *partBuf, b *batch) {
	pb.inflight++
	p.inflightBatches++
	pb.resend = false
	pb.forced = false
}

// pending returns the first batch of pb waiting to be sent again, if any.
// Called with p.mu held.
func (pb *partBuf) pending() *batch {
	for _, b := range pb.batches {
		if b.state == batchPending {
			return b
		}
	}
	return nil
}

// nextSequence is the sequence number n records after seq: sequences wrap
// from the largest int32 to 0, as brokers expect.
func nextSequence(seq int32, n int) int32 {
	return int32((int64(seq) + int64(n)) % (1 << 31))
}

// send encodes batches into one Produce request and sends it to s's
// broker. The outcome is handled by finish: at once for a failed send or
// AcksNone, by the sink's finisher once the response arrives otherwise.
func (s *sink) send(batches []*batch) {
	p := s.p
	c, err := s.b.conn(p.ctx, connKey{purpose: purposeProduce})
	if err != nil {
		p.finish(s, batches, nil, err)
		return
	}
	version, err := p.produceVersion(c)
	if err != nil {
		p.finish(s, batches, nil, err)
		return
	}
	req, sent, failed := s.encode(batches, version)
	if len(failed) > 0 {
		p.fail(failed)
	}
	if len(sent) == 0 {
		p.finish(s, nil, nil, nil)
		return
	}
	// The version the records were encoded for is the one sent, even if
	// the connection was replaced meanwhile by one to an upgraded broker.
	f, err := c.RequestVersion(p.ctx, req, version)
	if err == nil && len(p.t.cl.hooks.produce) > 0 {
		p.observeBatches(s.b.ID(), sent, req)
	}
	if err != nil || f == nil {
		p.finish(s, sent, nil, err)
		return
	}
	a := &answer{f: f, sent: sent}
	f.OnDone(func(*conn.ResponseFuture) {
		// On the connection's read path: hand over, nothing more. The
		// queue is unbounded, so TryPut only fails once closed, which
		// it never is.
		_ = s.answers.TryPut(a)
		s.finisher.kick()
	})
}

// encode builds the request for batches at version. Uncompressed record
// batches are left to the request, which writes them from the records
// straight into the frame; others are encoded here into s.buf. Batches that
// cannot be encoded (headers for a broker that predates them, say) are
// returned apart with their error.
func (s *sink) encode(batches []*batch, version int16) (*protocol.ProduceRecordsRequest, []*batch, []failedBatch) {
	p := s.p
	direct := version >= 3 && p.cfg.Compression == CompressionNone
	parts := make([]protocol.ProduceRecordsPartition, 0, len(batches))
	// sent is batches less the failed ones, compacted in place: it never
	// passes the batch being looked at.
	sent := batches[:0]
	var failed []failedBatch
	buf := s.buf[:0]
	for _, b := range batches {
		hdr := p.producerHeader(b)
		if direct {
			parts = append(parts, protocol.ProduceRecordsPartition{Index: b.pb.id, Batch: hdr, Source: b})
			sent = append(sent, b)
			continue
		}
		start := len(buf)
		var err error
		buf, s.legacy, err = appendRecords(buf, &s.bb, s.legacy, &hdr, b.recs, version, p.cfg.Compression)
		if err != nil {
			buf = buf[:start]
			failed = append(failed, failedBatch{b, err})
			continue
		}
		// Records is set once buf stops moving.
		parts = append(parts, protocol.ProduceRecordsPartition{Index: b.pb.id, Records: buf[start:len(buf):len(buf)]})
		sent = append(sent, b)
	}
	if !direct {
		// buf may have moved while growing: point into where it ended.
		off := 0
		for i := range parts {
			n := len(parts[i].Records)
			parts[i].Records = buf[off : off+n : off+n]
			off += n
		}
	}
	s.buf = buf
	req := &protocol.ProduceRecordsRequest{
		TransactionalID: p.transactionalID(),
		Acks:            p.acks,
		TimeoutMs:       p.ackTimeoutMs,
		Topic:           p.t.name,
		TopicID:         p.t.ID(),
		Partitions:      parts,
	}
	return req, sent, failed
}

// Len and Record make a batch the protocol.RecordSource of an uncompressed
// batch, which the request encodes from its records.
func (b *batch) Len() int { return len(b.recs) }

func (b *batch) Record(i int) (int64, []byte, []byte, []protocol.RecordHeader) {
	m := &b.recs[i].msg
	return m.Timestamp.UnixMilli(), m.Key, m.Value, m.Headers
}

type failedBatch struct {
	b   *batch
	err error
}
