package kafka

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gregorkafka/gregor/conn"
	"github.com/gregorkafka/gregor/protocol"
)

// Transactions (ProducerConfig.TransactionalID). A transactional producer
// is idempotent, with a producer id tied to its transactional id: getting
// it (the first BeginTransaction) fences every older producer of the same
// id and aborts what that one left open. Between BeginTransaction and
// CommitTransaction or AbortTransaction, the producer adds each partition
// to the transaction before its first batch goes out; consumers reading
// committed data see the messages only once the transaction commits. The
// transactional id's state lives in a txnSession (txn_session.go), which
// the producers of a Transaction share.
//
// Two protocols: the classic one adds partitions with AddPartitionsToTxn
// and the consumer group with AddOffsetsToTxn. Where the cluster finalized
// transaction.version 2 (KIP-890, Kafka 4 KRaft by default), Produce 12
// and TxnOffsetCommit 5 add them implicitly, and every EndTxn bumps the
// epoch (its answer names the next one), so a late write of an ended
// transaction can never join the next. The protocol is chosen at each
// BeginTransaction from the coordinator's ApiVersions; moving up to
// version 2 bumps the epoch first, as Java's producer does.
//
// The states: none → (BeginTransaction) open → (CommitTransaction: flush,
// EndTxn commit) none, or → (AbortTransaction: drop what is unsent, wait
// for what is in flight, EndTxn abort) none. A batch failing for good
// leaves the open transaction abortable: CommitTransaction refuses, and
// AbortTransaction ends it (bumping the epoch when a sequence broke). A
// fenced producer is done for good.

var (
	// ErrNotTransactional is returned by the transaction methods of a
	// producer without ProducerConfig.TransactionalID.
	ErrNotTransactional = errors.New("kafka: producer is not transactional")

	// ErrNoTransaction is returned by Produce on a transactional producer
	// outside a transaction, and by CommitTransaction, AbortTransaction
	// and SendOffsetsToTransaction when none is open.
	ErrNoTransaction = errors.New("kafka: no transaction is open")

	// ErrTransactionOpen is returned by BeginTransaction while one is open.
	ErrTransactionOpen = errors.New("kafka: a transaction is already open")

	// ErrTransactionAborted is reported for messages an aborted
	// transaction dropped before they were sent.
	ErrTransactionAborted = errors.New("kafka: transaction aborted")
)

// ProducerFencedError says a newer producer with the same transactional id
// took over: this one can do nothing more. It wraps the broker's
// protocol.ErrProducerFenced or protocol.ErrInvalidProducerEpoch.
type ProducerFencedError struct {
	TransactionalID string
	Err             error
}

func (e *ProducerFencedError) Error() string {
	return fmt.Sprintf("kafka: producer of transactional id %q fenced by a newer one: %v", e.TransactionalID, e.Err)
}

func (e *ProducerFencedError) Unwrap() error { return e.Err }

// TransactionAbortableError says the open transaction cannot commit: a
// message of it failed. AbortTransaction ends it; the producer stays usable.
type TransactionAbortableError struct {
	Err error
}

func (e *TransactionAbortableError) Error() string {
	return fmt.Sprintf("kafka: transaction must be aborted: %v", e.Err)
}

func (e *TransactionAbortableError) Unwrap() error { return e.Err }

// ConsumerGroupMetadata identifies a consumer for offsets committed in a
// transaction: the group's coordinator refuses them from a member of a
// past generation, which fences a consumer that lost its partitions.
// SimpleConsumer.GroupMetadata and BalancedConsumer.GroupMetadata give it.
type ConsumerGroupMetadata struct {
	GroupID      string
	GenerationID int32 // -1 when the consumer is no member of a group generation
	MemberID     string
	// GroupInstanceID is the static membership id, if any.
	GroupInstanceID string
}

// DefaultTransactionTimeout is how long a transaction may stay open before
// the coordinator aborts it.
const DefaultTransactionTimeout = time.Minute

// Versions a classic transactional client sends: AddPartitionsToTxn v4 and
// later are for brokers; Produce 12, EndTxn 5 and TxnOffsetCommit 5 are the
// KIP-890 protocol (transaction version 2), which the broker infers from
// the version.
const (
	maxAddPartitionsVersion     = 3
	lastClassicProduceVersion   = 11
	lastClassicEndTxnVersion    = 4
	lastClassicTxnOffsetVersion = 4
)

