package kafka

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gregorkafka/gregor/conn"
	"github.com/gregorkafka/gregor/protocol"
)

// Idempotence says whether a producer numbers its records so that brokers
// write each exactly once and in order. See ProducerConfig, "Idempotence".
type Idempotence int8

const (
	// IdempotenceAuto, the zero value: on when RequiredAcks is AcksAll (the
	// default) and the cluster supports it, off otherwise.
	IdempotenceAuto Idempotence = iota
	// IdempotenceOn requires it: RequiredAcks must be AcksAll, and a
	// cluster without support fails every message with
	// ErrIdempotenceUnsupported.
	IdempotenceOn
	// IdempotenceOff turns it off: one batch in flight per partition,
	// retries may duplicate.
	IdempotenceOff
)

func (i Idempotence) String() string {
	switch i {
	case IdempotenceAuto:
		return "auto"
	case IdempotenceOn:
		return "on"
	case IdempotenceOff:
		return "off"
	}
	return fmt.Sprintf("Idempotence(%d)", int8(i))
}

// MaxInFlightPerPartition is how many batches of one partition an
// idempotent producer has in flight at most: brokers remember the last
// five batches of each producer and partition, which is what lets them
// recognise any retried one as a duplicate.
const MaxInFlightPerPartition = 5

// ErrIdempotenceUnsupported is reported for messages of a producer with
// IdempotenceOn when the cluster does not support idempotent producers.
var ErrIdempotenceUnsupported = errors.New("kafka: the cluster does not support idempotent producers")

// producerID is the identity an idempotent producer writes into every
// batch header.
type producerID struct {
	id    int64
	epoch int16
}

// pidState is where a producer is in getting its producer id.
type pidState int8

const (
	pidNone   pidState = iota // not asked yet
	pidAsking                 // InitProducerId under way (a first id or an epoch bump)
	pidReady                  // batches may be sent
	pidFailed                 // no id can be had: p.pidErr
)

// idemReady reports whether an idempotent producer may send: it has a
// producer id and no epoch bump is waiting. It starts getting an id or
// bumping the epoch when that is due. Called with p.mu held.
func (p *Producer) idemReady() bool {
	switch p.pidState {
	case pidNone:
		if p.txn == nil { // BeginTransaction gets a transactional one
			p.askProducerID()
		}
		return false
	case pidReady:
		if !p.bumpWanted {
			return true
		}
		if p.inflightBatches == 0 {
			p.askProducerID()
		}
	}
	return false
}

// askProducerID starts a task getting a producer id, or a new epoch of
// the current one. Called with p.mu held, with nothing in flight.
func (p *Producer) askProducerID() {
	p.pidState = pidAsking
	p.h.Go("kafka-producer-id", p.producerIDLoop)
}

// producerIDLoop asks the cluster for a producer id until it gets one,
// backing off between tries, then lets the partitions send.
func (p *Producer) producerIDLoop() {
	p.mu.Lock()
	cur := p.pid
	bump := p.bumpWanted
	p.mu.Unlock()
	backoff := p.cfg.RetryBackoff
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if err := p.h.Sleep(p.ctx, backoff); err != nil {
				p.pidFail(err)
				return
			}
			backoff = min(2*backoff, max(maxRetryBackoff, p.cfg.RetryBackoff))
		}
		id, unsupported, err := p.initProducerID(cur, bump)
		switch {
		case unsupported && p.cfg.Idempotence == IdempotenceAuto && !bump:
			p.log.Debug("kafka: the cluster does not support idempotence; producing without")
			p.mu.Lock()
			p.idem, p.maxInFlight, p.pidState = false, 1, pidReady
			p.kickAll()
			p.mu.Unlock()
			return
		case unsupported:
			p.pidFail(ErrIdempotenceUnsupported)
			return
		case err == nil:
			// Logged before the partitions may send: once what they hold
			// is acknowledged, Close may return, and a closed producer
			// logs nothing more.
			p.log.Debug("kafka: producer id", "id", id.id, "epoch", id.epoch)
			p.mu.Lock()
			p.pid = id
			p.pidState = pidReady
			if bump {
				// Each partition takes the new identity when it next
				// sends (idemNext, adoptEpoch).
				p.bumpWanted = false
			}
			p.kickAll()
			p.mu.Unlock()
			return
		case p.ctx.Err() != nil:
			p.pidFail(err)
			return
		case !retriable(err) && !errors.Is(err, errNoBroker):
			p.pidFail(err)
			return
		case attempt >= p.cfg.MaxRetries:
			// The retry budget is spent: what is held fails with the
			// cause, as a batch out of retries would, and the next
			// message asks again, so an outage does not end the producer
			// and Close on a dead cluster does not wait for ever.
			p.log.Debug("kafka: InitProducerId retries exhausted", "error", err)
			p.mu.Lock()
			if bump {
				p.pidState = pidReady // bumpWanted stays: asked again before the next send
			} else {
				p.pidState = pidNone
			}
			p.mu.Unlock()
			p.reportHeld(fmt.Errorf("kafka: getting a producer id: %w", err))
			return
		}
		p.log.Debug("kafka: InitProducerId failed, retrying", "error", err)
	}
}

