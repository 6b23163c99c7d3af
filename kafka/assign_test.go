package kafka

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAssignmentStrategyNames(t *testing.T) {
	assert.Equal(t, "range", RangeAssignment.String())
	assert.Equal(t, "roundrobin", RoundRobinAssignment.String())
	assert.Equal(t, "range", assignorFor(RangeAssignment).protocolName())
	assert.Equal(t, "roundrobin", assignorFor(RoundRobinAssignment).protocolName())
}

func TestCompareJava(t *testing.T) {
	assert.Equal(t, -1, compareJava("a", "b"))
	assert.Equal(t, 0, compareJava("abc", "abc"))
	assert.Equal(t, 1, compareJava("b", "a"))
	assert.Equal(t, -1, compareJava("a", "ab"))
	// U+1F600 is the surrogate pair D83D DE00 in UTF-16, before U+E000;
	// Go's byte order puts it after.
	assert.Equal(t, -1, compareJava("\U0001F600", "\uE000"))
	assert.Less(t, "\uE000", "\U0001F600")
}

func slotsFor(topic string, n int, leaders int) []zkSlot {
	s := make([]zkSlot, n)
	for i := range s {
		s[i] = newZKSlot(topic, int32(1+i%leaders), int32(i))
	}
	return s
}

// pykafka sorts partitions as strings, so with 12 partitions "t-1-10" and
// "t-1-11" come right after "t-1-1".
func TestDecidePartitionsHandChecked(t *testing.T) {
	slots := slotsFor("t", 12, 1)
	members := []string{"host:b", "host:a"}
	assert.Equal(t, []int32{0, 1, 2, 3, 10, 11}, decidePartitions(RangeAssignment, members, slots, "host:a"))
	assert.Equal(t, []int32{4, 5, 6, 7, 8, 9}, decidePartitions(RangeAssignment, members, slots, "host:b"))

	// Sorted keys: t-1-0 t-1-1 t-1-10 t-1-11 t-1-2 ... t-1-9; dealt in turn.
	assert.Equal(t, []int32{0, 2, 4, 6, 8, 10}, decidePartitions(RoundRobinAssignment, members, slots, "host:a"))
	assert.Equal(t, []int32{1, 3, 5, 7, 9, 11}, decidePartitions(RoundRobinAssignment, members, slots, "host:b"))

	// 10 partitions over 3: 4, 3, 3 — the first member gets the extra one.
	slots = slotsFor("t", 10, 1)
	three := []string{"c", "a", "b"}
	assert.Equal(t, []int32{0, 1, 2, 3}, decidePartitions(RangeAssignment, three, slots, "a"))
	assert.Equal(t, []int32{4, 5, 6}, decidePartitions(RangeAssignment, three, slots, "b"))
	assert.Equal(t, []int32{7, 8, 9}, decidePartitions(RangeAssignment, three, slots, "c"))

	// The leader is part of the key: with partitions on two leaders, those
	// led by broker 1 sort first.
	slots = slotsFor("t", 4, 2) // 0,2 on leader 1; 1,3 on leader 2
	assert.Equal(t, []int32{0, 2}, decidePartitions(RangeAssignment, []string{"a", "b"}, slots, "a"))
	assert.Equal(t, []int32{1, 3}, decidePartitions(RangeAssignment, []string{"a", "b"}, slots, "b"))

	assert.Nil(t, decidePartitions(RangeAssignment, []string{"a"}, slots, "stranger"))
	assert.Nil(t, decidePartitions(RangeAssignment, []string{"a"}, nil, "a"))
}

// Every partition is owned exactly once, shares differ by at most one, and
// no member's share depends on the order its inputs arrive in.
func TestDecidePartitionsCoverage(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, strategy := range []AssignmentStrategy{RangeAssignment, RoundRobinAssignment} {
		for parts := 0; parts <= 40; parts++ {
			for consumers := 1; consumers <= 12; consumers++ {
				name := fmt.Sprintf("%v/%dp/%dc", strategy, parts, consumers)
				slots := slotsFor("topic", parts, 1+parts%3)
				members := make([]string, consumers)
				for i := range members {
					members[i] = fmt.Sprintf("host-%d:%08x", rng.IntN(3), rng.Uint32())
				}
				owner := map[int32]string{}
				sizes := []int{}
				for _, m := range members {
					got := decidePartitions(strategy, members, slots, m)
					shuffled := slices.Clone(members)
					rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
					sl := slices.Clone(slots)
					rng.Shuffle(len(sl), func(i, j int) { sl[i], sl[j] = sl[j], sl[i] })
					require.Equal(t, got, decidePartitions(strategy, shuffled, sl, m), name)
					for _, p := range got {
						prev, dup := owner[p]
						require.False(t, dup, "%s: partition %d owned by %s and %s", name, p, prev, m)
						owner[p] = m
					}
					sizes = append(sizes, len(got))
				}
				require.Len(t, owner, parts, name)
				require.LessOrEqual(t, slices.Max(sizes)-slices.Min(sizes), 1, name)
			}
		}
	}
}

