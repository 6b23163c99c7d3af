package kafka

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
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
// committed data see the messages only once the transaction commits.
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

// txnState is a transactional producer's state, guarded by Producer.mu.
type txnState struct {
	id      string
	coord   *Broker // the transaction coordinator, once known
	open    bool
	adding  bool  // a task is adding partitions
	err     error // the open transaction must be aborted: why
	fenced  error // *ProducerFencedError: nothing more can be done
	rebump  bool  // a sequence broke: bump the epoch after the abort
	offsets bool  // consumer offsets were added to the transaction
	// v2: the transaction speaks the KIP-890 protocol. Changed only
	// between transactions; read by the sinks without p.mu.
	v2 atomic.Bool
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
func (p *Producer) TransactionV2() bool { return p.txn != nil && p.txn.v2.Load() }

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

// fence marks the producer fenced and reports everything it holds with
// the error. Called with p.mu held.
func (p *Producer) fence(err error) error {
	if p.txn.fenced == nil {
		p.txn.fenced = &ProducerFencedError{TransactionalID: p.txn.id, Err: err}
		p.log.Warn("kafka: transactional producer fenced", "transactional_id", p.txn.id, "error", err)
		fenced := p.txn.fenced
		p.h.Go("kafka-producer-fenced", func() { p.reportHeld(fenced) })
	}
	return p.txn.fenced
}

// txnBroken makes the open transaction abortable after a batch failed for
// good, reporting what else it holds with the error. Called with p.mu held.
func (p *Producer) txnBroken(err error, sequence bool) {
	if isFencing(err) {
		p.fence(err)
		return
	}
	p.txn.rebump = p.txn.rebump || sequence
	if p.txn.err == nil {
		p.txn.err = &TransactionAbortableError{Err: err}
		abortable := p.txn.err
		p.h.Go("kafka-producer-abortable", func() { p.reportHeld(abortable) })
	}
}

// BeginTransaction opens a transaction. The first call gets the producer
// id of the transactional id, which fences older producers of it and
// aborts a transaction one of them left open. It fails with
// ErrNotTransactional, ErrTransactionOpen, a *ProducerFencedError, or the
// error of getting the producer id.
func (p *Producer) BeginTransaction(ctx context.Context) error {
	p.mu.Lock()
	if err := p.txnCheck(false); err != nil {
		p.mu.Unlock()
		return err
	}
	need := p.pidState != pidReady
	p.mu.Unlock()
	if need {
		if err := p.initTransactions(ctx, false); err != nil {
			return err
		}
	} else if err := p.checkTxnVersion(ctx); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.txnCheck(false); err != nil {
		return err
	}
	p.txn.open, p.txn.err, p.txn.offsets = true, nil, false
	return nil
}

// txnCheck returns why a transaction cannot begin (wantOpen false) or go
// on (wantOpen true). Called with p.mu held.
func (p *Producer) txnCheck(wantOpen bool) error {
	switch {
	case p.txn == nil:
		return ErrNotTransactional
	case p.txn.fenced != nil:
		return p.txn.fenced
	case p.closing && !wantOpen:
		return ErrProducerClosed
	case wantOpen && !p.txn.open:
		return ErrNoTransaction
	case !wantOpen && p.txn.open:
		return ErrTransactionOpen
	}
	return nil
}

// checkTxnVersion follows the cluster's transaction version between
// transactions. Moving up to version 2 bumps the epoch, so that nothing of
// the classic transactions before, whose partitions were added
// explicitly, can count as part of the first implicit one.
func (p *Producer) checkTxnVersion(ctx context.Context) error {
	var v2 bool
	err := p.onTxnCoordinator(ctx, func(b *Broker) (err error) {
		v2, err = txnV2(ctx, b)
		return err
	})
	switch {
	case err != nil:
		return fmt.Errorf("kafka: transaction coordinator of %q: %w", p.txn.id, err)
	case v2 && !p.txn.v2.Load():
		return p.initTransactions(ctx, true)
	}
	p.txn.v2.Store(v2)
	return nil
}

// initTransactions gets the producer id of the transactional id, or with
// bump, the next epoch of the current one, and restarts every partition's
// sequence.
func (p *Producer) initTransactions(ctx context.Context, bump bool) error {
	p.mu.Lock()
	cur := p.pid
	p.mu.Unlock()
	var resp *protocol.InitProducerIDResponse
	var v2 bool
	err := p.onTxnCoordinator(ctx, func(b *Broker) error {
		var err error
		if v2, err = txnV2(ctx, b); err != nil {
			return err
		}
		req := protocol.NewInitProducerIDRequest()
		req.TransactionalID = &p.txn.id
		req.TransactionTimeoutMs = int32(p.cfg.TransactionTimeout / time.Millisecond)
		if bump {
			req.ProducerID, req.ProducerEpoch = cur.id, cur.epoch
		}
		r, err := txnCall[*protocol.InitProducerIDResponse](ctx, b, req, -1)
		if err != nil {
			return err
		}
		if err := brokerError(r.ErrorCode, nil); err != nil {
			return err
		}
		resp = r
		return nil
	})
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		if isFencing(err) {
			return p.fence(err)
		}
		return fmt.Errorf("kafka: InitProducerId for transactional id %q: %w", p.txn.id, err)
	}
	p.newEpoch(producerID{id: resp.ProducerID, epoch: resp.ProducerEpoch})
	p.pidState = pidReady
	p.txn.v2.Store(v2)
	p.log.Debug("kafka: transactional producer id", "transactional_id", p.txn.id, "id", p.pid.id, "epoch", p.pid.epoch,
		"transaction_version_2", v2)
	return nil
}