// errNoBroker: the model knows no broker to ask. Retried.
var errNoBroker = errors.New("kafka: no broker known")

// initProducerID sends one InitProducerId to some broker. With bump set and
// a broker that knows KIP-360 (version 3), it asks for the next epoch of
// cur; otherwise for a fresh id. unsupported is set when the broker cannot
// give producer ids at all.
func (p *Producer) initProducerID(cur producerID, bump bool) (producerID, bool, error) {
	brokers := p.cl.candidates()
	if len(brokers) == 0 {
		return cur, false, errNoBroker
	}
	b := brokers[0]
	c, err := b.conn(p.ctx, connGeneral)
	if err != nil {
		return cur, false, err
	}
	v := c.Versions()
	if v == nil {
		return cur, false, &conn.DisconnectedError{Address: c.Address(), Err: conn.ErrNotConnected}
	}
	version, err := v.Pick(protocol.APIKeyInitProducerID)
	if err != nil {
		return cur, true, nil
	}
	if pv, err := v.Pick(protocol.APIKeyProduce); err != nil || pv < 3 {
		return cur, true, nil
	}
	req := protocol.NewInitProducerIDRequest()
	req.TransactionTimeoutMs = int32(time.Minute / time.Millisecond)
	if bump && version >= 3 {
		req.ProducerID, req.ProducerEpoch = cur.id, cur.epoch
	}
	f, err := c.RequestVersion(p.ctx, req, version)
	if err != nil {
		return cur, false, err
	}
	m, err := f.Get(p.ctx)
	if err != nil {
		return cur, false, err
	}
	resp, ok := m.(*protocol.InitProducerIDResponse)
	if !ok {
		return cur, false, fmt.Errorf("kafka: InitProducerId response of type %T", m)
	}
	if err := brokerError(resp.ErrorCode, nil); err != nil {
		return cur, false, fmt.Errorf("kafka: InitProducerId to %v: %w", b, err)
	}
	return producerID{id: resp.ProducerID, epoch: resp.ProducerEpoch}, false, nil
}

// pidFail gives up on a producer id: every message held and every later
// one is reported with err.
func (p *Producer) pidFail(err error) {
	p.mu.Lock()
	p.pidState, p.pidErr = pidFailed, err
	p.mu.Unlock()
	p.log.Warn("kafka: producer has no producer id", "error", err)
	p.failAll(err)
}

// bumpEpoch asks for a new epoch once nothing is in flight, for a
// partition whose sequence cannot continue. Called with p.mu held.
func (p *Producer) bumpEpoch(pb *partBuf, why error) {
	if p.txn != nil {
		// Only the end of the transaction may bump a transactional
		// producer's epoch.
		p.txnBroken(why, true)
		return
	}
	if pb.pid != p.pid {
		// pb is leaving its identity for the producer's already.
		return
	}
	if !p.bumpWanted {
		p.log.Debug("kafka: producer epoch bump", "partition", pb.id, "cause", why)
	}
	p.bumpWanted = true
}

// adoptEpoch numbers pb's batches waiting to be sent again afresh from 0
// under the producer's identity, keeping their order, and continues pb's
// sequence under it, if it can: nothing of pb may be in flight, and the
// first waiting batch must be one no broker wrote. A broker takes a
// sequence number only after its predecessor, so then none behind it was
// written either. A first waiting batch that may have been written
// (unsure) is sent again under its old identity first, where the broker's
// answer settles it: written, it is acknowledged as a duplicate; not
// written, it is refused as out of order. Numbered afresh instead, it
// would be written twice. Called with p.mu held.
func (p *Producer) adoptEpoch(pb *partBuf) bool {
	if pb.inflight > 0 {
		return false
	}
	if b := pb.pending(); b != nil && b.unsure {
		return false
	}
	var seq int32
	for _, b := range pb.batches {
		if b.state != batchPending {
			continue
		}
		// A batch refused as too large keeps its split mark and is
		// numbered whole; splitPending halves it, numbers included, when
		// it is sent.
		b.pid, b.epoch, b.seq, b.unsure = p.pid.id, p.pid.epoch, seq, false
		seq = nextSequence(seq, len(b.recs))
	}
	pb.pid, pb.seq, pb.acked = p.pid, seq, false
	return true
}

