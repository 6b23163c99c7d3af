package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/protocol"
)

// txnSession is a transactional id's state, shared by the producers that
// write in its transactions: one for a producer with
// ProducerConfig.TransactionalID, a topic's each for a Transaction. They
// share its producer id and epoch (the session hands every new one to each)
// and its transaction; each adds its own topic's partitions.
//
// mu guards the fields below it. Code holding a producer's mu may take it;
// code holding it never takes a producer's.
type txnSession struct {
	id      string
	timeout time.Duration
	backoff time.Duration // first pause between tries of a request
	cl      *Cluster
	h       handler.Handler
	log     *slog.Logger
	// v2: the transaction speaks the KIP-890 protocol. Changed only
	// between transactions; read by the producers' sinks without mu.
	v2 atomic.Bool

	mu      sync.Mutex
	members []*Producer
	coord   *Broker // the transaction coordinator, once known
	pid     producerID
	ready   bool  // pid is the transactional id's
	open    bool  // a transaction is open
	err     error // the open transaction must be aborted: why
	fenced  error // *ProducerFencedError: nothing more can be done
	rebump  bool  // a sequence broke: bump the epoch after the abort
	offsets bool  // consumer offsets were added to the transaction
}

func newTxnSession(id string, timeout, backoff time.Duration, cl *Cluster, h handler.Handler, log *slog.Logger) *txnSession {
	return &txnSession{id: id, timeout: timeout, backoff: min(backoff, 20*time.Millisecond), cl: cl, h: h, log: log,
		pid: producerID{id: -1, epoch: -1}}
}

// txnView is a copy of the session's transaction state.
type txnView struct {
	open        bool
	err, fenced error
}

func (s *txnSession) state() txnView {
	s.mu.Lock()
	defer s.mu.Unlock()
	return txnView{open: s.open, err: s.err, fenced: s.fenced}
}

// join makes p one of the session's producers, with its producer id if it
// has one. A transaction's end hands its producers the next epoch, so none
// may join while one is open. Called with p.mu held.
func (s *txnSession) join(p *Producer) error {
	s.mu.Lock()
	if err := s.checkLocked(false); err != nil {
		s.mu.Unlock()
		return err
	}
	s.members = append(s.members, p)
	pid, ready := s.pid, s.ready
	s.mu.Unlock()
	if ready {
		p.newEpoch(pid)
	}
	return nil
}

func (s *txnSession) producers() []*Producer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Producer(nil), s.members...)
}

// check returns why a transaction cannot begin (wantOpen false) or go on
// (wantOpen true).
func (s *txnSession) check(wantOpen bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.checkLocked(wantOpen)
}

func (s *txnSession) checkLocked(wantOpen bool) error {
	switch {
	case s.fenced != nil:
		return s.fenced
	case wantOpen && !s.open:
		return ErrNoTransaction
	case !wantOpen && s.open:
		return ErrTransactionOpen
	}
	return nil
}

// fence marks the session fenced and reports everything its producers
// hold with the error.
func (s *txnSession) fence(err error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fenced == nil {
		s.fenced = &ProducerFencedError{TransactionalID: s.id, Err: err}
		s.log.Warn("kafka: transactional producer fenced", "transactional_id", s.id, "error", err)
		s.reportHeldLocked(s.fenced)
	}
	return s.fenced
}

// broken makes the open transaction abortable, reporting what its
// producers hold with err.
func (s *txnSession) broken(err error, sequence bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rebump = s.rebump || sequence
	if s.err == nil {
		s.err = err
		s.reportHeldLocked(err)
	}
}

func (s *txnSession) reportHeldLocked(err error) {
	for _, p := range s.members {
		p.h.Go("kafka-producer-txn-failed", func() { p.reportHeld(err) })
	}
}

