package kafka

import (
	"maps"
	"slices"

	"github.com/gregorkafka/gregor/protocol"
)

// topicParts is a set of partitions across topics: topic → partition ids,
// sorted, without duplicates and without empty entries. A balanced
// consumer's assignments, revocations and callbacks are kept in it.
type topicParts map[string][]int32

// normalized returns tp with each topic's ids sorted and deduplicated and
// empty topics left out.
func (tp topicParts) normalized() topicParts {
	out := make(topicParts, len(tp))
	for t, ids := range tp {
		if len(ids) == 0 {
			continue
		}
		ids = slices.Clone(ids)
		slices.Sort(ids)
		out[t] = slices.Compact(ids)
	}
	return out
}

func (tp topicParts) clone() topicParts {
	out := make(topicParts, len(tp))
	for t, ids := range tp {
		out[t] = slices.Clone(ids)
	}
	return out
}

func (tp topicParts) has(topic string, id int32) bool {
	_, found := slices.BinarySearch(tp[topic], id)
	return found
}

// len is the number of partitions across topics.
func (tp topicParts) len() int {
	n := 0
	for _, ids := range tp {
		n += len(ids)
	}
	return n
}

func (tp topicParts) equal(o topicParts) bool {
	return maps.EqualFunc(tp, o, func(a, b []int32) bool { return slices.Equal(a, b) })
}

// minus returns the partitions of tp that o lacks.
func (tp topicParts) minus(o topicParts) topicParts {
	out := topicParts{}
	for t, ids := range tp {
		var left []int32
		for _, id := range ids {
			if !o.has(t, id) {
				left = append(left, id)
			}
		}
		if len(left) > 0 {
			out[t] = left
		}
	}
	return out
}

// topics returns the topics, sorted.
func (tp topicParts) topics() []string {
	return slices.Sorted(maps.Keys(tp))
}

// idParts is topicParts with topics named by id, as KIP-848's heartbeats
// name them.
type idParts map[protocol.UUID][]int32

func (ip idParts) normalized() idParts {
	out := make(idParts, len(ip))
	for t, ids := range ip {
		if len(ids) == 0 {
			continue
		}
		ids = slices.Clone(ids)
		slices.Sort(ids)
		out[t] = slices.Compact(ids)
	}
	return out
}

func (ip idParts) clone() idParts {
	out := make(idParts, len(ip))
	for t, ids := range ip {
		out[t] = slices.Clone(ids)
	}
	return out
}

func (ip idParts) has(topic protocol.UUID, id int32) bool {
	_, found := slices.BinarySearch(ip[topic], id)
	return found
}

func (ip idParts) equal(o idParts) bool {
	return maps.EqualFunc(ip, o, func(a, b []int32) bool { return slices.Equal(a, b) })
}

// minus returns the partitions of ip that o lacks.
func (ip idParts) minus(o idParts) idParts {
	out := idParts{}
	for t, ids := range ip {
		for _, id := range ids {
			if !o.has(t, id) {
				out[t] = append(out[t], id)
			}
		}
	}
	return out
}

// ids returns the topic ids, in a stable order.
func (ip idParts) ids() []protocol.UUID {
	return slices.SortedFunc(maps.Keys(ip), func(a, b protocol.UUID) int { return slices.Compare(a[:], b[:]) })
}

// named returns ip with the topics named by names.
func (ip idParts) named(names map[protocol.UUID]string) topicParts {
	out := make(topicParts, len(ip))
	for id, ps := range ip {
		out[names[id]] = slices.Clone(ps)
	}
	return out
}
