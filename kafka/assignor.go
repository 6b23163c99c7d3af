package kafka

import "github.com/gregorkafka/gregor/internal/assign"

// Assignor divides a managed group's partitions among its members. The
// group's leader runs it for the whole group; every member advertises its
// Name in JoinGroup, and the coordinator accepts only members offering the
// same one. Set BalancedConsumerConfig.Assignor to use one; the built-in
// ones are RangeAssignor, RoundRobinAssignor, StickyAssignor and
// CooperativeStickyAssignor, each compatible with the Java client's
// assignor of the same name.
//
// Implementations must be deterministic and safe for concurrent use.
type Assignor interface {
	// Name is the protocol name, e.g. "range" or "cooperative-sticky".
	Name() string
	// UserData is what the member sends in its subscription: owned is
	// its assignment of generation, or nil before it had one (generation
	// is then -1).
	UserData(owned map[string][]int32, generation int32) []byte
	// Assign returns member id → topic → partitions for every member.
	// partitions holds the partition count of each subscribed topic that
	// exists. Every partition must go to at most one member subscribed to
	// its topic; an error fails the rebalance, which is retried.
	Assign(members []AssignorMember, partitions map[string]int32) (map[string]map[string][]int32, error)
}

// AssignorMember is one member's subscription as the leader sees it.
type AssignorMember struct {
	MemberID        string
	GroupInstanceID string // "" for a dynamic member
	Topics          []string
	UserData        []byte
	// OwnedPartitions and Generation come from subscription versions 1
	// and 2: what a cooperative member still holds, and the generation
	// it holds it from (-1 when not sent).
	OwnedPartitions map[string][]int32
	Generation      int32
}

// RangeAssignor is the Java client's RangeAssignor ("range").
func RangeAssignor() Assignor { return eagerAssignor{RangeAssignment.String(), assign.Range} }

// RoundRobinAssignor is the Java client's RoundRobinAssignor ("roundrobin").
func RoundRobinAssignor() Assignor {
	return eagerAssignor{RoundRobinAssignment.String(), assign.RoundRobin}
}

// eagerAssignor adapts the assignors that need no user data.
type eagerAssignor struct {
	name   string
	assign func([]assign.Member, map[string]int32) map[string]map[string][]int32
}

func (e eagerAssignor) Name() string                            { return e.name }
func (eagerAssignor) UserData(map[string][]int32, int32) []byte { return nil }

func (e eagerAssignor) Assign(members []AssignorMember, partitions map[string]int32) (map[string]map[string][]int32, error) {
	return e.assign(membersOf(members), partitions), nil
}

// StickyAssignor is the Java client's StickyAssignor ("sticky"): a
// balanced assignment that moves as few partitions as it can from one
// rebalance to the next. Each member tells the leader its previous
// assignment in its user data, in the Java assignor's format, so gregor
// and Java members share a sticky group either way round.
func StickyAssignor() Assignor { return stickyAssignor{assign.Sticky{}} }

// CooperativeStickyAssignor is the Java client's CooperativeStickyAssignor
// ("cooperative-sticky"): the sticky algorithm over the partitions members
// report owning, withholding any partition that changes owner until its
// previous owner has given it up, as the cooperative protocol requires.
// gregor's own members rebalance eagerly (they hold nothing while
// joining), so they stay correct in a group of cooperative Java members.
func CooperativeStickyAssignor() Assignor { return stickyAssignor{assign.Sticky{Cooperative: true}} }

// stickyAssignor adapts the sticky algorithms to Assignor.
type stickyAssignor struct{ s assign.Sticky }

func (a stickyAssignor) Name() string { return a.s.Name() }

func (a stickyAssignor) UserData(owned map[string][]int32, generation int32) []byte {
	return a.s.UserData(owned, generation)
}

func (a stickyAssignor) Assign(members []AssignorMember, partitions map[string]int32) (map[string]map[string][]int32, error) {
	return a.s.Assign(membersOf(members), partitions)
}

// reportsOwned tells assignors that read the partitions members owned from
// the subscription (cooperative ones) rather than from their user data.
func reportsOwned(a Assignor) bool {
	s, ok := a.(stickyAssignor)
	return ok && s.s.Cooperative
}

func membersOf(members []AssignorMember) []assign.Member {
	out := make([]assign.Member, len(members))
	for i, m := range members {
		out[i] = assign.Member(m)
	}
	return out
}

// assignorOf picks the configured assignor: Assignor when set, else the
// one Strategy names.
func assignorOf(cfg BalancedConsumerConfig) Assignor {
	if cfg.Assignor != nil {
		return cfg.Assignor
	}
	if cfg.Strategy == RoundRobinAssignment {
		return RoundRobinAssignor()
	}
	return RangeAssignor()
}

// checkAssignment rejects an assignment that gives a partition twice, or
// one that does not exist, or to a member not in the group: a custom
// assignor's bug must not reach the members.
func checkAssignment(name string, members []AssignorMember, partitions map[string]int32, out map[string]map[string][]int32) error {
	return assign.Check(name, membersOf(members), partitions, out)
}
