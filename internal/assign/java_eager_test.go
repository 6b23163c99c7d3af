package assign

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestJavaAssignorNames(t *testing.T) {
	assert.Equal(t, "range", javaRange{}.protocolName())
	assert.Equal(t, "roundrobin", javaRoundRobin{}.protocolName())
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