// txnVersionFeature is the finalized feature whose level 2 enables the
// KIP-890 protocol.
const txnVersionFeature = "transaction.version"

// txnState is a transactional producer's own part of its session's state,
// guarded by Producer.mu.
type txnState struct {
	s      *txnSession
	id     string // s.id, which Produce requests point to
	own    bool   // the session is the producer's alone (ProducerConfig.TransactionalID)
	adding bool   // a task is adding partitions
}

// txnV2 reports whether b, a transaction coordinator, offers the KIP-890
// protocol: its cluster finalized transaction.version 2 and it speaks the
// request versions that carry it.
func txnV2(ctx context.Context, b *Broker) (bool, error) {
	c, err := b.conn(ctx, connGeneral)
	if err != nil {
		return false, err
	}
	v := c.Versions()
	if v == nil {
		return false, &conn.DisconnectedError{Address: c.Address(), Err: conn.ErrNotConnected}
	}
	if level, ok := v.FinalizedFeature(txnVersionFeature); !ok || level < 2 {
		return false, nil
	}
	produce, _ := v.Version(protocol.APIKeyProduce)
	endTxn, _ := v.Version(protocol.APIKeyEndTxn)
	offsets, _ := v.Version(protocol.APIKeyTxnOffsetCommit)
	return produce > lastClassicProduceVersion && endTxn > lastClassicEndTxnVersion &&
		offsets > lastClassicTxnOffsetVersion, nil
}

// TransactionV2 reports whether the producer's transactions use the
// KIP-890 protocol (transaction version 2): decided at BeginTransaction,
// false before the first.
func (p *Producer) TransactionV2() bool { return p.txn != nil && p.txn.s.v2.Load() }

// isFencing reports a broker answer that means a newer producer took over.
func isFencing(err error) bool {
	return errors.Is(err, protocol.ErrProducerFenced) || errors.Is(err, protocol.ErrInvalidProducerEpoch)
}

// txnRetriable reports an answer after which a transaction request may
// succeed when sent again, perhaps to a new coordinator.
func txnRetriable(err error) bool {
	return retriable(err) || errors.Is(err, protocol.ErrConcurrentTransactions) || coordinatorMoved(err) ||
		errors.Is(err, conn.ErrDisconnected)
}

// fence marks the session fenced and reports everything its producers
// hold with the error. Called with p.mu held.
func (p *Producer) fence(err error) error { return p.txn.s.fence(err) }

// txnBroken makes the open transaction abortable after a batch failed for
// good, reporting what its producers hold with the error. Called with p.mu
// held.
func (p *Producer) txnBroken(err error, sequence bool) {
	if isFencing(err) {
		p.fence(err)
		return
	}
	p.txn.s.broken(&TransactionAbortableError{Err: err}, sequence)
}

// BeginTransaction opens a transaction. The first call gets the producer
// id of the transactional id, which fences older producers of it and
// aborts a transaction one of them left open. It fails with
// ErrNotTransactional, ErrTransactionOpen, a *ProducerFencedError, or the
// error of getting the producer id. On a producer of a Transaction it
// opens the Transaction's, for all its producers.
func (p *Producer) BeginTransaction(ctx context.Context) error {
	p.mu.Lock()
	if err := p.txnCheck(false); err != nil {
		p.mu.Unlock()
		return err
	}
	p.mu.Unlock()
	return p.txn.s.begin(ctx)
}

// txnCheck returns why a transaction cannot begin (wantOpen false) or go
// on (wantOpen true). Called with p.mu held.
func (p *Producer) txnCheck(wantOpen bool) error {
	if p.txn == nil {
		return ErrNotTransactional
	}
	if p.closing && !wantOpen {
		if fenced := p.txn.s.state().fenced; fenced != nil {
			return fenced
		}
		return ErrProducerClosed
	}
	return p.txn.s.check(wantOpen)
}

// txnProduceErr returns why Produce cannot add a message to the
// transaction: none open, fenced, or abortable. Called with p.mu held.
func (p *Producer) txnProduceErr() error {
	if err := p.txnCheck(true); err != nil {
		return err
	}
	return p.txn.s.state().err
}

