package kafka

import (
	"fmt"
)

// Assignor divides a managed group's partitions among its members. The
// group's leader runs it for the whole group; every member advertises its
// Name in JoinGroup, and the coordinator accepts only members offering the
// same one. Set BalancedConsumerConfig.Assignor to use one; the built-in
// ones are RangeAssignor, RoundRobinAssignor, StickyAssignor and
// CooperativeStickyAssignor, each compatible with the Java client's
// assignor of the same name.
//
// Implementations must be deterministic and safe for concurrent use.
type Assignor interface {
	// Name is the protocol name, e.g. "range" or "cooperative-sticky".
	Name() string
	// UserData is what the member sends in its subscription: owned is
	// its assignment of generation, or nil before it had one (generation
	// is then -1).
	UserData(owned map[string][]int32, generation int32) []byte
	// Assign returns member id → topic → partitions for every member.
	// partitions holds the partition count of each subscribed topic that
	// exists. Every partition must go to at most one member subscribed to
	// its topic; an error fails the rebalance, which is retried.
	Assign(members []AssignorMember, partitions map[string]int32) (map[string]map[string][]int32, error)
}

// CooperativeAssignor is an Assignor for the cooperative rebalance protocol
// (KIP-429, the Java client's RebalanceProtocol.COOPERATIVE) when
// Cooperative reports true. Such an assignor never gives a member a
// partition that another member reports owning in its subscription
// (AssignorMember.OwnedPartitions): it withholds the partition for one
// rebalance, until its owner has given it up and the group rebalances
// again. A member whose assignors are all cooperative keeps its partitions
// through a rebalance and gives up only those the new assignment moves;
// the leader refuses an assignment that breaks the rule.
// CooperativeStickyAssignor is one.
type CooperativeAssignor interface {
	Assignor
	Cooperative() bool
}

// isCooperative reports whether a declares the cooperative protocol.
func isCooperative(a Assignor) bool {
	c, ok := a.(CooperativeAssignor)
	return ok && c.Cooperative()
}

// AssignorMember is one member's subscription as the leader sees it.
type AssignorMember struct {
	MemberID        string
	GroupInstanceID string // "" for a dynamic member
	Topics          []string
	UserData        []byte
	// OwnedPartitions and Generation come from subscription versions 1
	// and 2: what a cooperative member still holds, and the generation
	// it holds it from (-1 when not sent).
	OwnedPartitions map[string][]int32
	Generation      int32
}

// RangeAssignor is the Java client's RangeAssignor ("range").
func RangeAssignor() Assignor { return eagerAssignor{javaRange{}} }

// RoundRobinAssignor is the Java client's RoundRobinAssignor ("roundrobin").
func RoundRobinAssignor() Assignor { return eagerAssignor{javaRoundRobin{}} }

// eagerAssignor adapts the assignors that need no user data.
type eagerAssignor struct{ a groupAssignor }

func (e eagerAssignor) Name() string                            { return e.a.protocolName() }
func (eagerAssignor) UserData(map[string][]int32, int32) []byte { return nil }

func (e eagerAssignor) Assign(members []AssignorMember, partitions map[string]int32) (map[string]map[string][]int32, error) {
	gms := make([]groupMember, len(members))
	for i, m := range members {
		gms[i] = groupMember{id: m.MemberID, topics: m.Topics}
		if m.GroupInstanceID != "" {
			id := m.GroupInstanceID
			gms[i].instanceID = &id
		}
	}
	return e.a.assign(gms, partitions), nil
}

// assignorsOf lists the assignors a member offers, in order of
// preference: Assignors when set, else the one assignorOf picks.
func assignorsOf(cfg BalancedConsumerConfig) []Assignor {
	if len(cfg.Assignors) > 0 {
		return cfg.Assignors
	}
	return []Assignor{assignorOf(cfg)}
}

// assignorOf picks the configured assignor: Assignor when set, else the
// one Strategy names.
func assignorOf(cfg BalancedConsumerConfig) Assignor {
	if len(cfg.Assignors) > 0 {
		return cfg.Assignors[0]
	}
	if cfg.Assignor != nil {
		return cfg.Assignor
	}
	if cfg.Strategy == RoundRobinAssignment {
		return RoundRobinAssignor()
	}
	return RangeAssignor()
}

// checkCooperative rejects an assignment that hands a member a partition
// another member reports owning: under the cooperative protocol its owner
// is still consuming it.
func checkCooperative(name string, members []AssignorMember, out map[string]map[string][]int32) error {
	owner := map[topicPartition]string{}
	for _, m := range members {
		for topic, ps := range m.OwnedPartitions {
			for _, p := range ps {
				owner[topicPartition{topic, p}] = m.MemberID
			}
		}
	}
	for _, id := range sortedKeys(out) {
		for topic, ps := range out[id] {
			for _, p := range ps {
				if prev, ok := owner[topicPartition{topic, p}]; ok && prev != id {
					return fmt.Errorf("kafka: cooperative assignor %q moved %s/%d from %q to %q in one rebalance",
						name, topic, p, prev, id)
				}
			}
		}
	}
	return nil
}

// checkAssignment rejects an assignment that gives a partition twice, or
// one that does not exist, or to a member not in the group: a custom
// assignor's bug must not reach the members.
func checkAssignment(name string, members []AssignorMember, partitions map[string]int32, out map[string]map[string][]int32) error {
	known := make(map[string]bool, len(members))
	for _, m := range members {
		known[m.MemberID] = true
	}
	owner := map[string]map[int32]string{}
	for _, id := range sortedKeys(out) {
		if !known[id] {
			return fmt.Errorf("kafka: assignor %q assigned to %q, not a group member", name, id)
		}
		for topic, ps := range out[id] {
			n, ok := partitions[topic]
			if !ok && len(ps) > 0 {
				return fmt.Errorf("kafka: assignor %q assigned topic %q, which no member can consume", name, topic)
			}
			if owner[topic] == nil {
				owner[topic] = map[int32]string{}
			}
			for _, p := range ps {
				if p < 0 || p >= n {
					return fmt.Errorf("kafka: assignor %q assigned %s/%d, which does not exist", name, topic, p)
				}
				if prev, dup := owner[topic][p]; dup {
					return fmt.Errorf("kafka: assignor %q assigned %s/%d to both %q and %q", name, topic, p, prev, id)
				}
				owner[topic][p] = id
			}
		}
	}
	return nil
}

func mapKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