// checkGroupAssignment asserts that every partition of every topic someone
// subscribes to is owned exactly once, by a member subscribed to it.
func checkGroupAssignment(t *testing.T, name string, members []groupMember, partitions map[string]int32, got groupAssignment) {
	t.Helper()
	require.Len(t, got, len(members), name)
	subscribed := map[string]bool{}
	owners := map[string]map[int32]string{}
	for _, m := range members {
		topics := map[string]bool{}
		for _, tp := range m.topics {
			topics[tp] = true
			subscribed[tp] = true
		}
		for topic, ps := range got[m.id] {
			require.True(t, topics[topic], "%s: %s got unsubscribed topic %s", name, m.id, topic)
			require.True(t, slices.IsSorted(ps), name)
			for _, p := range ps {
				if owners[topic] == nil {
					owners[topic] = map[int32]string{}
				}
				prev, dup := owners[topic][p]
				require.False(t, dup, "%s: %s/%d owned by %s and %s", name, topic, p, prev, m.id)
				owners[topic][p] = m.id
			}
		}
	}
	for topic := range subscribed {
		require.Len(t, owners[topic], int(partitions[topic]), "%s: topic %s", name, topic)
	}
}

func TestJavaAssignorsHandChecked(t *testing.T) {
	members := []groupMember{
		{id: "c-2", topics: []string{"t0", "t1"}},
		{id: "c-1", topics: []string{"t0", "t1"}},
		{id: "c-3", topics: []string{"t1"}},
	}
	parts := map[string]int32{"t0": 3, "t1": 4}

	// Range, per topic: t0 over c-1, c-2 -> [0 1] [2]; t1 over c-1, c-2,
	// c-3 -> [0 1] [2] [3].
	got := javaRange{}.assign(members, parts)
	assert.Equal(t, map[string][]int32{"t0": {0, 1}, "t1": {0, 1}}, got["c-1"])
	assert.Equal(t, map[string][]int32{"t0": {2}, "t1": {2}}, got["c-2"])
	assert.Equal(t, map[string][]int32{"t1": {3}}, got["c-3"])

	// Round robin over t0/0 t0/1 t0/2 t1/0 ... dealt to c-1, c-2, c-3,
	// skipping c-3 for t0: c-1 t0/0, c-2 t0/1, (c-3 skipped) c-1 t0/2,
	// c-2 t1/0, c-3 t1/1, c-1 t1/2, c-2 t1/3.
	got = javaRoundRobin{}.assign(members, parts)
	assert.Equal(t, map[string][]int32{"t0": {0, 2}, "t1": {2}}, got["c-1"])
	assert.Equal(t, map[string][]int32{"t0": {1}, "t1": {0, 3}}, got["c-2"])
	assert.Equal(t, map[string][]int32{"t1": {1}}, got["c-3"])

	// Static members sort before dynamic ones, by instance id.
	inst := func(s string) *string { return &s }
	members = []groupMember{
		{id: "a", topics: []string{"t"}},
		{id: "b", instanceID: inst("z"), topics: []string{"t"}},
		{id: "c", instanceID: inst("y"), topics: []string{"t"}},
	}
	got = javaRange{}.assign(members, map[string]int32{"t": 5})
	assert.Equal(t, []int32{0, 1}, got["c"]["t"])
	assert.Equal(t, []int32{2, 3}, got["b"]["t"])
	assert.Equal(t, []int32{4}, got["a"]["t"])

	// A topic the cluster does not have is skipped; members still appear.
	got = javaRange{}.assign([]groupMember{{id: "a", topics: []string{"gone"}}}, map[string]int32{})
	assert.Equal(t, groupAssignment{"a": {}}, got)
}

func TestJavaAssignorsCoverage(t *testing.T) {
	for _, c := range assignmentCases(rand.New(rand.NewPCG(3, 4)), 400) {
		got := c.assignor.assign(c.members, c.partitions)
		checkGroupAssignment(t, c.String(), c.members, c.partitions, got)
	}
}

// assignmentCase is one input to a group assignor.
type assignmentCase struct {
	assignor   groupAssignor
	members    []groupMember
	partitions map[string]int32
}

func (c assignmentCase) String() string {
	return fmt.Sprintf("%s/%d members/%v", c.assignor.protocolName(), len(c.members), c.partitions)
}

// assignmentCases generates groups of 1-12 members over 1-3 topics of 0-40
// partitions, some members subscribed to a subset, some static.
func assignmentCases(rng *rand.Rand, n int) []assignmentCase {
	var out []assignmentCase
	for i := 0; i < n; i++ {
		var a groupAssignor = javaRange{}
		if i%2 == 1 {
			a = javaRoundRobin{}
		}
		topics := []string{"orders", "audit", "événements"}[:1+rng.IntN(3)]
		parts := map[string]int32{}
		for _, tp := range topics {
			parts[tp] = int32(rng.IntN(41))
		}
		members := make([]groupMember, 1+rng.IntN(12))
		for j := range members {
			m := &members[j]
			m.id = fmt.Sprintf("gregor-%08x", rng.Uint32())
			if j%5 == 4 {
				m.id = []string{"\U0001F600-x", "\uE000-x", "Zed", "zed"}[rng.IntN(4)] + m.id
			}
			if rng.IntN(4) == 0 {
				inst := fmt.Sprintf("instance-%d-%d", rng.IntN(1000), j) // unique, as the broker enforces
				m.instanceID = &inst
			}
			for _, tp := range topics {
				if j == 0 || rng.IntN(3) > 0 {
					m.topics = append(m.topics, tp)
				}
			}
			if len(m.topics) == 0 {
				m.topics = topics[:1]
			}
		}
		out = append(out, assignmentCase{assignor: a, members: members, partitions: parts})
	}
	return out
}
