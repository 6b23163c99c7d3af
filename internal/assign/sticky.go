package assign

import (
	"slices"
)

// Sticky is the Java client's StickyAssignor ("sticky"), or with
// Cooperative its CooperativeStickyAssignor ("cooperative-sticky").
type Sticky struct{ Cooperative bool }

func (s Sticky) Name() string {
	if s.Cooperative {
		return "cooperative-sticky"
	}
	return "sticky"
}

func (s Sticky) UserData(owned map[string][]int32, generation int32) []byte {
	if s.Cooperative {
		return encodeCooperativeUserData(generation)
	}
	if owned == nil {
		return nil // as Java before its first assignment
	}
	return encodeStickyUserData(owned, generation)
}

type topicPartition struct {
	topic     string
	partition int32
}

// memberData is what AbstractStickyAssignor.memberData reads from a
// subscription: the partitions the member had and their generation.
func (s Sticky) memberData(m Member) ([]topicPartition, int32) {
	if s.Cooperative {
		gen := m.Generation
		if gen < 0 {
			gen, _ = decodeCooperativeUserData(m.UserData)
		}
		return flatten(m.OwnedPartitions), gen
	}
	if len(m.UserData) == 0 {
		return nil, -1
	}
	d, err := decodeStickyUserData(m.UserData)
	if err != nil {
		return nil, -1 // Java ignores a previous assignment it cannot read
	}
	return flatten(d.owned), d.generation
}

func flatten(owned map[string][]int32) []topicPartition {
	var out []topicPartition
	topics := mapKeys(owned)
	slices.SortFunc(topics, compareJava)
	for _, t := range topics {
		for _, p := range owned[t] {
			out = append(out, topicPartition{t, p})
		}
	}
	return out
}

// stickyState is the input every builder works from.
type stickyState struct {
	order      []string // member ids in Java HashMap iteration order
	owned      map[string][]topicPartition
	multiOwned map[topicPartition]bool // claimed twice in one generation
	topics     map[string][]string     // member id -> subscribed topics
	counts     map[string]int32
	equal      bool // every member subscribes to the same topics
}

// Assign follows AbstractStickyAssignor: previous owners are resolved by
// generation, then the constrained algorithm runs when all subscriptions
// are equal (the common case, and always so for gregor-only groups), and a
// general one otherwise.
func (s Sticky) Assign(members []Member, partitions map[string]int32) (map[string]map[string][]int32, error) {
	st := s.prepare(members, partitions)
	var assigned map[string][]topicPartition
	var transferring map[topicPartition]string
	if st.equal {
		assigned, transferring = st.constrained()
	} else {
		assigned = st.general()
	}
	if s.Cooperative {
		if transferring == nil {
			transferring = st.transferring(assigned)
		}
		for tp, id := range transferring {
			assigned[id] = slices.DeleteFunc(assigned[id], func(x topicPartition) bool { return x == tp })
		}
	}
	out := make(map[string]map[string][]int32, len(members))
	for _, m := range members {
		byTopic := map[string][]int32{}
		for _, tp := range assigned[m.MemberID] {
			byTopic[tp.topic] = append(byTopic[tp.topic], tp.partition)
		}
		out[m.MemberID] = byTopic
	}
	return out, nil
}

