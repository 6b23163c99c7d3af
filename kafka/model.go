package kafka

import (
	"sort"

	"github.com/gregorkafka/gregor/protocol"
)

// clusterState is an immutable snapshot of the cluster model; apply builds
// a new one and swaps it in, so readers never lock.
type clusterState struct {
	brokers    map[int32]*Broker // live brokers by id
	sorted     []*Broker         // the same, by id
	topics     map[string]*Topic // topics that exist, by name
	clusterID  string
	controller int32 // -1 when unknown
}

func emptyState() *clusterState {
	return &clusterState{brokers: map[int32]*Broker{}, topics: map[string]*Topic{}, controller: -1}
}

// applyResult is what apply found changed that needs I/O afterwards.
type applyResult struct {
	gone []*Broker // brokers no longer in the cluster; close their connections
}

// apply merges a metadata response into the model. all says the request
// asked for every topic, so topics missing from the answer were deleted.
//
// The model keeps one *Broker per id and one *Topic per name for the
// client's lifetime (allBrokers, allTopics) and updates them in place, so
// values handed out stay valid and fresh; a broker or topic that comes back
// after leaving gets its old value back.
func (c *Cluster) apply(md *protocol.MetadataResponse, all bool) applyResult {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.state.Load()
	next := &clusterState{
		brokers:    make(map[int32]*Broker, len(md.Brokers)),
		topics:     make(map[string]*Topic, len(old.topics)),
		controller: md.ControllerID,
	}
	if md.ClusterID != nil {
		next.clusterID = *md.ClusterID
	}

	var res applyResult
	for i := range md.Brokers {
		mb := &md.Brokers[i]
		rack := ""
		if mb.Rack != nil {
			rack = *mb.Rack
		}
		addr := newBrokerAddr(mb.Host, mb.Port, rack)
		b := c.allBrokers[mb.NodeID]
		if b == nil {
			b = newBroker(c, mb.NodeID, addr)
			c.allBrokers[mb.NodeID] = b
		} else {
			b.setAddr(addr)
		}
		if _, was := old.brokers[mb.NodeID]; !was {
			c.log.Debug("kafka: broker joined", "broker", b.id, "addr", b.Addr())
		}
		b.live.Store(true)
		next.brokers[b.id] = b
		next.sorted = append(next.sorted, b)
	}
	sort.Slice(next.sorted, func(i, j int) bool { return next.sorted[i].id < next.sorted[j].id })
	for id, b := range old.brokers {
		if _, ok := next.brokers[id]; !ok {
			c.log.Debug("kafka: broker left", "broker", id, "addr", b.Addr())
			b.live.Store(false)
			res.gone = append(res.gone, b)
		}
	}

	for name, t := range old.topics {
		next.topics[name] = t
	}
	seen := make(map[string]bool, len(md.Topics))
	for i := range md.Topics {
		mt := &md.Topics[i]
		if mt.Name == nil {
			continue // asked by id; gregor asks by name
		}
		name := *mt.Name
		seen[name] = true
		switch code := mt.ErrorCode; {
		case code == 0, code == protocol.ErrLeaderNotAvailable.Code && len(mt.Partitions) > 0:
			t := c.allTopics[name]
			if t == nil {
				t = newTopic(c, name)
				c.allTopics[name] = t
			} else if !t.Exists() {
				c.log.Debug("kafka: topic reappeared", "topic", name)
			}
			c.logLeaderMoves(t, mt)
			t.update(mt, next.brokers)
			next.topics[name] = t
		case code == protocol.ErrUnknownTopicOrPartition.Code:
			c.dropTopic(next, name)
		}
	}
	brokersChanged := !sameBrokers(old, next)
	for name, t := range next.topics {
		switch {
		case seen[name]:
		case all:
			c.dropTopic(next, name)
		case brokersChanged:
			// Not in this answer, but its leaders may have left or come back.
			t.relink(next.brokers)
		}
	}
	c.state.Store(next)
	return res
}

func (c *Cluster) dropTopic(s *clusterState, name string) {
	if t := s.topics[name]; t != nil {
		c.log.Debug("kafka: topic deleted", "topic", name)
		t.markDeleted()
		delete(s.topics, name)
	}
}

// sameBrokers reports whether two snapshots hold the same *Broker values.
func sameBrokers(a, b *clusterState) bool {
	if len(a.brokers) != len(b.brokers) {
		return false
	}
	for id, x := range a.brokers {
		if b.brokers[id] != x {
			return false
		}
	}
	return true
}

func (c *Cluster) logLeaderMoves(t *Topic, mt *protocol.MetadataResponseTopic) {
	for i := range mt.Partitions {
		mp := &mt.Partitions[i]
		if p := t.Partition(mp.PartitionIndex); p != nil {
			if was := p.LeaderID(); was != mp.LeaderID {
				c.log.Debug("kafka: partition leader changed", "topic", t.name, "partition", mp.PartitionIndex,
					"from", was, "to", mp.LeaderID)
			}
		}
	}
	if n, was := len(mt.Partitions), len(t.state.Load().partitions); was != 0 && n != was {
		c.log.Debug("kafka: partition count changed", "topic", t.name, "from", was, "to", n)
	}
}
