package assign

import (
	"slices"
	"strconv"
)

// Slot is a partition as pykafka's assignment sees it: its id, its
// leader's id and its sort key "topic-leader-partition".
type Slot struct {
	id     int32
	leader int32
	key    string
}

// NewSlot returns partition id of topic, led by leader, as a Slot.
func NewSlot(topic string, leader, id int32) Slot {
	return Slot{id: id, leader: leader,
		key: topic + "-" + strconv.Itoa(int(leader)) + "-" + strconv.Itoa(int(id))}
}

// DecidePartitions is pykafka's decide_partitions: the partitions
// participant me owns. Both inputs are sorted as strings first, exactly as
// pykafka does, so "t-1-10" comes before "t-1-2" and a leader change can
// move partitions between members; every member computes the same split
// only from the same view of leaders and participants. A participant not in
// the list owns nothing. roundRobin chooses pykafka's round-robin strategy over its range one.
func DecidePartitions(roundRobin bool, participants []string, slots []Slot, me string) []int32 {
	participants = slices.Clone(participants)
	slices.Sort(participants)
	participants = slices.Compact(participants)
	idx, found := slices.BinarySearch(participants, me)
	if !found || len(slots) == 0 {
		return nil
	}
	slots = slices.Clone(slots)
	slices.SortFunc(slots, func(a, b Slot) int {
		switch {
		case a.key < b.key:
			return -1
		case a.key > b.key:
			return 1
		}
		return 0
	})

	var out []int32
	n := len(participants)
	if roundRobin {
		for i, s := range slots {
			if i%n == idx {
				out = append(out, s.id)
			}
		}
	} else {
		per, extra := len(slots)/n, len(slots)%n
		start := per*idx + min(idx, extra)
		count := per
		if idx < extra {
			count++
		}
		for _, s := range slots[start : start+count] {
			out = append(out, s.id)
		}
	}
	slices.Sort(out)
	return out
}
