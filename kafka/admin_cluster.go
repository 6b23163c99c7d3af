package kafka

import (
	"context"
	"sort"

	"github.com/gregorkafka/gregor/protocol"
)

// ClusterDescription is what DescribeCluster reports.
type ClusterDescription struct {
	ClusterID string
	// ControllerID is the active controller in ZooKeeper mode; a KRaft broker
	// names some live broker instead (it forwards controller requests).
	ControllerID int32
	Brokers      []BrokerDescription // sorted by ID
}

// BrokerDescription is one broker of a ClusterDescription.
type BrokerDescription struct {
	ID     int32
	Host   string
	Port   int32
	Rack   string
	Fenced bool // fenced from the cluster (KRaft), from DescribeCluster v1
}

// DescribeCluster asks any broker for the cluster's id, controller and
// brokers (DescribeCluster, Kafka 2.8 on).
func (c *Cluster) DescribeCluster(ctx context.Context) (*ClusterDescription, error) {
	b, err := c.anyBroker(ctx)
	if err != nil {
		return nil, err
	}
	req := protocol.NewDescribeClusterRequest()
	resp, err := adminCall[*protocol.DescribeClusterResponse](ctx, b, req)
	if err != nil {
		return nil, err
	}
	if err := brokerError(resp.ErrorCode, resp.ErrorMessage); err != nil {
		return nil, err
	}
	d := &ClusterDescription{ClusterID: resp.ClusterID, ControllerID: resp.ControllerID}
	for _, rb := range resp.Brokers {
		d.Brokers = append(d.Brokers, BrokerDescription{ID: rb.BrokerID, Host: rb.Host, Port: rb.Port,
			Rack: derefStr(rb.Rack), Fenced: rb.IsFenced})
	}
	sort.Slice(d.Brokers, func(i, j int) bool { return d.Brokers[i].ID < d.Brokers[j].ID })
	return d, nil
}

// LogDir is one log directory of a broker as DescribeLogDirs reports it.
type LogDir struct {
	Path string
	// TotalBytes and UsableBytes describe the volume (-1 before Kafka 3.3).
	TotalBytes  int64
	UsableBytes int64
	// Partitions lists the replicas the directory holds.
	Partitions []LogDirReplica
	Err        error
}

// LogDirReplica is one replica in a LogDir.
type LogDirReplica struct {
	TopicPartition
	Size      int64
	OffsetLag int64
	// Future marks a replica being moved into this directory.
	Future bool
}

// BrokerLogDirs is one broker's answer to DescribeLogDirs: its directories
// sorted by path, or Err when the broker could not answer.
type BrokerLogDirs struct {
	Dirs []LogDir
	Err  error
}

// DescribeLogDirs describes the log directories of brokers (nil for every
// broker) and the replicas in them, of topics' partitions (nil for all).
// Each broker is asked itself; the result maps broker id to its answer.
func (c *Cluster) DescribeLogDirs(ctx context.Context, brokers []int32, topics map[string][]int32) (map[int32]BrokerLogDirs, error) {
	if c.closed.Load() {
		return nil, ErrClosed
	}
	if brokers == nil {
		if err := c.Update(ctx); err != nil {
			return nil, err
		}
		for _, b := range c.Brokers() {
			brokers = append(brokers, b.ID())
		}
	}
	req := protocol.NewDescribeLogDirsRequest()
	if topics != nil {
		req.Topics = []protocol.DescribeLogDirsRequestDescribableLogDirTopic{}
		for _, name := range sortedKeys(topics) {
			req.Topics = append(req.Topics, protocol.DescribeLogDirsRequestDescribableLogDirTopic{Topic: name, Partitions: topics[name]})
		}
	}
	out := map[int32]BrokerLogDirs{}
	for _, id := range brokers {
		b, err := c.brokerByID(ctx, id)
		if err != nil {
			out[id] = BrokerLogDirs{Err: err}
			continue
		}
		resp, err := adminCall[*protocol.DescribeLogDirsResponse](ctx, b, req)
		if err == nil {
			err = protocol.ErrorForCode(resp.ErrorCode)
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			out[id] = BrokerLogDirs{Err: err}
			continue
		}
		var ds []LogDir
		for _, r := range resp.Results {
			d := LogDir{Path: r.LogDir, TotalBytes: r.TotalBytes, UsableBytes: r.UsableBytes, Err: protocol.ErrorForCode(r.ErrorCode)}
			for _, rt := range r.Topics {
				for _, rp := range rt.Partitions {
					d.Partitions = append(d.Partitions, LogDirReplica{TopicPartition: TopicPartition{rt.Name, rp.PartitionIndex},
						Size: rp.PartitionSize, OffsetLag: rp.OffsetLag, Future: rp.IsFutureKey})
				}
			}
			sort.Slice(d.Partitions, func(i, j int) bool {
				a, b := d.Partitions[i], d.Partitions[j]
				return a.Topic < b.Topic || a.Topic == b.Topic && a.Partition < b.Partition
			})
			ds = append(ds, d)
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i].Path < ds[j].Path })
		out[id] = BrokerLogDirs{Dirs: ds}
	}
	return out, nil
}
