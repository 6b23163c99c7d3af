package assign

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func slotsFor(topic string, n int, leaders int) []Slot {
	s := make([]Slot, n)
	for i := range s {
		s[i] = NewSlot(topic, int32(1+i%leaders), int32(i))
	}
	return s
}

// pykafka sorts partitions as strings, so with 12 partitions "t-1-10" and
// "t-1-11" come right after "t-1-1".
func TestDecidePartitionsHandChecked(t *testing.T) {
	slots := slotsFor("t", 12, 1)
	members := []string{"host:b", "host:a"}
	assert.Equal(t, []int32{0, 1, 2, 3, 10, 11}, DecidePartitions(false, members, slots, "host:a"))
	assert.Equal(t, []int32{4, 5, 6, 7, 8, 9}, DecidePartitions(false, members, slots, "host:b"))

	// Sorted keys: t-1-0 t-1-1 t-1-10 t-1-11 t-1-2 ... t-1-9; dealt in turn.
	assert.Equal(t, []int32{0, 2, 4, 6, 8, 10}, DecidePartitions(true, members, slots, "host:a"))
	assert.Equal(t, []int32{1, 3, 5, 7, 9, 11}, DecidePartitions(true, members, slots, "host:b"))

	// 10 partitions over 3: 4, 3, 3 — the first member gets the extra one.
	slots = slotsFor("t", 10, 1)
	three := []string{"c", "a", "b"}
	assert.Equal(t, []int32{0, 1, 2, 3}, DecidePartitions(false, three, slots, "a"))
	assert.Equal(t, []int32{4, 5, 6}, DecidePartitions(false, three, slots, "b"))
	assert.Equal(t, []int32{7, 8, 9}, DecidePartitions(false, three, slots, "c"))

	// The leader is part of the key: with partitions on two leaders, those
	// led by broker 1 sort first.
	slots = slotsFor("t", 4, 2) // 0,2 on leader 1; 1,3 on leader 2
	assert.Equal(t, []int32{0, 2}, DecidePartitions(false, []string{"a", "b"}, slots, "a"))
	assert.Equal(t, []int32{1, 3}, DecidePartitions(false, []string{"a", "b"}, slots, "b"))

	assert.Nil(t, DecidePartitions(false, []string{"a"}, slots, "stranger"))
	assert.Nil(t, DecidePartitions(false, []string{"a"}, nil, "a"))
}

// Every partition is owned exactly once, shares differ by at most one, and
// no member's share depends on the order its inputs arrive in.
func TestDecidePartitionsCoverage(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, roundRobin := range []bool{false, true} {
		for parts := 0; parts <= 40; parts++ {
			for consumers := 1; consumers <= 12; consumers++ {
				name := fmt.Sprintf("roundrobin=%v/%dp/%dc", roundRobin, parts, consumers)
				slots := slotsFor("topic", parts, 1+parts%3)
				members := make([]string, consumers)
				for i := range members {
					members[i] = fmt.Sprintf("host-%d:%08x", rng.IntN(3), rng.Uint32())
				}
				owner := map[int32]string{}
				sizes := []int{}
				for _, m := range members {
					got := DecidePartitions(roundRobin, members, slots, m)
					shuffled := slices.Clone(members)
					rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
					sl := slices.Clone(slots)
					rng.Shuffle(len(sl), func(i, j int) { sl[i], sl[j] = sl[j], sl[i] })
					require.Equal(t, got, DecidePartitions(roundRobin, shuffled, sl, m), name)
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
