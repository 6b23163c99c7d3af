package kafka

import (
	"context"
	"errors"

	"github.com/gregorkafka/gregor/protocol"
)

// CreatePartitions raises topics' partition counts to the given totals; the
// controller places the new partitions. It returns each topic's outcome (nil
// for success; errors.Is(err, protocol.ErrInvalidPartitions) for a count not
// above the current one) and, once a topic succeeded, waits until the
// client's metadata shows the new partitions led.
func (c *Cluster) CreatePartitions(ctx context.Context, totals map[string]int32) (map[string]error, error) {
	out := make(map[string]error, len(totals))
	if len(totals) == 0 {
		return out, nil
	}
	req := protocol.NewCreatePartitionsRequest()
	req.TimeoutMs = c.adminTimeoutMs(ctx)
	for _, name := range sortedKeys(totals) {
		req.Topics = append(req.Topics, protocol.CreatePartitionsRequestTopic{Name: name, Count: totals[name]})
	}
	err := c.onControllerRetry(ctx, func(b *Broker) error {
		resp, err := adminCallHeld[*protocol.CreatePartitionsResponse](ctx, b, req, req.TimeoutMs)
		if err != nil {
			return err
		}
		var moved error
		for i := range resp.Results {
			r := &resp.Results[i]
			out[r.Name] = brokerError(r.ErrorCode, r.ErrorMessage)
			if errors.Is(out[r.Name], protocol.ErrNotController) {
				moved = out[r.Name]
			}
		}
		return moved
	})
	if err != nil && !errors.Is(err, protocol.ErrNotController) {
		return nil, err
	}
	var done []string
	for _, name := range sortedKeys(totals) {
		e, ok := out[name]
		switch {
		case !ok:
			out[name] = errors.New("kafka: missing from the broker's answer")
		case e == nil:
			done = append(done, name)
		}
	}
	if len(done) > 0 {
		err := c.waitTopics(ctx, done, func(mt *protocol.MetadataResponseTopic) bool {
			if mt.ErrorCode != 0 || len(mt.Partitions) < int(totals[*mt.Name]) {
				return false
			}
			for i := range mt.Partitions {
				if mt.Partitions[i].LeaderID < 0 {
					return false
				}
			}
			return true
		})
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// DeletedRecords is the outcome of DeleteRecords for one partition.
type DeletedRecords struct {
	// LowWatermark is the partition's first offset after the deletion.
	LowWatermark int64
	Err          error
}

// DeleteRecords deletes the records of partitions before the given offsets
// (-1 for the high watermark: everything). Each partition's request goes to
// its leader.
func (c *Cluster) DeleteRecords(ctx context.Context, before map[string]map[int32]int64) (map[TopicPartition]DeletedRecords, error) {
	if c.closed.Load() {
		return nil, ErrClosed
	}
	parts := map[string][]int32{}
	for t, ps := range before {
		for p := range ps {
			parts[t] = append(parts[t], p)
		}
	}
	byLeader, failed := c.leadersOf(ctx, parts)
	out := make(map[TopicPartition]DeletedRecords, len(failed))
	for tp, err := range failed {
		out[tp] = DeletedRecords{LowWatermark: -1, Err: err}
	}
	timeoutMs := c.adminTimeoutMs(ctx)
	for b, topics := range byLeader {
		req := protocol.NewDeleteRecordsRequest()
		req.TimeoutMs = timeoutMs
		for _, name := range sortedKeys(topics) {
			rt := protocol.DeleteRecordsRequestTopic{Name: name}
			for _, p := range topics[name] {
				rt.Partitions = append(rt.Partitions, protocol.DeleteRecordsRequestPartition{PartitionIndex: p, Offset: before[name][p]})
			}
			req.Topics = append(req.Topics, rt)
		}
		resp, err := adminCallHeld[*protocol.DeleteRecordsResponse](ctx, b, req, req.TimeoutMs)
		for name, ps := range topics {
			for _, p := range ps {
				tp := TopicPartition{name, p}
				out[tp] = DeletedRecords{LowWatermark: -1, Err: partitionErr(tp, errOr(err, errors.New("kafka: missing from the broker's answer")))}
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
				out[tp] = DeletedRecords{LowWatermark: rp.LowWatermark, Err: partitionErr(tp, protocol.ErrorForCode(rp.ErrorCode))}
			}
		}
	}
	return out, nil
}

func errOr(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}

// ElectionType chooses which leader ElectLeaders elects.
type ElectionType int8

// Election types, with the protocol's values.
const (
	// ElectPreferred moves leadership to the first replica in the list.
	ElectPreferred ElectionType = 0
	// ElectUnclean lets an out-of-sync replica lead a partition without an
	// in-sync leader, losing what only the old leader had.
	ElectUnclean ElectionType = 1
)

// ElectLeaders asks the controller to elect leaders for partitions (nil for
// every partition that needs one). It returns each partition's outcome; a
// partition whose leader already is the one the election would pick reports
// errors.Is(err, protocol.ErrElectionNotNeeded).
func (c *Cluster) ElectLeaders(ctx context.Context, typ ElectionType, partitions map[string][]int32) (map[TopicPartition]error, error) {
	req := protocol.NewElectLeadersRequest()
	req.ElectionType = int8(typ)
	req.TimeoutMs = c.adminTimeoutMs(ctx)
	if partitions != nil {
		req.TopicPartitions = []protocol.ElectLeadersRequestTopicPartitions{}
		for _, name := range sortedKeys(partitions) {
			req.TopicPartitions = append(req.TopicPartitions,
				protocol.ElectLeadersRequestTopicPartitions{Topic: name, Partitions: partitions[name]})
		}
	}
	out := map[TopicPartition]error{}
	err := c.onControllerRetry(ctx, func(b *Broker) error {
		resp, err := adminCallHeld[*protocol.ElectLeadersResponse](ctx, b, req, req.TimeoutMs)
		if err != nil {
			return err
		}
		if err := protocol.ErrorForCode(resp.ErrorCode); err != nil {
			return err
		}
		for _, rt := range resp.ReplicaElectionResults {
			for _, rp := range rt.PartitionResult {
				tp := TopicPartition{rt.Topic, rp.PartitionID}
				out[tp] = partitionErr(tp, brokerError(rp.ErrorCode, rp.ErrorMessage))
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
