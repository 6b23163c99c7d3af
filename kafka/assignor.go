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

// CooperativeAssignor is an Assignor for the cooperative rebalance protocol
// (KIP-429, the Java client's RebalanceProtocol.COOPERATIVE) when
// Cooperative reports true. Such an assignor never gives a member a
// partition that another member reports owning in its subscription
// (AssignorMember.OwnedPartitions): it withholds the partition for one
// rebalance, until its owner has given it up and the group rebalances
// again. A member whose assignors are all cooperative keeps its partitions
// through a rebalance and gives up only those the new assignment moves;
// the leader refuses an assignment that breaks the rule.
// CooperativeStickyAssignor is one.
type CooperativeAssignor interface {
	Assignor
	Cooperative() bool
}

// isCooperative reports whether a declares the cooperative protocol.
func isCooperative(a Assignor) bool {
	c, ok := a.(CooperativeAssignor)
	return ok && c.Cooperative()
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
// Members using it rebalance cooperatively (see CooperativeAssignor).
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

// Cooperative reports whether this is cooperative-sticky, which reads the
// partitions members own from their subscriptions and withholds those
// changing owner.
func (a stickyAssignor) Cooperative() bool { return a.s.Cooperative }

func membersOf(members []AssignorMember) []assign.Member {
	out := make([]assign.Member, len(members))
	for i, m := range members {
		out[i] = assign.Member(m)
	}
	return out
}

// assignorsOf lists the assignors a member offers, in order of
// preference: Assignors when set, else the one assignorOf picks.
func assignorsOf(cfg BalancedConsumerConfig) []Assignor {
	if len(cfg.Assignors) > 0 {
		return cfg.Assignors
	}
	return []Assignor{assignorOf(cfg)}
}

// assignorOf picks the configured assignor: Assignor when set, else the
// one Strategy names.
func assignorOf(cfg BalancedConsumerConfig) Assignor {
	if len(cfg.Assignors) > 0 {
		return cfg.Assignors[0]
	}
	if cfg.Assignor != nil {
		return cfg.Assignor
	}
	if cfg.Strategy == RoundRobinAssignment {
		return RoundRobinAssignor()
	}
	return RangeAssignor()
}

// checkCooperative rejects an assignment that hands a member a partition
// another member reports owning: under the cooperative protocol its owner
// is still consuming it.
func checkCooperative(name string, members []AssignorMember, out map[string]map[string][]int32) error {
	return assign.CheckCooperative(name, membersOf(members), out)
}

// checkAssignment rejects an assignment that gives a partition twice, or
// one that does not exist, or to a member not in the group: a custom
// assignor's bug must not reach the members.
func checkAssignment(name string, members []AssignorMember, partitions map[string]int32, out map[string]map[string][]int32) error {
	return assign.Check(name, membersOf(members), partitions, out)
}
