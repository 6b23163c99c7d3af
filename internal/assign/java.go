package assign

import (
	"slices"
	"sort"
)

// groupMember is one member of a broker-managed group as the leader sees
// it in the JoinGroup response.
type groupMember struct {
	id         string
	instanceID *string // static membership id, nil for dynamic members
	topics     []string
	// Cooperative assignors would also need each member's owned partitions
	// and generation (subscription v1+); the eager assignors below do not.
}

// groupAssignment maps member id -> topic -> sorted partition ids.
type groupAssignment map[string]map[string][]int32

// groupAssignor computes a classic group's assignment on its leader. It is
// the seam for further assignors: a sticky or cooperative one implements
// it, and the join logic advertises it by protocolName.
type groupAssignor interface {
	protocolName() string
	assign(members []groupMember, partitions map[string]int32) groupAssignment
}

// sortMembers orders members as the Java client's MemberInfo does: static
// members first, by group instance id, then dynamic ones by member id.
func sortMembers(ms []groupMember) {
	sort.SliceStable(ms, func(i, j int) bool {
		a, b := ms[i], ms[j]
		switch {
		case a.instanceID != nil && b.instanceID != nil:
			return compareJava(*a.instanceID, *b.instanceID) < 0
		case a.instanceID != nil:
			return true
		case b.instanceID != nil:
			return false
		}
		return compareJava(a.id, b.id) < 0
	})
}

func emptyAssignment(members []groupMember) groupAssignment {
	out := make(groupAssignment, len(members))
	for _, m := range members {
		out[m.id] = map[string][]int32{}
	}
	return out
}

// javaRange is the Java client's RangeAssignor (without rack awareness):
// per topic, the members subscribed to it, sorted, get contiguous ranges,
// and the first partitions%members of them one partition more.
type javaRange struct{}

func (javaRange) protocolName() string { return "range" }

func (javaRange) assign(members []groupMember, partitions map[string]int32) groupAssignment {
	out := emptyAssignment(members)
	perTopic := map[string][]groupMember{}
	for _, m := range members {
		seen := map[string]bool{}
		for _, t := range m.topics {
			if !seen[t] {
				seen[t] = true
				perTopic[t] = append(perTopic[t], m)
			}
		}
	}
	for topic, ms := range perTopic {
		n, ok := partitions[topic]
		if !ok || n <= 0 {
			continue
		}
		sortMembers(ms)
		per, extra := int(n)/len(ms), int(n)%len(ms)
		for i, m := range ms {
			start := per*i + min(i, extra)
			count := per
			if i < extra {
				count++
			}
			for p := start; p < start+count; p++ {
				out[m.id][topic] = append(out[m.id][topic], int32(p))
			}
		}
	}
	return out
}

// javaRoundRobin is the Java client's RoundRobinAssignor: every partition
// of every subscribed topic, topics sorted by name, is dealt in turn to
// the sorted members, skipping members not subscribed to its topic.
type javaRoundRobin struct{}

func (javaRoundRobin) protocolName() string { return "roundrobin" }

func (javaRoundRobin) assign(members []groupMember, partitions map[string]int32) groupAssignment {
	out := emptyAssignment(members)
	if len(members) == 0 {
		return out
	}
	ms := slices.Clone(members)
	sortMembers(ms)
	subscribed := make([]map[string]bool, len(ms))
	topicSet := map[string]bool{}
	for i, m := range ms {
		subscribed[i] = map[string]bool{}
		for _, t := range m.topics {
			subscribed[i][t] = true
			topicSet[t] = true
		}
	}
	topics := make([]string, 0, len(topicSet))
	for t := range topicSet {
		topics = append(topics, t)
	}
	slices.SortFunc(topics, compareJava)

	next := 0 // the circular iterator's position
	for _, topic := range topics {
		n := partitions[topic]
		for p := int32(0); p < n; p++ {
			// Some member is subscribed to every listed topic, so this ends.
			for !subscribed[next][topic] {
				next = (next + 1) % len(ms)
			}
			id := ms[next].id
			out[id][topic] = append(out[id][topic], p)
			next = (next + 1) % len(ms)
		}
	}
	return out
}
