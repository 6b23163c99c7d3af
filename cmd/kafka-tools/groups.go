package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
)

var listGroupsCommand = &command{
	name:    "list_groups",
	aliases: []string{"list-groups", "groups"},
	summary: "List the consumer groups of every broker",
	details: "State and Type are shown where the brokers report them (Kafka 2.6+ and 4.0+).",
	examples: []string{
		"list_groups",
		"list-groups -o json",
	},
	maxArgs: 0,
	setup: func(*flag.FlagSet) action {
		return func(ctx context.Context, e *env, _ []string) (report, error) {
			cl, err := e.connect(ctx)
			if err != nil {
				return nil, err
			}
			groups, err := listGroups(ctx, cl)
			if err != nil {
				return nil, err
			}
			return &groupsReport{Groups: nonNil(groups)}, nil
		}
	},
}

type groupsReport struct {
	Groups []groupListing `json:"groups"`
}

func (r *groupsReport) writeText(w io.Writer) error {
	t := newTable(w, "GroupId", "ProtocolType", "State", "Type", "Coordinator")
	for _, g := range r.Groups {
		t.row(g.GroupID, g.ProtocolType, g.State, g.Type, g.Coordinator)
	}
	return t.flush()
}

var describeGroupCommand = &command{
	name:    "describe_group",
	aliases: []string{"describe-group", "desc-group"},
	args:    "GROUP",
	summary: "Describe a group: state, members and their assignments",
	details: `Assignments are decoded from Kafka's consumer protocol. With --zookeeper, the
consumers registered under /consumers/GROUP in ZooKeeper (pykafka's
BalancedConsumer and other ZooKeeper-based clients) are listed too.`,
	examples: []string{
		"describe_group billing",
		"describe-group billing --zookeeper zk1:2181 -o json",
	},
	minArgs: 1, maxArgs: 1,
	setup: func(*flag.FlagSet) action { return describeGroupAction },
}

type describeReport struct {
	*groupDescription
	ZooKeeperMembers []zkMember `json:"zookeeper_members,omitempty"`
}

func describeGroupAction(ctx context.Context, e *env, args []string) (report, error) {
	group := args[0]
	cl, err := e.connect(ctx)
	if err != nil {
		return nil, err
	}
	d, err := describeGroup(ctx, cl, group)
	if err != nil {
		return nil, err
	}
	r := &describeReport{groupDescription: d}
	zkKnows := false
	if e.g.zookeeper != "" {
		zg, err := readZooKeeperGroup(ctx, e.g.zookeeper, group, e.log)
		if err != nil {
			return nil, err
		}
		zkKnows = zg.exists
		r.ZooKeeperMembers = nonNil(zg.members)
	}
	if !d.exists() && !zkKnows {
		// The coordinator reports Dead for groups it never saw; a group
		// that only committed offsets (Empty) does exist.
		return nil, unknownGroup(group)
	}
	return r, nil
}

func (r *describeReport) writeText(w io.Writer) error {
	d := r.groupDescription
	if err := fields(w, "Group", d.GroupID, "Type", d.Type, "State", d.State, "ProtocolType", d.ProtocolType,
		"Protocol", d.Protocol, "Coordinator", d.Coordinator, "Members", len(d.Members)); err != nil {
		return err
	}
	if len(d.Members) > 0 {
		fmt.Fprintln(w)
		t := newTable(w, "MemberId", "ClientId", "Host", "Assignment")
		for _, m := range d.Members {
			assigned := formatAssignment(m.Assignment)
			if m.DecodeError != "" && assigned == "" {
				assigned = "(" + m.DecodeError + ")"
			}
			t.row(m.MemberID, m.ClientID, m.Host, assigned)
		}
		if err := t.flush(); err != nil {
			return err
		}
	}
	if len(r.ZooKeeperMembers) > 0 {
		fmt.Fprintln(w, "\nZooKeeper members:")
		t := newTable(w, "ConsumerId", "Subscription", "Owns")
		for _, m := range r.ZooKeeperMembers {
			t.row(m.ConsumerID, m.Subscription, formatAssignment(m.Owns))
		}
		return t.flush()
	}
	return nil
}

// formatAssignment renders "orders:0,1 audit:3".
func formatAssignment(tps []topicPartitions) string {
	parts := make([]string, len(tps))
	for i, tp := range tps {
		parts[i] = tp.Topic + ":" + joinIDs(tp.Partitions)
	}
	return strings.Join(parts, " ")
}