// idemNext reports whether pb's next batch, the first waiting to be sent
// again or else a new one, may be sent by an idempotent producer. A
// partition still settling batches of an earlier identity sends only
// those. And at most limit of pb's batches, from the first not yet
// settled up to the next one, may have been sent: a broker recognises a
// resent batch as a duplicate only among the last five it wrote for the
// producer and partition, so every batch that may be sent again must have
// fewer than five written behind it. Called with p.mu held.
func (p *Producer) idemNext(pb *partBuf, limit int) bool {
	if pb.pid != p.pid && !p.adoptEpoch(pb) && pb.pending() == nil {
		return false
	}
	first, next := -1, len(pb.batches)
	for i, b := range pb.batches {
		if first < 0 && b.state != batchDone {
			first = i
		}
		if b.state == batchPending {
			next = i
			break
		}
	}
	return first < 0 || next-first < limit
}

// mayBeWritten reports whether a failed try may nonetheless have been
// written: a broker gives the errors of refusedBeforeAppend before it
// appends, any other failure (a lost connection, a timeout waiting for
// replicas) may come after.
func mayBeWritten(err error) bool {
	return !isAny(err, refusedBeforeAppend)
}

// refusedBeforeAppend are the errors a broker gives before it appends a batch.
var refusedBeforeAppend = []error{
	protocol.ErrNotLeaderOrFollower,
	protocol.ErrUnknownTopicOrPartition,
	protocol.ErrLeaderNotAvailable,
	protocol.ErrNotEnoughReplicas,
	protocol.ErrFencedLeaderEpoch,
	protocol.ErrUnknownLeaderEpoch,
	protocol.ErrOutOfOrderSequenceNumber,
	protocol.ErrUnknownProducerID,
	protocol.ErrInvalidProducerEpoch,
	protocol.ErrMessageTooLarge,
	protocol.ErrRecordListTooLarge,
	protocol.ErrCorruptMessage,
	protocol.ErrInvalidRecord,
}

// splitPending replaces pb's pending batch b, refused as too large, by its
// halves, numbered from b's sequence under b's epoch: the broker wrote
// nothing of b, so it expects b's first sequence number next. It returns
// the first half. Called with p.mu held.
func (p *Producer) splitPending(pb *partBuf, b *batch) *batch {
	pid, epoch, seq := b.pid, b.epoch, b.seq
	halves := p.split(b)
	for _, h := range halves {
		h.pid, h.epoch, h.seq = pid, epoch, seq
		seq = nextSequence(seq, len(h.recs))
	}
	i := slices.Index(pb.batches, b)
	pb.batches = slices.Replace(pb.batches, i, i+1, halves...)
	return halves[0]
}

// split halves a batch a broker refused as too large.
func (p *Producer) split(b *batch) []*batch {
	half := len(b.recs) / 2
	mk := func(recs []record) *batch {
		nb := &batch{pb: b.pb, state: batchPending, attempts: b.attempts, written: b.written}
		nb.recs = append([]record(nil), recs...)
		for i := range recs {
			nb.bytes += int(recs[i].size)
		}
		return nb
	}
	out := []*batch{mk(b.recs[:half]), mk(b.recs[half:])}
	p.recycle(b.pb, b)
	return out
}

// isSequenceHead reports whether b is the first unsettled batch of its
// partition: every batch before it was acknowledged. A sequence error for
// it means the broker really lacks its predecessor. Called with p.mu held.
func isSequenceHead(pb *partBuf, b *batch) bool {
	for _, x := range pb.batches {
		if x == b {
			return true
		}
		if x.state != batchDone || x.err != nil {
			return false
		}
	}
	return false
}

// producerHeader is the batch header for b: with the producer id, epoch
// and sequence of an idempotent producer, or none.
func (p *Producer) producerHeader(b *batch) protocol.RecordBatch {
	h := producerBatch
	if b.pid >= 0 && p.idem {
		h.ProducerID, h.ProducerEpoch, h.BaseSequence = b.pid, b.epoch, b.seq
		if p.txn != nil {
			h.Attributes |= protocol.BatchAttrTransactional
		}
	}
	return h
}

// transactionalID is the id Produce requests carry: nil unless
// transactional.
func (p *Producer) transactionalID() *string {
	if p.txn == nil {
		return nil
	}
	return &p.txn.id
}

// failAll reports every message held, queued or in flight, with err, and
// refuses later ones with it.
func (p *Producer) failAll(err error) {
	p.reportHeld(err)
}
