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

// assignorOf picks the configured assignor: Assignor when set, else the
// one Strategy names.
func assignorOf(cfg BalancedConsumerConfig) Assignor {
	if cfg.Assignor != nil {
		return cfg.Assignor
	}
	if cfg.Strategy == RoundRobinAssignment {
		return RoundRobinAssignor()
	}
	return RangeAssignor()
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
