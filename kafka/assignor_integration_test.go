package kafka

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestManagedStickyAssignors runs gregor-only groups with the sticky
// assignors on a real broker: the group agrees on the assignor's protocol,
// and when a member leaves, the others keep every partition they had and
// share out only the leaver's.
func TestManagedStickyAssignors(t *testing.T) {
	forEachKind(t, []balancedKind{managedKRaft}, 9, func(t *testing.T, env *groupEnv) {
		base := env.group
		for _, assignor := range []Assignor{StickyAssignor(), CooperativeStickyAssignor()} {
			t.Run(assignor.Name(), func(t *testing.T) {
				env.group = base + "-" + assignor.Name()
				cfg := BalancedConsumerConfig{Assignor: assignor}
				a, b, c := env.consumer(t, cfg), env.consumer(t, cfg), env.consumer(t, cfg)
				env.waitSplit(t, a, b, c)
				aParts, cParts := a.Partitions(), c.Partitions()

				desc, err := env.cl.Cluster().DescribeGroup(env.ctx, env.group)
				require.NoError(t, err)
				assert.Equal(t, assignor.Name(), desc.Protocol)

				stopConsumer(t, env.ctx, b)
				env.waitSplit(t, a, c)
				assert.Subset(t, a.Partitions(), aParts, "a kept its partitions")
				assert.Subset(t, c.Partitions(), cParts, "c kept its partitions")
			})
		}
	})
}

// TestManagedAssignorConfig: an Assignor applies to managed groups only.
func TestManagedAssignorConfig(t *testing.T) {
	// Assignors are for broker-coordinated groups: naming a ZooKeeper refuses one.
	cfg := BalancedConsumerConfig{Assignor: StickyAssignor(), ZooKeeperConnect: "127.0.0.1:2181"}
	_, err := cfg.withDefaults(nil, "g")
	var cerr *ConfigError
	require.ErrorAs(t, err, &cerr)
	assert.Equal(t, "BalancedConsumerConfig.Assignor", cerr.Field)
	assert.Equal(t, "sticky", assignorOf(cfg).Name())
	assert.Equal(t, "roundrobin", assignorOf(BalancedConsumerConfig{Strategy: RoundRobinAssignment}).Name())
	assert.Equal(t, "range", assignorOf(BalancedConsumerConfig{}).Name())
}

// TestCheckAssignment: what a custom assignor returns is checked before it
// reaches the members.
func TestCheckAssignment(t *testing.T) {
	members := []AssignorMember{{MemberID: "a", Topics: []string{"t"}}, {MemberID: "b", Topics: []string{"t"}}}
	parts := map[string]int32{"t": 2}
	assert.NoError(t, checkAssignment("x", members, parts, map[string]map[string][]int32{"a": {"t": {0}}, "b": {"t": {1}}}))
	for _, bad := range []map[string]map[string][]int32{
		{"a": {"t": {0}}, "b": {"t": {0}}}, // twice
		{"a": {"t": {2}}},                  // no such partition
		{"a": {"u": {0}}},                  // no such topic
		{"z": {"t": {0}}},                  // no such member
	} {
		assert.Error(t, checkAssignment("x", members, parts, bad), "%v", bad)
	}
}