func (s Sticky) prepare(members []Member, partitions map[string]int32) *stickyState {
	st := &stickyState{
		owned:      map[string][]topicPartition{},
		multiOwned: map[topicPartition]bool{},
		topics:     map[string][]string{},
		counts:     partitions,
		equal:      true,
	}
	ids := make([]string, 0, len(members))
	byID := map[string]Member{}
	for _, m := range members {
		if _, dup := byID[m.MemberID]; !dup {
			ids = append(ids, m.MemberID)
		}
		byID[m.MemberID] = m
	}
	st.order = javaHashOrder(ids)

	var first map[string]bool
	prevOwner := map[topicPartition]string{}
	for _, id := range st.order {
		m := byID[id]
		set := map[string]bool{}
		for _, t := range m.Topics {
			set[t] = true
		}
		st.topics[id] = mapKeys(set)
		if first == nil {
			first = set
		} else if len(set) != len(first) || !hasAllKeys(first, set) {
			st.equal = false
		}
		owned, gen := s.memberData(m)
		st.owned[id] = nil
		for _, tp := range owned {
			n, ok := partitions[tp.topic]
			if !ok || tp.partition < 0 || tp.partition >= n {
				continue
			}
			other, claimed := prevOwner[tp]
			if !claimed {
				st.owned[id] = append(st.owned[id], tp)
				prevOwner[tp] = id
				continue
			}
			// Like Java, the other claimant's generation is the one its
			// subscription carries.
			otherGen := byID[other].Generation
			switch {
			case gen == otherGen:
				st.multiOwned[tp] = true
				st.owned[other] = removeTP(st.owned[other], tp)
				prevOwner[tp] = id
			case gen > otherGen:
				st.owned[id] = append(st.owned[id], tp)
				st.owned[other] = removeTP(st.owned[other], tp)
				prevOwner[tp] = id
			}
		}
	}
	return st
}

func hasAllKeys(set, of map[string]bool) bool {
	for k := range of {
		if !set[k] {
			return false
		}
	}
	return true
}

func removeTP(s []topicPartition, tp topicPartition) []topicPartition {
	if i := slices.Index(s, tp); i >= 0 {
		return slices.Delete(s, i, i+1)
	}
	return s
}

// sortedTopics lists the assignable topics in Java's String order.
func (st *stickyState) sortedTopics() []string {
	topics := mapKeys(st.counts)
	slices.SortFunc(topics, compareJava)
	return topics
}

// constrained is Java's ConstrainedAssignmentBuilder without rack
// awareness: every member keeps up to its quota of what it owned, and the
// rest go round-robin to the members under quota, in member id order. It
// returns the partitions that change owner.
func (st *stickyState) constrained() (map[string][]topicPartition, map[topicPartition]string) {
	total := 0
	for _, n := range st.counts {
		total += int(max(n, 0))
	}
	n := len(st.order)
	assignment := make(map[string][]topicPartition, n)
	if n == 0 {
		return assignment, map[topicPartition]string{}
	}
	minQuota, maxQuota := total/n, (total+n-1)/n
	expectedOver, currentOver := total%n, 0
	maybeRevoked := map[topicPartition]string{}
	transferring := map[topicPartition]string{}
	var under, exact []string
	assigned := map[topicPartition]bool{}

	for _, id := range st.order {
		owned := slices.Clone(st.owned[id])
		slices.SortStableFunc(owned, func(a, b topicPartition) int {
			if a.partition != b.partition {
				return int(a.partition) - int(b.partition)
			}
			return compareJava(a.topic, b.topic)
		})
		owned = slices.DeleteFunc(owned, func(tp topicPartition) bool { return st.multiOwned[tp] })
		keep := func(ps []topicPartition) {
			assignment[id] = append(assignment[id], ps...)
			for _, tp := range ps {
				assigned[tp] = true
			}
		}
		switch {
		case len(owned) < minQuota:
			keep(owned)
			under = append(under, id)
		case len(owned) >= maxQuota && currentOver < expectedOver:
			currentOver++
			if currentOver == expectedOver {
				exact = exact[:0]
			}
			keep(owned[:maxQuota])
			for _, tp := range owned[maxQuota:] {
				maybeRevoked[tp] = id
			}
		default:
			keep(owned[:minQuota])
			for _, tp := range owned[minQuota:] {
				maybeRevoked[tp] = id
			}
			if currentOver < expectedOver {
				exact = append(exact, id)
			}
		}
	}

	var unassigned []topicPartition
	for _, t := range st.sortedTopics() {
		for p := int32(0); p < st.counts[t]; p++ {
			if tp := (topicPartition{t, p}); !assigned[tp] {
				unassigned = append(unassigned, tp)
			}
		}
	}
	slices.SortFunc(under, compareJava)
	slices.SortFunc(exact, compareJava)

	give := func(tp topicPartition, id string) int {
		assignment[id] = append(assignment[id], tp)
		if prev, ok := maybeRevoked[tp]; (ok && prev != id) || st.multiOwned[tp] {
			transferring[tp] = id
		}
		return len(assignment[id])
	}
	it := 0 // the iterator over under, as Java's LinkedList iterator
	for _, tp := range unassigned {
		var id string
		fromIter := false
		switch {
		case it < len(under):
			id, fromIter = under[it], true
			it++
		case len(under) == 0 && len(exact) == 0:
			// Java throws here; the quotas make it unreachable.
			return assignment, transferring
		case len(under) == 0:
			id, exact = exact[0], exact[1:]
		default:
			it = 0
			id, fromIter = under[it], true
			it++
		}
		switch count := give(tp, id); {
		case count == minQuota:
			if fromIter {
				it--
				under = slices.Delete(under, it, it+1)
			}
			exact = append(exact, id)
		case count == maxQuota:
			currentOver++
		}
	}
	return assignment, transferring
}