// newEpoch takes pid for the next batches, whose sequences restart at 0 on
// every partition. Called with p.mu held and nothing in flight.
func (p *Producer) newEpoch(pid producerID) {
	p.pid = pid
	for _, pb := range p.parts {
		if pb != nil {
			pb.seq, pb.acked = 0, false
		}
	}
}

// CommitTransaction sends everything produced in the transaction, waits
// until each message is reported, and commits: the messages and the
// offsets sent with SendOffsetsToTransaction become visible together. A
// *TransactionAbortableError means a message failed and the transaction
// must be aborted; ctx.Err() leaves it open, to be committed or aborted
// again.
func (p *Producer) CommitTransaction(ctx context.Context) error {
	return p.endTransaction(ctx, true)
}

// AbortTransaction drops what the transaction has not sent (reported with
// ErrTransactionAborted), waits for what is in flight, and aborts: nothing
// of the transaction becomes visible to consumers reading committed data.
func (p *Producer) AbortTransaction(ctx context.Context) error {
	return p.endTransaction(ctx, false)
}

func (p *Producer) endTransaction(ctx context.Context, commit bool) error {
	p.mu.Lock()
	if err := p.txnCheck(true); err != nil {
		p.mu.Unlock()
		return err
	}
	p.mu.Unlock()
	if !commit {
		p.dropQueued(ErrTransactionAborted)
	}
	if err := p.Flush(ctx); err != nil {
		return err
	}
	p.mu.Lock()
	if p.txn.fenced != nil {
		p.mu.Unlock()
		return p.txn.fenced
	}
	if commit && p.txn.err != nil {
		err := p.txn.err
		p.mu.Unlock()
		return err
	}
	pid := p.pid
	v2 := p.txn.v2.Load()
	empty := !p.txn.offsets
	for _, pb := range p.parts {
		if pb != nil && pb.inTxn {
			empty = false
		}
	}
	p.mu.Unlock()

	// A transaction the coordinator never heard of needs no EndTxn.
	var err error
	next := producerID{id: -1, epoch: -1}
	if !empty {
		maxVersion := int16(lastClassicEndTxnVersion)
		if v2 {
			maxVersion = -1
		}
		err = p.onTxnCoordinator(ctx, func(b *Broker) error {
			req := protocol.NewEndTxnRequest()
			req.TransactionalID, req.ProducerID, req.ProducerEpoch = p.txn.id, pid.id, pid.epoch
			req.Committed = commit
			r, err := txnCall[*protocol.EndTxnResponse](ctx, b, req, maxVersion)
			if err != nil {
				return err
			}
			// EndTxn 5 names the epoch (or, the epoch exhausted, the new
			// producer id) of the next transaction.
			next = producerID{id: r.ProducerID, epoch: r.ProducerEpoch}
			return brokerError(r.ErrorCode, nil)
		})
	}
	p.mu.Lock()
	if err != nil {
		defer p.mu.Unlock()
		switch {
		case isFencing(err):
			return p.fence(err)
		case commit && (errors.Is(err, protocol.ErrTransactionAbortable) || errors.Is(err, protocol.ErrUnknownProducerID)):
			// The coordinator will not commit; an abort ends it.
			if p.txn.err == nil {
				p.txn.err = &TransactionAbortableError{Err: err}
			}
			return p.txn.err
		case commit:
			return fmt.Errorf("kafka: committing the transaction: %w", err)
		}
		return fmt.Errorf("kafka: aborting the transaction: %w", err)
	}
	if next.id >= 0 {
		p.newEpoch(next)
	}
	p.txn.open, p.txn.offsets = false, false
	for _, pb := range p.parts {
		if pb != nil {
			pb.inTxn = false
		}
	}
	// Under version 2 the EndTxn just bumped the epoch, whether or not a
	// sequence broke; an empty transaction sent none, and broke none.
	rebump := p.txn.rebump && (!v2 || next.id < 0)
	p.txn.err, p.txn.rebump = nil, false
	p.mu.Unlock()
	if rebump {
		return p.initTransactions(ctx, true)
	}
	return nil
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
	if group.GroupID == "" {
		return ErrNoConsumerGroup
	}
	p.mu.Lock()
	if err := p.txnCheck(true); err != nil {
		p.mu.Unlock()
		return err
	}
	pid := p.pid
	v2 := p.txn.v2.Load()
	p.mu.Unlock()

	var err error
	if v2 {
		// TxnOffsetCommit 5 adds the group to the transaction itself.
		p.mu.Lock()
		p.txn.offsets = true
		p.mu.Unlock()
		err = p.txnOffsetCommit(ctx, offsets, group, pid, -1)
		return p.sendOffsetsResult(group, err)
	}
	err = p.onTxnCoordinator(ctx, func(b *Broker) error {
		req := protocol.NewAddOffsetsToTxnRequest()
		req.TransactionalID, req.ProducerID, req.ProducerEpoch = p.txn.id, pid.id, pid.epoch
		req.GroupID = group.GroupID
		r, err := txnCall[*protocol.AddOffsetsToTxnResponse](ctx, b, req, -1)
		if err != nil {
			return err
		}
		return brokerError(r.ErrorCode, nil)
	})
	if err == nil {
		p.mu.Lock()
		p.txn.offsets = true
		p.mu.Unlock()
		err = p.txnOffsetCommit(ctx, offsets, group, pid, lastClassicTxnOffsetVersion)
	}
	return p.sendOffsetsResult(group, err)
}

