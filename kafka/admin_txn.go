package kafka

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/gregorkafka/gregor/protocol"
)

// ProducerState is one active producer of a partition.
type ProducerState struct {
	ProducerID    int64
	ProducerEpoch int32
	LastSequence  int32
	LastTimestamp int64
	// CurrentTxnStartOffset is the first offset of the producer's open
	// transaction, -1 when none is open.
	CurrentTxnStartOffset int64
	CoordinatorEpoch      int32
}

// PartitionProducers is the outcome of DescribeProducers for one partition.
type PartitionProducers struct {
	Producers []ProducerState
	Err       error
}

// DescribeProducers lists the active idempotent and transactional producers
// of partitions, asking each partition's leader.
func (c *Cluster) DescribeProducers(ctx context.Context, partitions map[string][]int32) (map[TopicPartition]PartitionProducers, error) {
	if c.closed.Load() {
		return nil, ErrClosed
	}
	byLeader, failed := c.leadersOf(ctx, partitions)
	out := map[TopicPartition]PartitionProducers{}
	for tp, err := range failed {
		out[tp] = PartitionProducers{Err: err}
	}
	for b, topics := range byLeader {
		req := protocol.NewDescribeProducersRequest()
		for _, name := range sortedKeys(topics) {
			req.Topics = append(req.Topics, protocol.DescribeProducersRequestTopic{Name: name, PartitionIndexes: topics[name]})
		}
		resp, err := adminCall[*protocol.DescribeProducersResponse](ctx, b, req)
		for name, ps := range topics {
			for _, p := range ps {
				tp := TopicPartition{name, p}
				out[tp] = PartitionProducers{Err: partitionErr(tp, errOr(err, errors.New("kafka: missing from the broker's answer")))}
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			continue
		}
		for _, rt := range resp.Topics {
			for _, rp := range rt.Partitions {
				tp := TopicPartition{rt.Name, rp.PartitionIndex}
				pp := PartitionProducers{Err: partitionErr(tp, brokerError(rp.ErrorCode, rp.ErrorMessage))}
				for _, s := range rp.ActiveProducers {
					pp.Producers = append(pp.Producers, ProducerState{ProducerID: s.ProducerID, ProducerEpoch: s.ProducerEpoch,
						LastSequence: s.LastSequence, LastTimestamp: s.LastTimestamp,
						CurrentTxnStartOffset: s.CurrentTxnStartOffset, CoordinatorEpoch: s.CoordinatorEpoch})
				}
				out[tp] = pp
			}
		}
	}
	return out, nil
}

// TransactionListing is one transactional id as ListTransactions reports it.
type TransactionListing struct {
	TransactionalID string
	ProducerID      int64
	State           string // "Ongoing", "CompleteCommit", ...
	Coordinator     int32
}

// ListTransactions lists the transactional ids every broker coordinates,
// sorted by id; states filters by state (nil for all). A broker that cannot
// answer fails the call, since the list would miss its transactions.
func (c *Cluster) ListTransactions(ctx context.Context, states []string) ([]TransactionListing, error) {
	if err := c.Update(ctx); err != nil {
		return nil, err
	}
	var out []TransactionListing
	for _, b := range c.Brokers() {
		req := protocol.NewListTransactionsRequest()
		req.StateFilters = states
		resp, err := adminCall[*protocol.ListTransactionsResponse](ctx, b, req)
		if err == nil {
			err = protocol.ErrorForCode(resp.ErrorCode)
		}
		if err != nil {
			return nil, fmt.Errorf("kafka: listing the transactions of broker %d (%s): %w", b.ID(), b.Addr(), err)
		}
		for _, s := range resp.TransactionStates {
			out = append(out, TransactionListing{TransactionalID: s.TransactionalID, ProducerID: s.ProducerID,
				State: s.TransactionState, Coordinator: b.ID()})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].TransactionalID < out[j].TransactionalID })
	return out, nil
}

// TransactionDescription is the coordinator's view of one transactional id.
type TransactionDescription struct {
	TransactionalID string
	State           string
	TimeoutMs       int32
	// StartTime is when the ongoing transaction began (zero when none).
	StartTime     time.Time
	ProducerID    int64
	ProducerEpoch int16
	// Partitions are those the ongoing transaction wrote to.
	Partitions  map[string][]int32
	Coordinator int32
	Err         error
}

// DescribeTransactions describes transactional ids, each through its
// transaction coordinator. An id the coordinator does not know has Err
// wrapping protocol.ErrTransactionalIDNotFound.
func (c *Cluster) DescribeTransactions(ctx context.Context, ids ...string) ([]TransactionDescription, error) {
	if c.closed.Load() {
		return nil, ErrClosed
	}
	out := make([]TransactionDescription, len(ids))
	for i, id := range ids {
		out[i] = TransactionDescription{TransactionalID: id, Coordinator: -1}
		err := c.retryCoordinator(ctx, func() error {
			coord, err := c.txnCoordinator(ctx, id)
			if err != nil {
				return err
			}
			out[i].Coordinator = coord.ID()
			req := protocol.NewDescribeTransactionsRequest()
			req.TransactionalIDs = []string{id}
			resp, err := adminCall[*protocol.DescribeTransactionsResponse](ctx, coord, req)
			if err != nil {
				return err
			}
			for _, s := range resp.TransactionStates {
				if s.TransactionalID != id {
					continue
				}
				if err := protocol.ErrorForCode(s.ErrorCode); err != nil {
					return err
				}
				d := &out[i]
				d.State, d.TimeoutMs, d.ProducerID, d.ProducerEpoch = s.TransactionState, s.TransactionTimeoutMs, s.ProducerID, s.ProducerEpoch
				if s.TransactionStartTimeMs > 0 {
					d.StartTime = time.UnixMilli(s.TransactionStartTimeMs)
				}
				d.Partitions = map[string][]int32{}
				for _, t := range s.Topics {
					d.Partitions[t.Topic] = t.Partitions
				}
				return nil
			}
			return errors.New("kafka: missing from the broker's answer")
		})
		if err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			out[i].Err = fmt.Errorf("kafka: transactional id %s: %w", strconv.Quote(id), err)
		}
	}
	return out, nil
}

// txnCoordinator finds the coordinator of a transactional id (FindCoordinator
// with key type 1), asking any broker.
func (c *Cluster) txnCoordinator(ctx context.Context, id string) (*Broker, error) {
	b, err := c.anyBroker(ctx)
	if err != nil {
		return nil, err
	}
	req := protocol.NewFindCoordinatorRequest()
	req.KeyType = 1 // a transactional id
	req.Key = id
	req.CoordinatorKeys = []string{id}
	resp, err := b.FindCoordinator(ctx, req)
	if err != nil {
		return nil, err
	}
	nodeID, err := coordinatorFrom(resp, id)
	if err != nil {
		return nil, err
	}
	return c.brokerByID(ctx, nodeID)
}
