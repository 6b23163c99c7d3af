package kafka

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/gregorkafka/gregor/protocol"
)

// Publish writes values to one partition of the topic, chosen at random,
// as one batch, in order, and returns once the leader acknowledged them
// (samsa's topic.publish). It needs no producer: the batch goes straight
// to the leader, and is retried (up to DefaultMaxRetries times, after a
// metadata refresh when the leader moved) with the producer defaults.
//
// The values must fit one batch of DefaultMaxBatchSize, or Publish
// fails with an error matching ErrMessageTooLarge. Delivery errors are
// *PartitionError values.
func (t *Topic) Publish(ctx context.Context, values ...[]byte) error {
	cl := t.cl
	if cl.closed.Load() {
		return ErrClosed
	}
	if len(values) == 0 {
		return nil
	}
	now := cl.h.Now()
	recs := make([]record, len(values))
	size := requestOverhead(t.name, cl.cfg.ClientID) + partitionOverhead
	for i, v := range values {
		recs[i].msg = Message{Value: v, Timestamp: now}
		size += recordSizeBound(&recs[i].msg)
	}
	if size > DefaultMaxBatchSize {
		return fmt.Errorf("kafka: publishing about %d bytes, above %d: %w", size, DefaultMaxBatchSize, ErrMessageTooLarge)
	}
	parts := t.state.Load().partitions
	if len(parts) == 0 {
		return &TopicError{Topic: t.name, Err: ErrUnknownTopic}
	}
	part := parts[rand.IntN(len(parts))]

	pub := publisher{t: t, part: part, recs: recs}
	var err error
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if serr := cl.h.Sleep(ctx, pub.backoff(attempt)); serr != nil {
				return serr
			}
		}
		if err = pub.send(ctx); err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !retriable(err) || attempt >= DefaultMaxRetries {
			return &PartitionError{Topic: t.name, Partition: part.id, Err: err}
		}
		if _, rerr := cl.refreshIfStale(ctx, err); rerr != nil && ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// publisher sends one Publish batch.
type publisher struct {
	t    *Topic
	part *Partition
	recs []record
	bb   protocol.RecordBatchBuilder
	buf  []byte
}

func (pub *publisher) backoff(attempt int) time.Duration {
	d := DefaultRetryBackoff
	for i := 1; i < attempt && d < maxRetryBackoff; i++ {
		d *= 2
	}
	return min(d, maxRetryBackoff)
}

// send makes one attempt, returning the transport or broker error.
func (pub *publisher) send(ctx context.Context) error {
	leader := pub.part.Leader()
	if leader == nil {
		return ErrNoLeader
	}
	c, err := leader.conn(ctx, connKey{purpose: purposeProduce})
	if err != nil {
		return err
	}
	version, err := produceVersion(c)
	if err != nil {
		return err
	}
	pub.buf, _, err = appendRecords(pub.buf[:0], &pub.bb, nil, &producerBatch, pub.recs, version, CompressionNone)
	if err != nil {
		return err
	}
	req := &protocol.ProduceRequest{
		Acks:      AcksLeader.wire(),
		TimeoutMs: int32(DefaultAckTimeout.Milliseconds()),
		TopicData: []protocol.ProduceRequestTopic{{
			Name:          pub.t.name,
			PartitionData: []protocol.ProduceRequestPartition{{Index: pub.part.id, Records: pub.buf}},
		}},
	}
	f, err := c.RequestVersion(ctx, req, version)
	if err != nil {
		return err
	}
	m, err := f.Get(ctx)
	if err != nil {
		return err
	}
	resp, ok := m.(*protocol.ProduceResponse)
	if !ok {
		return fmt.Errorf("kafka: Produce response of type %T", m)
	}
	_, err = partitionResult(resp, pub.t.name, pub.part.id, 0)
	return err
}
