package kafka

import (
	"log/slog"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler/goroutine"
	"github.com/gregorkafka/gregor/protocol"
)

// offlineCluster is a Cluster that never dials: the model tests feed it
// metadata responses directly.
func offlineCluster(t testing.TB, cfg Config) *Cluster {
	t.Helper()
	cfg.Logger = slog.New(slog.DiscardHandler)
	cfg, err := cfg.withDefaults()
	require.NoError(t, err)
	h := goroutine.New()
	t.Cleanup(func() { h.Close() })
	return newCluster(cfg, h)
}

// md builds a metadata response.
type md struct {
	brokers    []int32
	controller int32
	topics     []mdTopic
}

type mdTopic struct {
	name     string
	code     int16
	internal bool
	parts    []mdPart
}

type mdPart struct {
	id       int32
	leader   int32
	replicas []int32
}

func (m md) response() *protocol.MetadataResponse {
	resp := protocol.NewMetadataResponse()
	cid := "test-cluster"
	resp.ClusterID = &cid
	resp.ControllerID = m.controller
	for _, id := range m.brokers {
		resp.Brokers = append(resp.Brokers, protocol.MetadataResponseBroker{NodeID: id, Host: "10.0.0." + string(rune('0'+id)), Port: 9092})
	}
	for _, t := range m.topics {
		name := t.name
		mt := protocol.MetadataResponseTopic{Name: &name, ErrorCode: t.code, IsInternal: t.internal}
		for _, p := range t.parts {
			mt.Partitions = append(mt.Partitions, protocol.MetadataResponsePartition{
				PartitionIndex: p.id, LeaderID: p.leader, LeaderEpoch: 1, ReplicaNodes: p.replicas, IsrNodes: p.replicas,
			})
		}
		resp.Topics = append(resp.Topics, mt)
	}
	return resp
}

func parts(n int, leader func(i int32) int32) []mdPart {
	out := make([]mdPart, n)
	for i := range out {
		id := int32(i)
		out[i] = mdPart{id: id, leader: leader(id), replicas: []int32{leader(id)}}
	}
	return out
}

func brokerIDs(bs []*Broker) []int32 {
	ids := make([]int32, len(bs))
	for i, b := range bs {
		ids[i] = b.ID()
	}
	return ids
}

func TestApplyBrokersAndTopics(t *testing.T) {
	c := offlineCluster(t, Config{})
	c.apply(md{
		brokers:    []int32{3, 1, 2},
		controller: 2,
		topics: []mdTopic{
			{name: "orders", parts: parts(3, func(i int32) int32 { return i + 1 })},
		},
	}.response(), false)

	assert.Equal(t, []int32{1, 2, 3}, brokerIDs(c.Brokers()), "sorted by id")
	assert.Equal(t, "test-cluster", c.ClusterID())
	require.NotNil(t, c.Controller())
	assert.Equal(t, int32(2), c.Controller().ID())
	assert.Equal(t, "10.0.0.1:9092", c.Broker(1).Addr())

	topic := c.state.Load().topics["orders"]
	require.NotNil(t, topic)
	require.Len(t, topic.Partitions(), 3)
	for i, p := range topic.Partitions() {
		assert.Equal(t, int32(i), p.ID())
		assert.Same(t, c.Broker(int32(i)+1), p.Leader())
		assert.Same(t, topic, p.Topic())
	}
	assert.Nil(t, topic.Partition(3))
	assert.Equal(t, `topic "orders" (3 partitions)`, topic.String())
	assert.Equal(t, "orders/1 (leader 2)", topic.Partition(1).String())
	assert.Equal(t, "broker 1 (10.0.0.1:9092)", c.Broker(1).String())
}

