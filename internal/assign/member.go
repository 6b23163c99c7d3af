package assign

import (
	"fmt"
	"maps"
	"slices"
)

// Member is one member's subscription as a group's leader sees it: the
// input of every assignor here. Its fields are those of kafka's
// AssignorMember, so one converts to the other.
type Member struct {
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

// Range is the Java client's RangeAssignor: member id -> topic ->
// partitions for every member.
func Range(members []Member, partitions map[string]int32) map[string]map[string][]int32 {
	return eager(javaRange{}, members, partitions)
}

// RoundRobin is the Java client's RoundRobinAssignor.
func RoundRobin(members []Member, partitions map[string]int32) map[string]map[string][]int32 {
	return eager(javaRoundRobin{}, members, partitions)
}

func eager(a groupAssignor, members []Member, partitions map[string]int32) map[string]map[string][]int32 {
	gms := make([]groupMember, len(members))
	for i, m := range members {
		gms[i] = groupMember{id: m.MemberID, topics: m.Topics}
		if m.GroupInstanceID != "" {
			id := m.GroupInstanceID
			gms[i].instanceID = &id
		}
	}
	return a.assign(gms, partitions)
}

func mapKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// Check rejects an assignment that gives a partition twice, or
// one that does not exist, or to a member not in the group: a custom
// assignor's bug must not reach the members.
func Check(name string, members []Member, partitions map[string]int32, out map[string]map[string][]int32) error {
	known := make(map[string]bool, len(members))
	for _, m := range members {
		known[m.MemberID] = true
	}
	owner := map[string]map[int32]string{}
	for _, id := range sortedIDs(out) {
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

func sortedIDs[V any](m map[string]V) []string {
	keys := mapKeys(m)
	slices.Sort(keys)
	return keys
}

// CheckCooperative rejects an assignment that hands a member a partition
// another member reports owning: under the cooperative protocol its owner
// is still consuming it.
func CheckCooperative(name string, members []Member, out map[string]map[string][]int32) error {
	owner := map[topicPartition]string{}
	for _, m := range members {
		for topic, ps := range m.OwnedPartitions {
			for _, p := range ps {
				owner[topicPartition{topic, p}] = m.MemberID
			}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(out)) {
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