// begin opens a transaction, getting the producer id first if need be.
func (s *txnSession) begin(ctx context.Context) error {
	s.mu.Lock()
	if err := s.checkLocked(false); err != nil {
		s.mu.Unlock()
		return err
	}
	ready := s.ready
	s.mu.Unlock()
	if !ready {
		if err := s.initTransactions(ctx, false); err != nil {
			return err
		}
	} else if err := s.checkVersion(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkLocked(false); err != nil {
		return err
	}
	s.open, s.err, s.offsets = true, nil, false
	return nil
}

// checkVersion follows the cluster's transaction version between
// transactions. Moving up to version 2 bumps the epoch, so that nothing of
// the classic transactions before, whose partitions were added
// explicitly, can count as part of the first implicit one.
func (s *txnSession) checkVersion(ctx context.Context) error {
	var v2 bool
	err := s.onCoordinator(ctx, func(b *Broker) (err error) {
		v2, err = txnV2(ctx, b)
		return err
	})
	switch {
	case err != nil:
		return fmt.Errorf("kafka: transaction coordinator of %q: %w", s.id, err)
	case v2 && !s.v2.Load():
		return s.initTransactions(ctx, true)
	}
	s.v2.Store(v2)
	return nil
}

// initTransactions gets the producer id of the transactional id, or with
// bump, the next epoch of the current one, and restarts every partition's
// sequence.
func (s *txnSession) initTransactions(ctx context.Context, bump bool) error {
	s.mu.Lock()
	cur := s.pid
	s.mu.Unlock()
	var resp *protocol.InitProducerIDResponse
	var v2 bool
	err := s.onCoordinator(ctx, func(b *Broker) error {
		var err error
		if v2, err = txnV2(ctx, b); err != nil {
			return err
		}
		req := protocol.NewInitProducerIDRequest()
		req.TransactionalID = &s.id
		req.TransactionTimeoutMs = int32(s.timeout / time.Millisecond)
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
	if err != nil {
		if isFencing(err) {
			return s.fence(err)
		}
		return fmt.Errorf("kafka: InitProducerId for transactional id %q: %w", s.id, err)
	}
	s.v2.Store(v2)
	pid := producerID{id: resp.ProducerID, epoch: resp.ProducerEpoch}
	s.setEpoch(pid)
	s.log.Debug("kafka: transactional producer id", "transactional_id", s.id, "id", pid.id, "epoch", pid.epoch,
		"transaction_version_2", v2)
	return nil
}

// setEpoch hands pid to every producer of the session. Nothing is in
// flight.
func (s *txnSession) setEpoch(pid producerID) {
	s.mu.Lock()
	s.pid, s.ready = pid, true
	members := append([]*Producer(nil), s.members...)
	s.mu.Unlock()
	for _, p := range members {
		p.mu.Lock()
		p.newEpoch(pid)
		p.mu.Unlock()
	}
}

// end commits or aborts the open transaction: every producer sends (or,
// aborting, drops) what it holds, then one EndTxn ends it on every
// partition and for the offsets.
func (s *txnSession) end(ctx context.Context, commit bool) error {
	if err := s.check(true); err != nil {
		return err
	}
	members := s.producers()
	if !commit {
		for _, p := range members {
			p.dropQueued(ErrTransactionAborted)
		}
	}
	for _, p := range members {
		if err := p.Flush(ctx); err != nil {
			return err
		}
	}
	s.mu.Lock()
	if s.fenced != nil {
		s.mu.Unlock()
		return s.fenced
	}
	if commit && s.err != nil {
		err := s.err
		s.mu.Unlock()
		return err
	}
	pid := s.pid
	v2 := s.v2.Load()
	empty := !s.offsets
	s.mu.Unlock()
	for _, p := range members {
		empty = empty && !p.hasTxnPartitions()
	}

	// A transaction the coordinator never heard of needs no EndTxn.
	var err error
	next := producerID{id: -1, epoch: -1}
	if !empty {
		maxVersion := int16(lastClassicEndTxnVersion)
		if v2 {
			maxVersion = -1
		}
		err = s.onCoordinator(ctx, func(b *Broker) error {
			req := protocol.NewEndTxnRequest()
			req.TransactionalID, req.ProducerID, req.ProducerEpoch = s.id, pid.id, pid.epoch
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
	if err != nil {
		switch {
		case isFencing(err):
			return s.fence(err)
		case commit && (errors.Is(err, protocol.ErrTransactionAbortable) || errors.Is(err, protocol.ErrUnknownProducerID)):
			// The coordinator will not commit; an abort ends it.
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.err == nil {
				s.err = &TransactionAbortableError{Err: err}
			}
			return s.err
		case commit:
			return fmt.Errorf("kafka: committing the transaction: %w", err)
		}
		return fmt.Errorf("kafka: aborting the transaction: %w", err)
	}
	for _, p := range members {
		p.txnEnded(next)
	}
	s.mu.Lock()
	if next.id >= 0 {
		s.pid = next
	}
	s.open, s.offsets = false, false
	// Under version 2 the EndTxn just bumped the epoch, whether or not a
	// sequence broke; an empty transaction sent none, and broke none.
	rebump := s.rebump && (!v2 || next.id < 0)
	s.err, s.rebump = nil, false
	s.mu.Unlock()
	if rebump {
		return s.initTransactions(ctx, true)
	}
	return nil
}

// sendOffsets commits consumer offsets within the open transaction.
func (s *txnSession) sendOffsets(ctx context.Context, offsets map[string]map[int32]int64, group ConsumerGroupMetadata) error {
	if group.GroupID == "" {
		return ErrNoConsumerGroup
	}
	s.mu.Lock()
	if err := s.checkLocked(true); err != nil {
		s.mu.Unlock()
		return err
	}
	pid := s.pid
	v2 := s.v2.Load()
	s.mu.Unlock()

	var err error
	if v2 {
		// TxnOffsetCommit 5 adds the group to the transaction itself.
		s.mu.Lock()
		s.offsets = true
		s.mu.Unlock()
		err = s.txnOffsetCommit(ctx, offsets, group, pid, -1)
		return s.sendOffsetsResult(group, err)
	}
	err = s.onCoordinator(ctx, func(b *Broker) error {
		req := protocol.NewAddOffsetsToTxnRequest()
		req.TransactionalID, req.ProducerID, req.ProducerEpoch = s.id, pid.id, pid.epoch
		req.GroupID = group.GroupID
		r, err := txnCall[*protocol.AddOffsetsToTxnResponse](ctx, b, req, -1)
		if err != nil {
			return err
		}
		return brokerError(r.ErrorCode, nil)
	})
	if err == nil {
		s.mu.Lock()
		s.offsets = true
		s.mu.Unlock()
		err = s.txnOffsetCommit(ctx, offsets, group, pid, lastClassicTxnOffsetVersion)
	}
	return s.sendOffsetsResult(group, err)
}

// sendOffsetsResult is sendOffsets' outcome for err. A group that refuses
// the offsets (the consumer lost its generation, say) makes the
// transaction abortable, as with Java's producer: committing the messages
// without the offsets would read their input twice.
func (s *txnSession) sendOffsetsResult(group ConsumerGroupMetadata, err error) error {
	if err == nil {
		return nil
	}
	if isFencing(err) {
		return s.fence(err)
	}
	err = fmt.Errorf("kafka: sending offsets of group %q to the transaction: %w", group.GroupID, err)
	if groupRefusedOffsets(err) {
		s.mu.Lock()
		if s.err == nil {
			s.err = &TransactionAbortableError{Err: err}
		}
		s.mu.Unlock()
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
func (s *txnSession) txnOffsetCommit(ctx context.Context, offsets map[string]map[int32]int64, group ConsumerGroupMetadata, pid producerID, maxVersion int16) error {
	req := protocol.NewTxnOffsetCommitRequest()
	req.TransactionalID, req.GroupID = s.id, group.GroupID
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
	return s.retry(ctx, func() error {
		return s.cl.onCoordinator(ctx, group.GroupID, func(b *Broker) error {
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
	})
}

// txnAttempts bounds the tries of one transaction request.
const txnAttempts = 20

// retry runs try until it succeeds, ctx ends, its error is not retriable
// (txnRetriable) or txnAttempts tries are spent, backing off between them.
func (s *txnSession) retry(ctx context.Context, try func() error) error {
	backoff := s.backoff
	var err error
	for attempt := 0; attempt < txnAttempts; attempt++ {
		if attempt > 0 {
			if serr := s.h.Sleep(ctx, backoff); serr != nil {
				return errors.Join(err, serr)
			}
			backoff = min(2*backoff, maxRetryBackoff)
		}
		if err = try(); err == nil || ctx.Err() != nil || !txnRetriable(err) {
			return err
		}
	}
	return err
}

// onCoordinator runs fn on the transaction coordinator, finding it first,
// and again, backing off, while the answer says the coordinator moved or
// is busy (CONCURRENT_TRANSACTIONS: the previous transaction is still
// being completed).
func (s *txnSession) onCoordinator(ctx context.Context, fn func(*Broker) error) error {
	return s.retry(ctx, func() error {
		b, err := s.coordinator(ctx)
		if err != nil {
			return err
		}
		if err = fn(b); coordinatorBusy(err) {
			s.mu.Lock()
			s.coord = nil
			s.mu.Unlock()
		}
		return err
	})
}

// coordinator returns the transaction coordinator of the transactional
// id, asking the cluster when it is not known.
func (s *txnSession) coordinator(ctx context.Context) (*Broker, error) {
	s.mu.Lock()
	b := s.coord
	s.mu.Unlock()
	if b != nil {
		return b, nil
	}
	req := protocol.NewFindCoordinatorRequest()
	req.KeyType = 1 // a transactional id
	req.Key = s.id
	req.CoordinatorKeys = []string{s.id}
	brokers := s.cl.candidates()
	if len(brokers) == 0 {
		return nil, errNoBroker
	}
	resp, err := brokers[0].FindCoordinator(ctx, req)
	if err != nil {
		return nil, err
	}
	id, err := coordinatorFrom(resp, s.id)
	if err != nil {
		return nil, err
	}
	if b = s.cl.Broker(id); b == nil {
		if err := s.cl.Update(ctx); err != nil {
			return nil, err
		}
		if b = s.cl.Broker(id); b == nil {
			return nil, fmt.Errorf("kafka: transaction coordinator %d is not in the metadata: %w", id, protocol.ErrCoordinatorNotAvailable)
		}
	}
	s.mu.Lock()
	s.coord = b
	s.mu.Unlock()
	return b, nil
}
