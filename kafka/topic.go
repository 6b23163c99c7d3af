package kafka

import (
	"context"
	"slices"
	"sort"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gregorkafka/gregor/protocol"
)

// Topic is a Kafka topic as the client last saw it. The Cluster keeps one
// *Topic per name and updates it in place on every metadata refresh, so a
// Topic held for a long time still reports fresh partitions and leaders.
// It is safe for concurrent use.
//
// Producers and consumers are made from a Topic, as in pykafka: Producer
// and SyncProducer send messages, Publish sends a list to one partition in
// order; SimpleConsumer reads partitions by itself, BalancedConsumer shares
// them with a consumer group, and Subscribe is a BalancedConsumer with
// settings for the common case.
type Topic struct {
	name string
	cl   *Cluster

	state atomic.Pointer[topicState]
}

// topicState is an immutable snapshot; updates replace it whole.
type topicState struct {
	id         protocol.UUID
	internal   bool
	deleted    bool
	partitions []*Partition // sorted by id
}

func newTopic(cl *Cluster, name string) *Topic {
	t := &Topic{name: name, cl: cl}
	t.state.Store(&topicState{})
	return t
}

// Name returns the topic's name.
func (t *Topic) Name() string { return t.name }

// ID returns the topic's id, or the zero UUID from brokers that predate
// topic ids (Metadata v10).
func (t *Topic) ID() protocol.UUID { return t.state.Load().id }

// Internal reports whether Kafka marks the topic internal (such as
// __consumer_offsets).
func (t *Topic) Internal() bool { return t.state.Load().internal }

// Exists reports whether the topic existed at the last metadata refresh
// that covered it. A Topic whose topic was deleted reports false and has
// no partitions; if the topic is created again, the same *Topic comes back
// to life.
func (t *Topic) Exists() bool { return !t.state.Load().deleted }

// Partitions returns the topic's partitions sorted by id.
func (t *Topic) Partitions() []*Partition {
	return slices.Clone(t.state.Load().partitions)
}

// Partition returns the partition with id, or nil if the topic has none.
func (t *Topic) Partition(id int32) *Partition {
	ps := t.state.Load().partitions
	i := sort.Search(len(ps), func(i int) bool { return ps[i].id >= id })
	if i < len(ps) && ps[i].id == id {
		return ps[i]
	}
	return nil
}

// String returns `topic "name" (3 partitions)`, for logs.
func (t *Topic) String() string {
	s := t.state.Load()
	if s.deleted {
		return "topic " + strconv.Quote(t.name) + " (deleted)"
	}
	return "topic " + strconv.Quote(t.name) + " (" + strconv.Itoa(len(s.partitions)) + " partitions)"
}

// EarliestOffsets returns the first offset still in the log (the log start
// offset) of every partition.
//
// Like every offset lookup it sends one ListOffsets request per leader
// broker, in parallel, covering that broker's partitions, and retries the
// partitions whose leader moved after refreshing metadata. The map holds
// every partition that succeeded; the error joins a *PartitionError for each
// one that did not.
func (t *Topic) EarliestOffsets(ctx context.Context) (map[int32]int64, error) {
	return t.cl.listOffsets(ctx, t, t.partitionIDs(), timestampEarliest)
}

// LatestOffsets returns, for every partition, the offset the next record
// produced to it will get: the high watermark, which is one past the last
// record consumers can read. See EarliestOffsets for how partial failures
// are reported.
func (t *Topic) LatestOffsets(ctx context.Context) (map[int32]int64, error) {
	return t.cl.listOffsets(ctx, t, t.partitionIDs(), timestampLatest)
}

// OffsetsBefore returns, for every partition, the offset of the first
// record whose timestamp is at or after t (ListOffsets by timestamp), or,
// when no record is that recent, the latest offset (the offset the next
// record will get). So a consumer starting from the result reads exactly
// the records stamped t or later. Times before the Unix epoch count as the
// epoch. Partial failures are reported as in EarliestOffsets.
func (t *Topic) OffsetsBefore(ctx context.Context, tm time.Time) (map[int32]int64, error) {
	return t.cl.offsetsBefore(ctx, t, t.partitionIDs(), tm)
}

func (t *Topic) partitionIDs() []int32 {
	ps := t.state.Load().partitions
	ids := make([]int32, len(ps))
	for i, p := range ps {
		ids[i] = p.id
	}
	return ids
}

// update replaces the topic's state with a metadata answer, reusing the
// *Partition of every partition id it already had.
func (t *Topic) update(mt *protocol.MetadataResponseTopic, brokers map[int32]*Broker) {
	old := t.state.Load()
	parts := make([]*Partition, 0, len(mt.Partitions))
	for i := range mt.Partitions {
		mp := &mt.Partitions[i]
		p := t.Partition(mp.PartitionIndex)
		if p == nil {
			p = newPartition(t, mp.PartitionIndex)
		}
		p.state.Store(newPartitionState(mp, brokers))
		parts = append(parts, p)
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i].id < parts[j].id })
	parts = slices.CompactFunc(parts, func(a, b *Partition) bool { return a.id == b.id })
	id := mt.TopicID
	if id.IsZero() {
		id = old.id
	}
	t.state.Store(&topicState{id: id, internal: mt.IsInternal, partitions: parts})
}

// relink points the partitions' leaders at the current *Broker values after
// the broker set changed without this topic being in the answer.
func (t *Topic) relink(brokers map[int32]*Broker) {
	for _, p := range t.state.Load().partitions {
		old := p.state.Load()
		if leader := brokers[old.leaderID]; leader != old.leader {
			s := *old
			s.leader = leader
			p.state.Store(&s)
		}
	}
}

// markDeleted records that the cluster no longer has the topic.
func (t *Topic) markDeleted() {
	old := t.state.Load()
	t.state.Store(&topicState{id: old.id, internal: old.internal, deleted: true})
}
