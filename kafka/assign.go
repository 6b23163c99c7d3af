package kafka

import (
	"slices"
	"unicode/utf16"
)

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
//   - ZooKeeper-coordinated groups use pykafka's (assign_pykafka.go): every
//     member decides its own share from the sorted participant list and the
//     partitions sorted as "topic-leader-partition" strings.
//   - Broker-managed groups use the Java client's RangeAssignor and
//     RoundRobinAssignor (assign_java.go), run by the leader for the whole
//     group.

// compareJava orders strings as Java's String.compareTo does: by UTF-16
// code unit, which differs from Go's byte order only for characters beyond
// U+FFFF against those in U+E000..U+FFFF.
func compareJava(a, b string) int {
	if isASCII(a) && isASCII(b) {
		switch {
		case a < b:
			return -1
		case a > b:
			return 1
		}
		return 0
	}
	return slices.Compare(utf16.Encode([]rune(a)), utf16.Encode([]rune(b)))
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
