package kafka

import (
	"context"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gregorkafka/gregor/protocol"
)

// Partition is one partition of a Topic. Like Topic it is updated in place
// by metadata refreshes and is safe for concurrent use.
type Partition struct {
	id    int32
	topic *Topic

	state atomic.Pointer[partitionState]
}

// partitionState is an immutable snapshot; updates replace it whole.
type partitionState struct {
	leader      *Broker // nil when there is none or it is not a live broker
	leaderID    int32   // -1 when there is none
	leaderEpoch int32
	replicas    []int32
	isr         []int32
	offline     []int32
}

func newPartition(t *Topic, id int32) *Partition {
	p := &Partition{id: id, topic: t}
	p.state.Store(&partitionState{leaderID: -1, leaderEpoch: -1})
	return p
}

func newPartitionState(mp *protocol.MetadataResponsePartition, brokers map[int32]*Broker) *partitionState {
	return &partitionState{
		leader:      brokers[mp.LeaderID],
		leaderID:    mp.LeaderID,
		leaderEpoch: mp.LeaderEpoch,
		replicas:    slices.Clone(mp.ReplicaNodes),
		isr:         slices.Clone(mp.IsrNodes),
		offline:     slices.Clone(mp.OfflineReplicas),
	}
}

// ID returns the partition's id within its topic.
func (p *Partition) ID() int32 { return p.id }

// Topic returns the partition's topic.
func (p *Partition) Topic() *Topic { return p.topic }

// Leader returns the broker leading the partition, or nil while it has
// none (an election is under way) or its leader is not among the live
// brokers the client knows.
func (p *Partition) Leader() *Broker { return p.state.Load().leader }

// LeaderID returns the leader's broker id, or -1 when there is none.
func (p *Partition) LeaderID() int32 { return p.state.Load().leaderID }

// LeaderEpoch returns the leader's epoch, or -1 from brokers that predate
// leader epochs in metadata (Metadata v7).
func (p *Partition) LeaderEpoch() int32 { return p.state.Load().leaderEpoch }

// Replicas returns the ids of the brokers holding a replica, in assignment
// order (the first is the preferred leader). Look brokers up with
// Cluster.Broker; a replica on a broker that is down has no live *Broker,
// which is why these are ids.
func (p *Partition) Replicas() []int32 { return slices.Clone(p.state.Load().replicas) }

// ISR returns the ids of the in-sync replicas.
func (p *Partition) ISR() []int32 { return slices.Clone(p.state.Load().isr) }

// OfflineReplicas returns the ids of replicas the cluster reports offline.
func (p *Partition) OfflineReplicas() []int32 { return slices.Clone(p.state.Load().offline) }

// String returns "name/0 (leader 1)", for logs.
func (p *Partition) String() string {
	s := p.topic.name + "/" + strconv.Itoa(int(p.id))
	if id := p.LeaderID(); id >= 0 {
		return s + " (leader " + strconv.Itoa(int(id)) + ")"
	}
	return s + " (no leader)"
}

// EarliestOffset returns the partition's log start offset.
func (p *Partition) EarliestOffset(ctx context.Context) (int64, error) {
	return p.offset(ctx, timestampEarliest)
}

// LatestOffset returns the offset the next record produced to the
// partition will get (its high watermark).
func (p *Partition) LatestOffset(ctx context.Context) (int64, error) {
	return p.offset(ctx, timestampLatest)
}

// OffsetBefore returns the offset of the first record whose timestamp is
// at or after t, or LatestOffset if no record is that recent. See
// Topic.OffsetsBefore.
func (p *Partition) OffsetBefore(ctx context.Context, t time.Time) (int64, error) {
	m, err := p.topic.cl.offsetsBefore(ctx, p.topic, []int32{p.id}, t)
	return m[p.id], err
}

func (p *Partition) offset(ctx context.Context, ts int64) (int64, error) {
	m, err := p.topic.cl.listOffsets(ctx, p.topic, []int32{p.id}, ts)
	return m[p.id], err
}