// newEpoch takes pid for the next batches, whose sequences restart at 0 on
// every partition. Called with p.mu held and nothing in flight.
func (p *Producer) newEpoch(pid producerID) {
	p.pid = pid
	p.pidState = pidReady
	for _, pb := range p.parts {
		if pb != nil {
			pb.pid, pb.seq, pb.acked = pid, 0, false
		}
	}
}

// CommitTransaction sends everything produced in the transaction, waits
// until each message is reported, and commits: the messages and the
// offsets sent with SendOffsetsToTransaction become visible together. A
// *TransactionAbortableError means a message failed and the transaction
// must be aborted; ctx.Err() leaves it open, to be committed or aborted
// again. On a producer of a Transaction it commits the Transaction's.
func (p *Producer) CommitTransaction(ctx context.Context) error {
	if p.txn == nil {
		return ErrNotTransactional
	}
	return p.txn.s.end(ctx, true)
}

// AbortTransaction drops what the transaction has not sent (reported with
// ErrTransactionAborted), waits for what is in flight, and aborts: nothing
// of the transaction becomes visible to consumers reading committed data.
// On a producer of a Transaction it aborts the Transaction's.
func (p *Producer) AbortTransaction(ctx context.Context) error {
	if p.txn == nil {
		return ErrNotTransactional
	}
	return p.txn.s.end(ctx, false)
}

// dropQueued reports the queued messages no batch took yet with err.
func (p *Producer) dropQueued(err error) {
	var touched []*partBuf
	p.mu.Lock()
	for _, pb := range p.parts {
		if pb == nil || pb.queue.len() == 0 {
			continue
		}
		p.failQueued(pb, err)
		touched = append(touched, pb)
	}
	p.mu.Unlock()
	p.report(touched)
}

// SendOffsetsToTransaction commits consumer offsets (topic → partition →
// the next offset to read, Kafka's convention) for group within the open
// transaction: they take effect only if it commits, together with the
// messages produced in it. This is how consume-transform-produce reads each
// input message exactly once.
func (p *Producer) SendOffsetsToTransaction(ctx context.Context, offsets map[string]map[int32]int64, group ConsumerGroupMetadata) error {
	if p.txn == nil {
		return ErrNotTransactional
	}
	return p.txn.s.sendOffsets(ctx, offsets, group)
}

// txnAdd reports whether pb, with something to send, may go out in the
// open transaction. Under version 2 Produce adds it; otherwise a task adds
// it first. Called with p.mu held.
func (p *Producer) txnAdd(pb *partBuf) bool {
	if st := p.txn.s.state(); st.open && p.txn.s.v2.Load() && st.fenced == nil && st.err == nil {
		pb.inTxn = true
		return true
	}
	p.addPartitions()
	return false
}

// addPartitions starts a task adding the partitions that have something to
// send to the open transaction, unless one runs. Called with p.mu held.
func (p *Producer) addPartitions() {
	if st := p.txn.s.state(); p.txn.adding || !st.open || st.fenced != nil {
		return
	}
	p.txn.adding = true
	p.h.Go("kafka-producer-txn-add", p.addPartitionsLoop)
}

func (p *Producer) addPartitionsLoop() {
	backoff := p.cfg.RetryBackoff
	for attempt := 0; ; attempt++ {
		p.mu.Lock()
		var ids []int32
		for _, pb := range p.parts {
			if pb != nil && !pb.inTxn && (pb.queue.len() > 0 || pb.pending() != nil) {
				ids = append(ids, pb.id)
			}
		}
		if st := p.txn.s.state(); len(ids) == 0 || !st.open || st.fenced != nil || st.err != nil {
			p.txn.adding = false
			p.mu.Unlock()
			return
		}
		pid := p.pid
		p.mu.Unlock()

		if attempt > 0 {
			if err := p.h.Sleep(p.ctx, backoff); err != nil {
				p.mu.Lock()
				p.txn.adding = false
				p.mu.Unlock()
				return
			}
			backoff = min(2*backoff, max(maxRetryBackoff, p.cfg.RetryBackoff))
		}
		added, err := p.sendAddPartitions(ids, pid)
		p.mu.Lock()
		for _, id := range added {
			p.parts[id].inTxn = true
		}
		switch {
		case err == nil:
			attempt, backoff = -1, p.cfg.RetryBackoff
		case p.ctx.Err() != nil:
		default:
			// onCoordinator retried what may pass on retry.
			p.txnBroken(fmt.Errorf("kafka: adding partitions to the transaction: %w", err), false)
		}
		p.kickAll()
		p.mu.Unlock()
	}
}

