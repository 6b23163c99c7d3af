package kafka

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCooperativeAssignorsDecideProtocol: a member rebalances
// cooperatively only when every assignor it offers is cooperative.
func TestCooperativeAssignorsDecideProtocol(t *testing.T) {
	topic := groupTestTopic(t, 3)
	for _, c := range []struct {
		cfg  BalancedConsumerConfig
		coop bool
	}{
		{BalancedConsumerConfig{}, false},
		{BalancedConsumerConfig{Assignor: StickyAssignor()}, false},
		{BalancedConsumerConfig{Assignor: CooperativeStickyAssignor()}, true},
		{BalancedConsumerConfig{Assignors: []Assignor{CooperativeStickyAssignor(), RangeAssignor()}}, false},
		{BalancedConsumerConfig{Assignors: []Assignor{CooperativeStickyAssignor()}}, true},
		{BalancedConsumerConfig{Assignor: customCoop{}}, true},
	} {
		c.cfg.ManualStart = true
		b, err := topic.BalancedConsumer("g", c.cfg)
		require.NoError(t, err)
		m := b.member.(*managedMembership)
		assert.Equal(t, c.coop, m.cooperative, "%v", m.protocolNames())
		assert.Equal(t, c.coop, b.coop)
	}
}

// customCoop is an application's cooperative assignor: everything to the
// first member.
type customCoop struct{}

func (customCoop) Name() string                              { return "first" }
func (customCoop) UserData(map[string][]int32, int32) []byte { return nil }
func (customCoop) Cooperative() bool                         { return true }
func (customCoop) Assign(members []AssignorMember, parts map[string]int32) (map[string]map[string][]int32, error) {
	out := map[string]map[string][]int32{}
	for t, n := range parts {
		for p := range n {
			out[members[0].MemberID] = map[string][]int32{t: append(out[members[0].MemberID][t], p)}
		}
	}
	return out, nil
}

func TestAssignorsConfig(t *testing.T) {
	topic := groupTestTopic(t, 3)
	for _, c := range []struct {
		cfg   BalancedConsumerConfig
		field string
	}{
		{BalancedConsumerConfig{Assignors: []Assignor{RangeAssignor()}, Assignor: RangeAssignor()}, "Assignors"},
		{BalancedConsumerConfig{Assignors: []Assignor{RangeAssignor(), nil}}, "Assignors"},
		{BalancedConsumerConfig{Assignors: []Assignor{RangeAssignor(), RangeAssignor()}}, "Assignors"},
		{BalancedConsumerConfig{Assignors: []Assignor{RangeAssignor()}, ZooKeeperConnect: "127.0.0.1:2181"}, "Assignors"},
		{BalancedConsumerConfig{LostCallback: func(context.Context, []int32) {}, ZooKeeperConnect: "127.0.0.1:2181"}, "LostCallback"},
	} {
		_, err := topic.BalancedConsumer("g", c.cfg)
		var cerr *ConfigError
		require.ErrorAs(t, err, &cerr)
		assert.Equal(t, "BalancedConsumerConfig."+c.field, cerr.Field)
	}
	assert.Equal(t, "cooperative-sticky", assignorOf(BalancedConsumerConfig{
		Assignors: []Assignor{CooperativeStickyAssignor(), RangeAssignor()}}).Name())
}

// TestCheckCooperative: the leader refuses a cooperative assignment that
// moves a partition straight from one owner to another.
func TestCheckCooperative(t *testing.T) {
	members := []AssignorMember{
		{MemberID: "a", Topics: []string{"t"}, OwnedPartitions: map[string][]int32{"t": {0, 1}}},
		{MemberID: "b", Topics: []string{"t"}},
	}
	assert.NoError(t, checkCooperative("x", members, map[string]map[string][]int32{"a": {"t": {0}}, "b": {"t": {2}}}))
	assert.Error(t, checkCooperative("x", members, map[string]map[string][]int32{"a": {"t": {0}}, "b": {"t": {1}}}))
}

// TestRevokeSomeAndLost: a cooperative revocation tells the callback and
// commits only the partitions going; lost partitions reach LostCallback
// instead, are dropped, and their consumer will not commit.
func TestRevokeSomeAndLost(t *testing.T) {
	topic := groupTestTopic(t, 3)
	var revoked, lost [][]int32
	b, err := topic.BalancedConsumer("g", BalancedConsumerConfig{
		Assignor:             CooperativeStickyAssignor(),
		ConsumerConfig:       ConsumerConfig{ManualStart: true},
		BeforeRevokeCallback: func(_ context.Context, ps []int32) { revoked = append(revoked, ps) },
		LostCallback:         func(_ context.Context, ps []int32) { lost = append(lost, ps) },
	})
	require.NoError(t, err)
	inner := newSimpleConsumer(topic, ConsumerConfig{Partitions: []int32{0, 2}})
	t.Cleanup(func() { _ = inner.Stop(context.Background()) })
	resumeOne(b, inner, []int32{0, 2})

	require.NoError(t, b.revokeSome(context.Background(), topicParts{topic.Name(): {2}}))
	assert.Equal(t, [][]int32{{2}}, revoked)
	resumeOne(b, inner, []int32{0, 2})

	assert.False(t, b.takeLost(), "nothing lost yet")
	b.markLost()
	require.True(t, b.takeLost())
	assert.False(t, b.takeLost(), "told once")
	b.dropLost(context.Background())
	assert.Equal(t, [][]int32{{0, 2}}, lost)
	assert.Len(t, revoked, 1, "lost, not revoked")
	assert.Empty(t, b.Partitions())
	assert.True(t, inner.dropCommit.Load(), "no commit for lost partitions")

	b.markLost()
	assert.False(t, b.takeLost(), "owning nothing, nothing is lost")
}
