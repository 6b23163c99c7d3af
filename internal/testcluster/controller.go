package testcluster

import (
	"context"
	"errors"
	"fmt"

	"github.com/gregorkafka/gregor/protocol"
)

// ActiveController returns the id of the node that really acts as the controller: in KRaft mode the leader of
// the metadata quorum (DescribeQuorum; Metadata names a random broker there), in ZooKeeper mode the controller
// Metadata names.
func (c *Cluster) ActiveController(ctx context.Context) (int32, error) {
	if c.cfg.Mode != KRaft {
		md, err := c.Metadata(ctx, []string{})
		if err != nil {
			return -1, err
		}
		return md.ControllerID, nil
	}
	leader := int32(-1)
	err := c.anyBroker(ctx, func(rc *rawConn) error {
		req := protocol.NewDescribeQuorumRequest()
		req.Topics = []protocol.DescribeQuorumRequestTopicData{{
			TopicName:  "__cluster_metadata",
			Partitions: []protocol.DescribeQuorumRequestPartitionData{{PartitionIndex: 0}},
		}}
		m, _, err := rc.roundTrip(req)
		if err != nil {
			return err
		}
		resp := m.(*protocol.DescribeQuorumResponse)
		if err := protocol.ErrorForCode(resp.ErrorCode); err != nil {
			return err
		}
		if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
			return errors.New("testcluster: DescribeQuorum answer without the metadata partition")
		}
		p := resp.Topics[0].Partitions[0]
		if err := protocol.ErrorForCode(p.ErrorCode); err != nil {
			return err
		}
		leader = p.LeaderID
		return nil
	})
	if err == nil && leader < 0 {
		err = fmt.Errorf("testcluster: the metadata quorum has no leader")
	}
	return leader, err
}
