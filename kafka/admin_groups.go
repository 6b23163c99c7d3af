package kafka

import (
	"context"
	"errors"

	"github.com/gregorkafka/gregor/protocol"
)

// DeleteGroups deletes consumer groups, each through its coordinator. A
// group must have no members (errors.Is(err, protocol.ErrNonEmptyGroup)
// otherwise); its committed offsets go with it. It returns each group's
// outcome, nil for success.
func (c *Cluster) DeleteGroups(ctx context.Context, groups ...string) (map[string]error, error) {
	if c.closed.Load() {
		return nil, ErrClosed
	}
	out := make(map[string]error, len(groups))
	for _, g := range groups {
		err := c.onCoordinator(ctx, g, func(b *Broker) error {
			req := protocol.NewDeleteGroupsRequest()
			req.GroupsNames = []string{g}
			resp, err := adminCall[*protocol.DeleteGroupsResponse](ctx, b, req)
			if err != nil {
				return err
			}
			for _, r := range resp.Results {
				if r.GroupID == g {
					return protocol.ErrorForCode(r.ErrorCode)
				}
			}
			return errors.New("kafka: missing from the broker's answer")
		})
		if err != nil && ctx.Err() != nil {
			return nil, err
		}
		if err != nil {
			err = groupOpError("deleting group", g, err)
		}
		out[g] = err
	}
	return out, nil
}

// DeleteGroupOffsets deletes a group's committed offsets for partitions
// (OffsetDelete) through its coordinator. The group must not be subscribed
// to the topics: a partition of a topic it consumes reports
// errors.Is(err, protocol.ErrGroupSubscribedToTopic). The error is for the
// group as a whole (e.g. ErrGroupIDNotFound); the map has each partition's
// outcome.
func (c *Cluster) DeleteGroupOffsets(ctx context.Context, group string, partitions map[string][]int32) (map[TopicPartition]error, error) {
	if c.closed.Load() {
		return nil, ErrClosed
	}
	req := protocol.NewOffsetDeleteRequest()
	req.GroupID = group
	for _, name := range sortedKeys(partitions) {
		rt := protocol.OffsetDeleteRequestTopic{Name: name}
		for _, p := range partitions[name] {
			rt.Partitions = append(rt.Partitions, protocol.OffsetDeleteRequestPartition{PartitionIndex: p})
		}
		req.Topics = append(req.Topics, rt)
	}
	var out map[TopicPartition]error
	err := c.onCoordinator(ctx, group, func(b *Broker) error {
		resp, err := adminCall[*protocol.OffsetDeleteResponse](ctx, b, req)
		if err != nil {
			return err
		}
		if err := protocol.ErrorForCode(resp.ErrorCode); err != nil {
			return err
		}
		out = map[TopicPartition]error{}
		for _, rt := range resp.Topics {
			for _, rp := range rt.Partitions {
				tp := TopicPartition{rt.Name, rp.PartitionIndex}
				out[tp] = partitionErr(tp, protocol.ErrorForCode(rp.ErrorCode))
			}
		}
		return nil
	})
	if err != nil {
		return nil, groupOpError("deleting the offsets of group", group, err)
	}
	return out, nil
}