// sendOffsetsResult is SendOffsetsToTransaction's outcome for err. A group
// that refuses the offsets (the consumer lost its generation, say) makes
// the transaction abortable, as with Java's producer: committing the
// messages without the offsets would read their input twice.
func (p *Producer) sendOffsetsResult(group ConsumerGroupMetadata, err error) error {
	if err == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if isFencing(err) {
		return p.fence(err)
	}
	err = fmt.Errorf("kafka: sending offsets of group %q to the transaction: %w", group.GroupID, err)
	if groupRefusedOffsets(err) && p.txn.err == nil {
		p.txn.err = &TransactionAbortableError{Err: err}
	}
	return err
}

// groupRefusedOffsets reports a TxnOffsetCommit answer after which the
// transaction's offsets cannot be committed.
func groupRefusedOffsets(err error) bool {
	for _, e := range []error{protocol.ErrUnknownMemberID, protocol.ErrIllegalGeneration, protocol.ErrFencedInstanceID,
		protocol.ErrTransactionAbortable, protocol.ErrGroupAuthorizationFailed} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// txnOffsetCommit sends the offsets to the group's coordinator.
func (p *Producer) txnOffsetCommit(ctx context.Context, offsets map[string]map[int32]int64, group ConsumerGroupMetadata, pid producerID, maxVersion int16) error {
	req := protocol.NewTxnOffsetCommitRequest()
	req.TransactionalID, req.GroupID = p.txn.id, group.GroupID
	req.ProducerID, req.ProducerEpoch = pid.id, pid.epoch
	req.GenerationID, req.MemberID = group.GenerationID, group.MemberID
	if group.GroupInstanceID != "" {
		req.GroupInstanceID = &group.GroupInstanceID
	}
	for topic, parts := range offsets {
		rt := protocol.TxnOffsetCommitRequestTopic{Name: topic}
		for id, off := range parts {
			rt.Partitions = append(rt.Partitions, protocol.TxnOffsetCommitRequestPartition{
				PartitionIndex: id, CommittedOffset: off, CommittedLeaderEpoch: -1,
			})
		}
		req.Topics = append(req.Topics, rt)
	}
	// The group coordinator may answer CONCURRENT_TRANSACTIONS while the
	// previous transaction's markers are being written, or another
	// retriable error: the same offsets go again, as with Java's producer.
	backoff := min(p.cfg.RetryBackoff, 20*time.Millisecond)
	var err error
	for attempt := 0; attempt < txnAttempts; attempt++ {
		if attempt > 0 {
			if serr := p.h.Sleep(ctx, backoff); serr != nil {
				return errors.Join(err, serr)
			}
			backoff = min(2*backoff, maxRetryBackoff)
		}
		err = p.txnOffsetCommitOnce(ctx, req, group.GroupID, maxVersion)
		if err == nil || ctx.Err() != nil || !txnRetriable(err) {
			return err
		}
	}
	return err
}

// txnOffsetCommitOnce sends req to the group's coordinator.
func (p *Producer) txnOffsetCommitOnce(ctx context.Context, req *protocol.TxnOffsetCommitRequest, groupID string, maxVersion int16) error {
	return p.cl.onCoordinator(ctx, groupID, func(b *Broker) error {
		r, err := txnCall[*protocol.TxnOffsetCommitResponse](ctx, b, req, maxVersion)
		if err != nil {
			return err
		}
		for _, rt := range r.Topics {
			for _, rp := range rt.Partitions {
				if err := brokerError(rp.ErrorCode, nil); err != nil {
					return fmt.Errorf("kafka: offset of %s/%d: %w", rt.Name, rp.PartitionIndex, err)
				}
			}
		}
		return nil
	})
}

// txnAdd reports whether pb, with something to send, may go out in the
// open transaction. Under version 2 Produce adds it; otherwise a task adds
// it first. Called with p.mu held.
func (p *Producer) txnAdd(pb *partBuf) bool {
	if p.txn.open && p.txn.v2.Load() && p.txn.fenced == nil && p.txn.err == nil {
		pb.inTxn = true
		return true
	}
	p.addPartitions()
	return false
}

// addPartitions starts a task adding the partitions that have something to
// send to the open transaction, unless one runs. Called with p.mu held.
func (p *Producer) addPartitions() {
	if p.txn.adding || !p.txn.open || p.txn.fenced != nil {
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
		if len(ids) == 0 || !p.txn.open || p.txn.fenced != nil || p.txn.err != nil {
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
			// onTxnCoordinator retried what may pass on retry.
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
	err := p.onTxnCoordinator(p.ctx, func(b *Broker) error {
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

// txnAttempts bounds the tries of one transaction request.
const txnAttempts = 20

// onTxnCoordinator runs fn on the transaction coordinator, finding it
// first, and again, backing off, while the answer says the coordinator
// moved or is busy (CONCURRENT_TRANSACTIONS: the previous transaction is
// still being completed).
func (p *Producer) onTxnCoordinator(ctx context.Context, fn func(*Broker) error) error {
	backoff := min(p.cfg.RetryBackoff, 20*time.Millisecond)
	var err error
	for attempt := 0; attempt < txnAttempts; attempt++ {
		if attempt > 0 {
			if serr := p.h.Sleep(ctx, backoff); serr != nil {
				return errors.Join(err, serr)
			}
			backoff = min(2*backoff, maxRetryBackoff)
		}
		var b *Broker
		if b, err = p.txnCoordinator(ctx); err == nil {
			if err = fn(b); err == nil {
				return nil
			}
		}
		if coordinatorBusy(err) {
			p.mu.Lock()
			p.txn.coord = nil
			p.mu.Unlock()
		}
		if ctx.Err() != nil || !txnRetriable(err) {
			return err
		}
	}
	return err
}

// txnCoordinator returns the transaction coordinator of the producer's
// transactional id, asking the cluster when it is not known.
func (p *Producer) txnCoordinator(ctx context.Context) (*Broker, error) {
	p.mu.Lock()
	b := p.txn.coord
	p.mu.Unlock()
	if b != nil {
		return b, nil
	}
	req := protocol.NewFindCoordinatorRequest()
	req.KeyType = 1 // a transactional id
	req.Key = p.txn.id
	req.CoordinatorKeys = []string{p.txn.id}
	brokers := p.cl.candidates()
	if len(brokers) == 0 {
		return nil, errNoBroker
	}
	resp, err := brokers[0].FindCoordinator(ctx, req)
	if err != nil {
		return nil, err
	}
	id, err := coordinatorFrom(resp, p.txn.id)
	if err != nil {
		return nil, err
	}
	if b = p.cl.Broker(id); b == nil {
		if err := p.cl.Update(ctx); err != nil {
			return nil, err
		}
		if b = p.cl.Broker(id); b == nil {
			return nil, fmt.Errorf("kafka: transaction coordinator %d is not in the metadata: %w", id, protocol.ErrCoordinatorNotAvailable)
		}
	}
	p.mu.Lock()
	p.txn.coord = b
	p.mu.Unlock()
	return b, nil
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
// nothing of it becomes visible.
func (p *Producer) abortOpenTransaction(ctx context.Context) {
	p.mu.Lock()
	open := p.txn != nil && p.txn.open && p.txn.fenced == nil && !p.closing
	p.mu.Unlock()
	if !open {
		return
	}
	if err := p.AbortTransaction(ctx); err != nil {
		p.log.Warn("kafka: aborting the open transaction on close", "transactional_id", p.txn.id, "error", err)
	}
}
