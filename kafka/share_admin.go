package kafka

import (
	"context"
	"fmt"

	"github.com/gregorkafka/gregor/protocol"
)

// ShareGroupStartOffsets returns, for each partition of topics the share
// group has started reading, its start offset: every record below it is
// done (accepted, rejected, or out of deliveries), and records from it on
// may still be delivered. -1 for a partition whose share state is not
// initialised yet. It asks the group's coordinator (DescribeShareGroupOffsets).
func (c *Cluster) ShareGroupStartOffsets(ctx context.Context, group string, topics ...string) (map[string]map[int32]int64, error) {
	req := protocol.NewDescribeShareGroupOffsetsRequest()
	g := protocol.DescribeShareGroupOffsetsRequestGroup{GroupID: group}
	for _, name := range topics {
		t, err := c.Topic(ctx, name)
		if err != nil {
			return nil, err
		}
		g.Topics = append(g.Topics, protocol.DescribeShareGroupOffsetsRequestTopic{TopicName: name, Partitions: t.partitionIDs()})
	}
	req.Groups = []protocol.DescribeShareGroupOffsetsRequestGroup{g}
	b, err := c.GroupCoordinator(ctx, group)
	if err != nil {
		return nil, err
	}
	resp, err := call[*protocol.DescribeShareGroupOffsetsResponse](ctx, b, groupConn(group), req, 0)
	if err != nil {
		c.invalidateCoordinatorOn(group, err)
		return nil, err
	}
	out := map[string]map[int32]int64{}
	for _, rg := range resp.Groups {
		if err := protocol.ErrorForCode(rg.ErrorCode); err != nil {
			c.invalidateCoordinatorOn(group, err)
			return nil, fmt.Errorf("kafka: share group %q offsets: %w", group, err)
		}
		for _, rt := range rg.Topics {
			for _, rp := range rt.Partitions {
				if err := protocol.ErrorForCode(rp.ErrorCode); err != nil {
					return nil, &PartitionError{Topic: rt.TopicName, Partition: rp.PartitionIndex, Err: err}
				}
				if out[rt.TopicName] == nil {
					out[rt.TopicName] = map[int32]int64{}
				}
				out[rt.TopicName][rp.PartitionIndex] = rp.StartOffset
			}
		}
	}
	return out, nil
}
