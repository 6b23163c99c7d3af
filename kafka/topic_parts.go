package kafka

import (
	"maps"
	"slices"

	"github.com/gregorkafka/gregor/protocol"
)

// partSet is a set of partitions across topics: topic → partition ids,
// sorted, without duplicates and without empty entries. K names the topic:
// by name (topicParts: a balanced consumer's assignments, revocations and
// callbacks) or by id (idParts: as KIP-848's heartbeats name them).
type partSet[K comparable] map[K][]int32

type (
	topicParts = partSet[string]
	idParts    = partSet[protocol.UUID]
)

// normalized returns ps with each topic's ids sorted and deduplicated and
// empty topics left out.
func (ps partSet[K]) normalized() partSet[K] {
	out := make(partSet[K], len(ps))
	for t, ids := range ps {
		if len(ids) == 0 {
			continue
		}
		ids = slices.Clone(ids)
		slices.Sort(ids)
		out[t] = slices.Compact(ids)
	}
	return out
}

func (ps partSet[K]) clone() partSet[K] {
	out := make(partSet[K], len(ps))
	for t, ids := range ps {
		out[t] = slices.Clone(ids)
	}
	return out
}

func (ps partSet[K]) has(topic K, id int32) bool {
	_, found := slices.BinarySearch(ps[topic], id)
	return found
}

// len is the number of partitions across topics.
func (ps partSet[K]) len() int {
	n := 0
	for _, ids := range ps {
		n += len(ids)
	}
	return n
}

func (ps partSet[K]) equal(o partSet[K]) bool {
	return maps.EqualFunc(ps, o, func(a, b []int32) bool { return slices.Equal(a, b) })
}

// minus returns the partitions of ps that o lacks.
func (ps partSet[K]) minus(o partSet[K]) partSet[K] {
	out := partSet[K]{}
	for t, ids := range ps {
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

// sortedTopics returns tp's topics, sorted.
func sortedTopics(tp topicParts) []string {
	return slices.Sorted(maps.Keys(tp))
}

// sortedIDs returns ip's topic ids, in a stable order.
func sortedIDs(ip idParts) []protocol.UUID {
	return slices.SortedFunc(maps.Keys(ip), func(a, b protocol.UUID) int { return slices.Compare(a[:], b[:]) })
}

// named returns ip with the topics named by names.
func named(ip idParts, names map[protocol.UUID]string) topicParts {
	out := make(topicParts, len(ip))
	for id, ps := range ip {
		out[names[id]] = slices.Clone(ps)
	}
	return out
}
