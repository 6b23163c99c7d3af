package kafka

// AssignmentStrategy is how a balanced consumer group divides a topic's
// partitions among its members. Every member of a group must use the same
// one.
type AssignmentStrategy uint8

const (
	// RangeAssignment gives each member one contiguous run of partitions,
	// the first members one more when the partitions do not divide evenly.
	// It is the default, as in pykafka and the Java client.
	RangeAssignment AssignmentStrategy = iota
	// RoundRobinAssignment deals the partitions out one at a time.
	RoundRobinAssignment
)

// String returns the strategy's protocol name: "range" or "roundrobin",
// the names the Java client registers its assignors under.
func (s AssignmentStrategy) String() string {
	switch s {
	case RangeAssignment:
		return "range"
	case RoundRobinAssignment:
		return "roundrobin"
	}
	return "unknown"
}

// Two families of algorithms implement each strategy, so that gregor
// consumers split partitions exactly as the consumers they share a group
// with would:
//
//   - ZooKeeper-coordinated groups use pykafka's (internal/assign): every
//     member decides its own share from the sorted participant list and the
//     partitions sorted as "topic-leader-partition" strings.
//   - Broker-managed groups use the Java client's RangeAssignor and
//     RoundRobinAssignor (internal/assign), run by the leader for the whole
//     group.