// sendAddPartitions adds partitions ids of the topic to the transaction,
// returning those added and the first error.
func (p *Producer) sendAddPartitions(ids []int32, pid producerID) ([]int32, error) {
	var added []int32
	err := p.txn.s.onCoordinator(p.ctx, func(b *Broker) error {
		req := protocol.NewAddPartitionsToTxnRequest()
		req.V3AndBelowTransactionalID = p.txn.id
		req.V3AndBelowProducerID, req.V3AndBelowProducerEpoch = pid.id, pid.epoch
		req.V3AndBelowTopics = []protocol.AddPartitionsToTxnRequestTopic{{Name: p.t.name, Partitions: ids}}
		r, err := txnCall[*protocol.AddPartitionsToTxnResponse](p.ctx, b, req, maxAddPartitionsVersion)
		if err != nil {
			return err
		}
		var firstErr error
		for _, rt := range r.ResultsByTopicV3AndBelow {
			for _, rp := range rt.ResultsByPartition {
				if err := brokerError(rp.PartitionErrorCode, nil); err != nil {
					// OPERATION_NOT_ATTEMPTED marks the partitions left
					// out because another failed.
					if firstErr == nil || errors.Is(firstErr, protocol.ErrOperationNotAttempted) {
						firstErr = err
					}
					continue
				}
				added = append(added, rp.PartitionIndex)
			}
		}
		return firstErr
	})
	return added, err
}

// hasTxnPartitions reports whether a partition of p joined the open
// transaction.
func (p *Producer) hasTxnPartitions() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pb := range p.parts {
		if pb != nil && pb.inTxn {
			return true
		}
	}
	return false
}

// txnEnded resets p for the next transaction, under next when the
// coordinator named a new epoch.
func (p *Producer) txnEnded(next producerID) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pb := range p.parts {
		if pb != nil {
			pb.inTxn = false
		}
	}
	if next.id >= 0 {
		p.newEpoch(next)
	}
}

// txnCall sends req to b on its general connection at the highest version
// both support, capped at maxVersion when that is not negative.
func txnCall[Resp protocol.Message](ctx context.Context, b *Broker, req protocol.Request, maxVersion int16) (Resp, error) {
	var zero Resp
	c, err := b.conn(ctx, connGeneral)
	if err != nil {
		return zero, err
	}
	v := c.Versions()
	if v == nil {
		return zero, &conn.DisconnectedError{Address: c.Address(), Err: conn.ErrNotConnected}
	}
	version, err := v.Pick(req.APIKey())
	if err != nil {
		return zero, err
	}
	if maxVersion >= 0 {
		version = min(version, maxVersion)
	}
	f, err := c.RequestVersion(ctx, req, version)
	if err != nil {
		return zero, err
	}
	m, err := f.Get(ctx)
	if err != nil {
		return zero, err
	}
	resp, ok := m.(Resp)
	if !ok {
		return zero, fmt.Errorf("kafka: %s response of type %T", protocol.APIName(req.APIKey()), m)
	}
	return resp, nil
}

// abortOpenTransaction aborts the transaction Stop finds open, so that
// nothing of it becomes visible. A Transaction's producers leave that to
// Transaction.Stop.
func (p *Producer) abortOpenTransaction(ctx context.Context) {
	p.mu.Lock()
	own := p.txn != nil && p.txn.own && !p.closing
	p.mu.Unlock()
	if !own {
		return
	}
	if st := p.txn.s.state(); !st.open || st.fenced != nil {
		return
	}
	if err := p.AbortTransaction(ctx); err != nil {
		p.log.Warn("kafka: aborting the open transaction on close", "transactional_id", p.txn.id, "error", err)
	}
}