// general serves groups whose members subscribe to different topics:
// members keep what they owned of their topics, each remaining partition
// goes to the least loaded member subscribed to it, and partitions then
// move from a member to one with two fewer until none can. It is balanced
// and sticky but, unlike constrained, not Java's GeneralAssignmentBuilder
// move for move.
func (st *stickyState) general() map[string][]topicPartition {
	assignment := make(map[string][]topicPartition, len(st.order))
	owner := map[topicPartition]string{}
	subscribed := map[string][]string{} // topic -> members, sorted
	for _, id := range st.order {
		for _, t := range st.topics[id] {
			subscribed[t] = append(subscribed[t], id)
		}
	}
	for _, ids := range subscribed {
		slices.SortFunc(ids, compareJava)
	}
	for _, id := range st.order {
		for _, tp := range st.owned[id] {
			if slices.Contains(st.topics[id], tp.topic) && !st.multiOwned[tp] {
				assignment[id] = append(assignment[id], tp)
				owner[tp] = id
			}
		}
	}
	leastLoaded := func(ids []string) string {
		best := ""
		for _, id := range ids {
			if best == "" || len(assignment[id]) < len(assignment[best]) {
				best = id
			}
		}
		return best
	}
	var all []topicPartition
	for _, t := range st.sortedTopics() {
		if len(subscribed[t]) == 0 {
			continue
		}
		for p := int32(0); p < st.counts[t]; p++ {
			tp := topicPartition{t, p}
			all = append(all, tp)
			if _, ok := owner[tp]; !ok {
				id := leastLoaded(subscribed[t])
				assignment[id] = append(assignment[id], tp)
				owner[tp] = id
			}
		}
	}
	// Each move lowers the sum of squared loads, so this ends.
	for moved := true; moved; {
		moved = false
		for _, tp := range all {
			from := owner[tp]
			to := leastLoaded(subscribed[tp.topic])
			if len(assignment[from]) > len(assignment[to])+1 {
				assignment[from] = removeTP(assignment[from], tp)
				assignment[to] = append(assignment[to], tp)
				owner[tp] = to
				moved = true
			}
		}
	}
	return assignment
}

// transferring is CooperativeStickyAssignor's
// computePartitionsTransferringOwnership: partitions assigned to a member
// that did not own them while another owned them.
func (st *stickyState) transferring(assigned map[string][]topicPartition) map[topicPartition]string {
	ownedBy := map[topicPartition]string{}
	for id, tps := range st.owned {
		for _, tp := range tps {
			ownedBy[tp] = id
		}
	}
	out := map[topicPartition]string{}
	for id, tps := range assigned {
		for _, tp := range tps {
			if prev, ok := ownedBy[tp]; ok && prev != id {
				out[tp] = id
			}
		}
	}
	return out
}
