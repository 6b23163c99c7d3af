package kafka

import (
	"slices"
	"strconv"
)

// zkSlot is a partition as pykafka's assignment sees it: its id, its
// leader's id and its sort key "topic-leader-partition".
type zkSlot struct {
	id     int32
	leader int32
	key    string
}

func newZKSlot(topic string, leader, id int32) zkSlot {
	return zkSlot{id: id, leader: leader,
		key: topic + "-" + strconv.Itoa(int(leader)) + "-" + strconv.Itoa(int(id))}
}

// decidePartitions is pykafka's decide_partitions: the partitions
// participant me owns. Both inputs are sorted as strings first, exactly as
// pykafka does, so "t-1-10" comes before "t-1-2" and a leader change can
// move partitions between members; every member computes the same split
// only from the same view of leaders and participants. A participant not in
// the list owns nothing.
func decidePartitions(strategy AssignmentStrategy, participants []string, slots []zkSlot, me string) []int32 {
	participants = slices.Clone(participants)
	slices.Sort(participants)
	participants = slices.Compact(participants)
	idx, found := slices.BinarySearch(participants, me)
	if !found || len(slots) == 0 {
		return nil
	}
	slots = slices.Clone(slots)
	slices.SortFunc(slots, func(a, b zkSlot) int {
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
	switch strategy {
	case RoundRobinAssignment:
		for i, s := range slots {
			if i%n == idx {
				out = append(out, s.id)
			}
		}
	default:
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