func TestApplyLeaderMoveKeepsIdentity(t *testing.T) {
	c := offlineCluster(t, Config{})
	c.apply(md{brokers: []int32{1, 2}, topics: []mdTopic{{name: "a", parts: parts(2, func(int32) int32 { return 1 })}}}.response(), false)
	topic := c.state.Load().topics["a"]
	p0 := topic.Partition(0)
	b1, b2 := c.Broker(1), c.Broker(2)
	require.Same(t, b1, p0.Leader())

	c.apply(md{brokers: []int32{1, 2}, topics: []mdTopic{{name: "a", parts: parts(2, func(int32) int32 { return 2 })}}}.response(), false)
	assert.Same(t, topic, c.state.Load().topics["a"], "same *Topic")
	assert.Same(t, p0, topic.Partition(0), "same *Partition")
	assert.Same(t, b2, p0.Leader(), "leader moved")
	assert.Same(t, b1, c.Broker(1), "same *Broker")
	assert.Equal(t, int32(2), p0.LeaderID())

	// No leader during an election.
	c.apply(md{brokers: []int32{1, 2}, topics: []mdTopic{{name: "a", parts: parts(2, func(int32) int32 { return -1 })}}}.response(), false)
	assert.Nil(t, p0.Leader())
	assert.Equal(t, int32(-1), p0.LeaderID())
	assert.Equal(t, "a/0 (no leader)", p0.String())
}

func TestApplyBrokerRemovedAndBack(t *testing.T) {
	c := offlineCluster(t, Config{})
	c.apply(md{brokers: []int32{1, 2, 3}, topics: []mdTopic{
		{name: "a", parts: parts(1, func(int32) int32 { return 3 })},
		{name: "b", parts: parts(1, func(int32) int32 { return 3 })},
	}}.response(), false)
	b3 := c.Broker(3)
	pb := c.state.Load().topics["b"].Partition(0)
	require.Same(t, b3, pb.Leader())

	// Broker 3 leaves; the answer covers topic a only (a partial refresh).
	res := c.apply(md{brokers: []int32{1, 2}, topics: []mdTopic{
		{name: "a", parts: parts(1, func(int32) int32 { return 1 })},
	}}.response(), false)
	assert.Equal(t, []*Broker{b3}, res.gone)
	assert.Nil(t, c.Broker(3))
	assert.Equal(t, []int32{1, 2}, brokerIDs(c.Brokers()))
	assert.False(t, b3.live.Load())
	assert.Nil(t, pb.Leader(), "leader that left is not handed out, even for a topic not in the answer")
	assert.Equal(t, int32(3), pb.LeaderID())
	assert.True(t, c.state.Load().topics["b"].Exists(), "a partial answer deletes nothing")

	// Broker 3 comes back at a new address: same *Broker, new address.
	resp := md{brokers: []int32{1, 2, 3}}.response()
	resp.Brokers[2].Host, resp.Brokers[2].Port = "10.9.9.9", 9093
	res = c.apply(resp, false)
	assert.Empty(t, res.gone)
	assert.Same(t, b3, c.Broker(3))
	assert.Equal(t, "10.9.9.9:9093", b3.Addr())
	assert.Equal(t, "10.9.9.9", b3.Host())
	assert.Equal(t, int32(9093), b3.Port())
	assert.Same(t, b3, pb.Leader(), "relinked")
}

func TestApplyTopicsAddedAndRemoved(t *testing.T) {
	c := offlineCluster(t, Config{})
	one := func(int32) int32 { return 1 }
	c.apply(md{brokers: []int32{1}, topics: []mdTopic{
		{name: "a", parts: parts(1, one)},
		{name: "b", parts: parts(1, one)},
	}}.response(), true)
	a, b := c.state.Load().topics["a"], c.state.Load().topics["b"]
	assert.Equal(t, []string{"a", "b"}, c.knownTopics())

	// A full listing without b deletes it and adds c.
	c.apply(md{brokers: []int32{1}, topics: []mdTopic{
		{name: "a", parts: parts(1, one)},
		{name: "c", parts: parts(2, one)},
	}}.response(), true)
	assert.Equal(t, []string{"a", "c"}, c.knownTopics())
	assert.False(t, b.Exists())
	assert.Empty(t, b.Partitions())
	assert.Equal(t, `topic "b" (deleted)`, b.String())
	assert.True(t, a.Exists())

	// A partial answer saying UNKNOWN_TOPIC_OR_PARTITION deletes too.
	c.apply(md{brokers: []int32{1}, topics: []mdTopic{
		{name: "a", code: protocol.ErrUnknownTopicOrPartition.Code},
	}}.response(), false)
	assert.False(t, a.Exists())
	assert.Equal(t, []string{"c"}, c.knownTopics())

	// Recreated: the same *Topic comes back.
	c.apply(md{brokers: []int32{1}, topics: []mdTopic{{name: "b", parts: parts(4, one)}}}.response(), false)
	assert.Same(t, b, c.state.Load().topics["b"])
	assert.True(t, b.Exists())
	assert.Len(t, b.Partitions(), 4)

	// Other errors (say, authorization) leave the model alone.
	c.apply(md{brokers: []int32{1}, topics: []mdTopic{
		{name: "c", code: protocol.ErrTopicAuthorizationFailed.Code},
	}}.response(), false)
	assert.True(t, c.state.Load().topics["c"].Exists())
}