var printManagedConsumerGroupsCommand = &command{
	name:    "print_managed_consumer_groups",
	aliases: []string{"print-managed-consumer-groups", "topic-groups"},
	args:    "TOPIC",
	summary: "List the groups consuming a topic",
	details: `A group consumes TOPIC when one of its members subscribes to it or is assigned
one of its partitions, or, for a group without members, when it has committed
offsets for it. Groups coordinated through ZooKeeper (pykafka's BalancedConsumer)
have their members registered there, under /consumers/GROUP/ids, not with the
brokers, which list them as Empty: with --zookeeper they are read from there and
shown with protocol type "zookeeper".`,
	examples: []string{
		"print_managed_consumer_groups orders",
		"print-managed-consumer-groups orders -o json",
	},
	minArgs: 1, maxArgs: 1,
	setup: func(*flag.FlagSet) action { return topicGroups },
}

type topicGroupsReport struct {
	Topic  string            `json:"topic"`
	Groups []topicGroupEntry `json:"groups"`

	emptyWithoutZooKeeper bool // a group without members, ZooKeeper not asked
}

type topicGroupEntry struct {
	GroupID      string `json:"group_id"`
	State        string `json:"state"`
	Protocol     string `json:"protocol"`
	ProtocolType string `json:"protocol_type"`
	Members      int    `json:"members"`
}

func topicGroups(ctx context.Context, e *env, args []string) (report, error) {
	t, err := e.topic(ctx, args[0])
	if err != nil {
		return nil, err
	}
	cl := e.client
	listed, err := listGroups(ctx, cl)
	if err != nil {
		return nil, err
	}
	var parts []int32
	for _, p := range t.Partitions() {
		parts = append(parts, p.ID())
	}
	r := &topicGroupsReport{Topic: t.Name(), Groups: []topicGroupEntry{}}
	// Groups coordinated through ZooKeeper have their members there; the
	// brokers know them only by their committed offsets (state Empty).
	var zkGroups map[string]*zkGroup
	if e.g.zookeeper != "" {
		if zkGroups, err = readZooKeeperGroups(ctx, e.g.zookeeper, e.log); err != nil {
			return nil, err
		}
	}
	for name, zg := range zkGroups {
		if n := zg.consumes(t.Name()); n > 0 {
			r.Groups = append(r.Groups, topicGroupEntry{GroupID: name, State: "Stable", Protocol: "-",
				ProtocolType: zooKeeperProtocolType, Members: n})
		}
	}
	for _, g := range listed {
		if zg := zkGroups[g.GroupID]; zg != nil && zg.consumes(t.Name()) > 0 {
			continue // listed from ZooKeeper
		}
		d, err := describeGroup(ctx, cl, g.GroupID)
		if err != nil {
			return nil, err
		}
		if !d.exists() {
			// DescribeGroup knows classic and consumer groups; the
			// listing still says what state the others (Kafka 4's
			// share and streams groups) are in.
			d.State, d.ProtocolType = g.State, g.ProtocolType
		}
		consumes := slices.ContainsFunc(d.Members, func(m groupMember) bool {
			return slices.Contains(m.Subscription, t.Name()) ||
				slices.ContainsFunc(m.Assignment, func(tp topicPartitions) bool { return tp.Topic == t.Name() })
		})
		if !consumes && len(d.Members) == 0 {
			offs, err := cl.Cluster().FetchGroupOffsets(ctx, g.GroupID, map[string][]int32{t.Name(): parts})
			if err != nil {
				return nil, err
			}
			consumes = len(offs[t.Name()]) > 0
		}
		if consumes {
			r.Groups = append(r.Groups, topicGroupEntry{
				GroupID: d.GroupID, State: d.State, Protocol: d.Protocol, ProtocolType: d.ProtocolType,
				Members: len(d.Members),
			})
			r.emptyWithoutZooKeeper = r.emptyWithoutZooKeeper || (e.g.zookeeper == "" && len(d.Members) == 0)
		}
	}
	slices.SortFunc(r.Groups, func(a, b topicGroupEntry) int { return strings.Compare(a.GroupID, b.GroupID) })
	return r, nil
}

// zooKeeperProtocolType marks, in place of a broker's protocol type, a
// group whose members are registered in ZooKeeper.
const zooKeeperProtocolType = "zookeeper"

func (r *topicGroupsReport) writeText(w io.Writer) error {
	t := newTable(w, "GroupId", "State", "Protocol", "ProtocolType", "Members")
	for _, g := range r.Groups {
		t.row(g.GroupID, g.State, g.Protocol, g.ProtocolType, g.Members)
	}
	if err := t.flush(); err != nil {
		return err
	}
	if r.emptyWithoutZooKeeper {
		_, err := fmt.Fprintln(w, "\nAn Empty group may be coordinated through ZooKeeper (pykafka's BalancedConsumer, the old Java\n"+
			"consumer): its members are registered there, under /consumers/GROUP/ids. Give --zookeeper to see them.")
		return err
	}
	return nil
}
