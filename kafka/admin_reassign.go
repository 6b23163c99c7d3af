package kafka

import (
	"context"
	"sort"

	"github.com/gregorkafka/gregor/protocol"
)

// AlterPartitionReassignments moves partitions' replicas to the given
// brokers (the first becomes the preferred leader); a nil list cancels the
// partition's ongoing reassignment. The controller runs it; the result has
// each partition's outcome.
func (c *Cluster) AlterPartitionReassignments(ctx context.Context, moves map[string]map[int32][]int32) (map[TopicPartition]error, error) {
	req := protocol.NewAlterPartitionReassignmentsRequest()
	req.TimeoutMs = c.adminTimeoutMs(ctx)
	for _, name := range sortedKeys(moves) {
		rt := protocol.AlterPartitionReassignmentsRequestReassignableTopic{Name: name}
		ps := make([]int32, 0, len(moves[name]))
		for p := range moves[name] {
			ps = append(ps, p)
		}
		sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
		for _, p := range ps {
			rt.Partitions = append(rt.Partitions, protocol.AlterPartitionReassignmentsRequestReassignablePartition{
				PartitionIndex: p, Replicas: moves[name][p]})
		}
		req.Topics = append(req.Topics, rt)
	}
	out := map[TopicPartition]error{}
	err := c.onControllerRetry(ctx, func(b *Broker) error {
		resp, err := adminCallHeld[*protocol.AlterPartitionReassignmentsResponse](ctx, b, req, req.TimeoutMs)
		if err != nil {
			return err
		}
		if err := brokerError(resp.ErrorCode, resp.ErrorMessage); err != nil {
			return err
		}
		for _, rt := range resp.Responses {
			for _, rp := range rt.Partitions {
				tp := TopicPartition{rt.Name, rp.PartitionIndex}
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

// Reassignment is a partition's ongoing reassignment.
type Reassignment struct {
	Replicas []int32 // the current replica set
	Adding   []int32
	Removing []int32
}

// ListPartitionReassignments lists the ongoing reassignments of partitions
// (nil for all), from the controller.
func (c *Cluster) ListPartitionReassignments(ctx context.Context, partitions map[string][]int32) (map[TopicPartition]Reassignment, error) {
	req := protocol.NewListPartitionReassignmentsRequest()
	req.TimeoutMs = c.adminTimeoutMs(ctx)
	if partitions != nil {
		req.Topics = []protocol.ListPartitionReassignmentsRequestTopics{}
		for _, name := range sortedKeys(partitions) {
			req.Topics = append(req.Topics, protocol.ListPartitionReassignmentsRequestTopics{Name: name, PartitionIndexes: partitions[name]})
		}
	}
	out := map[TopicPartition]Reassignment{}
	err := c.onControllerRetry(ctx, func(b *Broker) error {
		resp, err := adminCallHeld[*protocol.ListPartitionReassignmentsResponse](ctx, b, req, req.TimeoutMs)
		if err != nil {
			return err
		}
		if err := brokerError(resp.ErrorCode, resp.ErrorMessage); err != nil {
			return err
		}
		for _, rt := range resp.Topics {
			for _, rp := range rt.Partitions {
				out[TopicPartition{rt.Name, rp.PartitionIndex}] = Reassignment{
					Replicas: rp.Replicas, Adding: rp.AddingReplicas, Removing: rp.RemovingReplicas}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
