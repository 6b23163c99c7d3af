package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"sort"

	"github.com/gregorkafka/gregor/kafka"
)

var printConsumerLagCommand = &command{
	name:    "print_consumer_lag",
	aliases: []string{"print-consumer-lag", "lag"},
	args:    "TOPIC GROUP",
	summary: "Print a group's lag on each partition of a topic",
	details: `Lag is the latest offset (the offset the next record will get) minus the
group's committed offset (the next offset it will read). Partitions the group
never committed show "-" and count for nothing in the total.

Consumer ID and Client ID name the member the partition is assigned to. For
groups whose consumers register in ZooKeeper (pykafka's BalancedConsumer,
which keeps its offsets in Kafka), give --zookeeper to read the owners from
/consumers/GROUP/owners.`,
	examples: []string{
		"print_consumer_lag orders billing",
		"print_consumer_lag orders legacy-group --zookeeper zk1:2181/kafka",
		"print-consumer-lag orders billing -o json",
	},
	minArgs: 2, maxArgs: 2,
	setup: func(*flag.FlagSet) action { return topicLag },
}

var groupLagCommand = &command{
	name:    "group_lag",
	aliases: []string{"group-lag"},
	args:    "GROUP",
	summary: "Print a group's lag on every topic it consumes",
	details: `Like print_consumer_lag, for every topic the group committed offsets for or
has partitions of assigned.`,
	examples: []string{
		"group_lag billing",
		"group-lag billing -o json",
	},
	minArgs: 1, maxArgs: 1,
	setup: func(*flag.FlagSet) action { return groupLag },
}

type lagReport struct {
	Topic      string     `json:"topic,omitempty"`
	Group      string     `json:"group"`
	State      string     `json:"state"`
	Partitions []lagEntry `json:"partitions"`
	TotalLag   int64      `json:"total_lag"`

	allTopics bool // group_lag: a Topic column
}

type lagEntry struct {
	Topic         string `json:"topic"`
	Partition     int32  `json:"partition"`
	Lag           *int64 `json:"lag"`
	LatestOffset  *int64 `json:"latest_offset"`
	CurrentOffset *int64 `json:"current_offset"`
	ConsumerID    string `json:"consumer_id"`
	ClientID      string `json:"client_id"`
}

// groupView is what lag reports need to know about a group.
type groupView struct {
	desc      *groupDescription
	zk        *zkGroup // nil without --zookeeper
	committed kafka.GroupOffsets
}

// loadGroup describes the group, reads its ZooKeeper registrations with
// --zookeeper, and fetches its committed offsets (of topics, or all). A
// group that none of those know is an error.
func loadGroup(ctx context.Context, e *env, group string, topics map[string][]int32) (*groupView, error) {
	cl, err := e.connect(ctx)
	if err != nil {
		return nil, err
	}
	v := &groupView{}
	if v.desc, err = describeGroup(ctx, cl, group); err != nil {
		return nil, err
	}
	if e.g.zookeeper != "" {
		if v.zk, err = readZooKeeperGroup(ctx, e.g.zookeeper, group, e.log); err != nil {
			return nil, err
		}
	}
	if v.committed, err = cl.Cluster().FetchGroupOffsets(ctx, group, topics); err != nil {
		return nil, err
	}
	if !v.desc.exists() && (v.zk == nil || !v.zk.exists) && len(v.committed) == 0 {
		return nil, unknownGroup(group)
	}
	return v, nil
}

// owner names the consumer a partition is assigned to: a Kafka-managed
// member, or the ZooKeeper registration that owns it.
func (v *groupView) owner(topic string, partition int32) (consumerID, clientID string) {
	if m := v.desc.owners(topic)[partition]; m != nil {
		return m.MemberID, m.ClientID
	}
	if v.zk != nil {
		return v.zk.owners[topic][partition], ""
	}
	return "", ""
}

func (v *groupView) state() string {
	if !v.desc.exists() && v.zk != nil && v.zk.exists {
		return "ZooKeeper"
	}
	return v.desc.State
}

// addTopic appends a row per partition of parts, from the library's lag.
func (r *lagReport) addTopic(v *groupView, topic string, parts []int32, lag kafka.GroupLag) {
	for _, id := range parts {
		row := lagEntry{Topic: topic, Partition: id}
		l, ok := lag[topic][id]
		if ok && l.End >= 0 {
			row.LatestOffset = int64p(l.End)
		}
		if ok && l.Committed >= 0 {
			row.CurrentOffset = int64p(l.Committed)
		}
		if ok && l.Lag >= 0 {
			row.Lag = int64p(l.Lag)
			r.TotalLag += l.Lag
		}
		row.ConsumerID, row.ClientID = v.owner(topic, id)
		r.Partitions = append(r.Partitions, row)
	}
}

func topicLag(ctx context.Context, e *env, args []string) (report, error) {
	topic, group := args[0], args[1]
	t, err := e.topic(ctx, topic)
	if err != nil {
		return nil, err
	}
	parts := make([]int32, 0)
	for _, p := range t.Partitions() {
		parts = append(parts, p.ID())
	}
	v, err := loadGroup(ctx, e, group, map[string][]int32{topic: parts})
	if err != nil {
		return nil, err
	}
	lag, err := e.client.Cluster().GroupLag(ctx, group, map[string][]int32{topic: parts})
	if err != nil {
		return nil, err
	}
	r := &lagReport{Topic: topic, Group: group, State: v.state(), Partitions: []lagEntry{}}
	r.addTopic(v, topic, parts, lag)
	return r, nil
}

func groupLag(ctx context.Context, e *env, args []string) (report, error) {
	group := args[0]
	v, err := loadGroup(ctx, e, group, nil)
	if err != nil {
		return nil, err
	}
	// Partitions with a commit, and those assigned to members.
	parts := map[string]map[int32]bool{}
	mark := func(topic string, id int32) {
		if parts[topic] == nil {
			parts[topic] = map[int32]bool{}
		}
		parts[topic][id] = true
	}
	for topic, offs := range v.committed {
		for id := range offs {
			mark(topic, id)
		}
	}
	for _, m := range v.desc.Members {
		for _, tp := range m.Assignment {
			for _, id := range tp.Partitions {
				mark(tp.Topic, id)
			}
		}
	}
	if v.zk != nil {
		for topic, owners := range v.zk.owners {
			for id := range owners {
				mark(topic, id)
			}
		}
	}
	topics := make([]string, 0, len(parts))
	for name := range parts {
		topics = append(topics, name)
	}
	sort.Strings(topics)

	ask := make(map[string][]int32, len(parts))
	for name, ids := range parts {
		ask[name] = sortedIDs(ids)
	}
	lag, err := e.client.Cluster().GroupLag(ctx, group, ask)
	if err != nil {
		return nil, err
	}
	r := &lagReport{Group: group, State: v.state(), Partitions: []lagEntry{}, allTopics: true}
	for _, name := range topics {
		r.addTopic(v, name, ask[name], lag)
	}
	return r, nil
}

func (r *lagReport) writeText(w io.Writer) error {
	header := []string{"Partition", "Lag", "Latest Offset", "Current Offset", "Consumer ID", "Client ID"}
	if r.allTopics {
		header = append([]string{"Topic"}, header...)
	}
	t := newTable(w, header...)
	for _, p := range r.Partitions {
		cells := []any{p.Partition, p.Lag, p.LatestOffset, p.CurrentOffset, p.ConsumerID, p.ClientID}
		if r.allTopics {
			cells = append([]any{p.Topic}, cells...)
		}
		t.row(cells...)
	}
	if err := t.flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\nTotal lag: %d\n", r.TotalLag)
	return err
}