func TestApplyPartitionCountChange(t *testing.T) {
	c := offlineCluster(t, Config{})
	one := func(int32) int32 { return 1 }
	c.apply(md{brokers: []int32{1}, topics: []mdTopic{{name: "a", parts: parts(2, one)}}}.response(), false)
	topic := c.state.Load().topics["a"]
	before := topic.Partitions()

	// Partitions arrive out of order; the topic keeps them sorted.
	resp := md{brokers: []int32{1}, topics: []mdTopic{{name: "a", parts: parts(5, one)}}}.response()
	ps := resp.Topics[0].Partitions
	ps[0], ps[4] = ps[4], ps[0]
	c.apply(resp, false)
	after := topic.Partitions()
	require.Len(t, after, 5)
	for i, p := range after {
		assert.Equal(t, int32(i), p.ID())
	}
	assert.Same(t, before[0], after[0])
	assert.Same(t, before[1], after[1])
}

func TestApplyReplicasAreCopies(t *testing.T) {
	c := offlineCluster(t, Config{})
	resp := md{brokers: []int32{1, 2, 3}, topics: []mdTopic{{name: "a", parts: []mdPart{{id: 0, leader: 2, replicas: []int32{2, 3, 1}}}}}}.response()
	resp.Topics[0].Partitions[0].IsrNodes = []int32{2, 3}
	resp.Topics[0].Partitions[0].OfflineReplicas = []int32{1}
	c.apply(resp, false)
	p := c.state.Load().topics["a"].Partition(0)
	assert.Equal(t, []int32{2, 3, 1}, p.Replicas())
	assert.Equal(t, []int32{2, 3}, p.ISR())
	assert.Equal(t, []int32{1}, p.OfflineReplicas())
	assert.Equal(t, int32(1), p.LeaderEpoch())

	// Neither the response nor a caller's slice aliases the model.
	resp.Topics[0].Partitions[0].ReplicaNodes[0] = 99
	r := p.Replicas()
	r[1] = 99
	assert.Equal(t, []int32{2, 3, 1}, p.Replicas())
}

func TestInternalTopicVisibility(t *testing.T) {
	resp := md{brokers: []int32{1}, topics: []mdTopic{
		{name: "__consumer_offsets", internal: true, parts: parts(1, func(int32) int32 { return 1 })},
	}}.response()

	hidden := offlineCluster(t, Config{})
	hidden.apply(resp, true)
	_, err := hidden.Topic(t.Context(), "__consumer_offsets")
	var te *TopicError
	require.ErrorAs(t, err, &te)
	assert.ErrorIs(t, err, ErrInternalTopic)
	assert.Equal(t, "__consumer_offsets", te.Topic)

	shown := offlineCluster(t, Config{IncludeInternalTopics: true})
	shown.apply(resp, true)
	topic, err := shown.Topic(t.Context(), "__consumer_offsets")
	require.NoError(t, err)
	assert.True(t, topic.Internal())
}

// Readers of the model run concurrently with refreshes; -race checks the
// snapshots are safe.
func TestApplyConcurrentReaders(t *testing.T) {
	c := offlineCluster(t, Config{})
	c.apply(md{brokers: []int32{1, 2}, topics: []mdTopic{{name: "a", parts: parts(3, func(int32) int32 { return 1 })}}}.response(), false)
	topic := c.state.Load().topics["a"]
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				for _, p := range topic.Partitions() {
					if l := p.Leader(); l != nil {
						_ = l.Addr()
					}
					_ = p.ISR()
				}
				_ = c.Brokers()
				_ = topic.String()
			}
		}()
	}
	for i := range 200 {
		leader := int32(i%2 + 1)
		c.apply(md{brokers: []int32{1, 2}, topics: []mdTopic{{name: "a", parts: parts(3+i%2, func(int32) int32 { return leader })}}}.response(), false)
	}
	close(stop)
	wg.Wait()
	assert.Same(t, c.Broker(2), topic.Partition(0).Leader())
}
