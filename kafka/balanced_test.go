package kafka

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// groupTestTopic returns a topic of a client that has never talked to a
// broker, with partitions 0..n-1, for configuration tests.
func groupTestTopic(t *testing.T, n int32) *Topic {
	t.Helper()
	cfg, err := Config{Logger: testLogger()}.withDefaults()
	require.NoError(t, err)
	cl := newCluster(cfg, newHandler(t, "goroutine"))
	topic := newTopic(cl, "orders")
	parts := make([]*Partition, n)
	for i := range parts {
		parts[i] = newPartition(topic, int32(i))
	}
	topic.state.Store(&topicState{partitions: parts})
	return topic
}

func TestBalancedConsumerConfigDefaults(t *testing.T) {
	topic := groupTestTopic(t, 3)
	cfg, err := BalancedConsumerConfig{}.withDefaults(topic, "g")
	require.NoError(t, err)
	assert.True(t, cfg.Managed, "no ZooKeeper named: the brokers coordinate")
	assert.Empty(t, cfg.ZooKeeperConnect)
	assert.Equal(t, DefaultSessionTimeout, cfg.SessionTimeout)
	assert.Equal(t, RangeAssignment, cfg.Strategy)
	assert.Equal(t, DefaultRebalanceMaxRetries, cfg.RebalanceMaxRetries)
	assert.Equal(t, DefaultRebalanceBackoff, cfg.RebalanceBackoff)
	assert.False(t, cfg.AutoCommit, "off by default, as in pykafka")

	cfg, err = BalancedConsumerConfig{ZooKeeperConnect: "zk1:2181"}.withDefaults(topic, "g")
	require.NoError(t, err)
	assert.False(t, cfg.Managed, "a ZooKeeper named: ZooKeeper coordinates")
	assert.Equal(t, DefaultZooKeeperTimeout, cfg.ZooKeeperTimeout)
	assert.Zero(t, cfg.SessionTimeout)
	assert.Equal(t, DefaultQueuedMaxMessages, cfg.QueuedMaxMessages, "SimpleConsumer defaults apply")
	assert.Equal(t, DefaultQueuedMaxBytes, cfg.QueuedMaxBytes, "SimpleConsumer defaults apply")
	assert.Nil(t, cfg.Partitions)
	assert.Empty(t, cfg.ConsumerGroup)

	cfg, err = BalancedConsumerConfig{Managed: true}.withDefaults(topic, "g")
	require.NoError(t, err)
	assert.Equal(t, DefaultSessionTimeout, cfg.SessionTimeout)
	assert.Equal(t, DefaultHeartbeatInterval, cfg.HeartbeatInterval)
	assert.Equal(t, DefaultRebalanceTimeout, cfg.RebalanceTimeout)
	assert.Empty(t, cfg.ZooKeeperConnect)

	// A short session gets a heartbeat interval that fits in it.
	cfg, err = BalancedConsumerConfig{Managed: true, SessionTimeout: 1500 * time.Millisecond}.withDefaults(topic, "g")
	require.NoError(t, err)
	assert.Equal(t, 500*time.Millisecond, cfg.HeartbeatInterval)

	// The client's ZooKeeper connect string is the default one, and
	// chooses ZooKeeper; Managed still forces the brokers.
	topic.cl.cfg.ZooKeeperHosts = "zk1:2181/kafka"
	cfg, err = BalancedConsumerConfig{}.withDefaults(topic, "g")
	require.NoError(t, err)
	assert.False(t, cfg.Managed)
	assert.Equal(t, "zk1:2181/kafka", cfg.ZooKeeperConnect)
	cfg, err = BalancedConsumerConfig{Managed: true}.withDefaults(topic, "g")
	require.NoError(t, err)
	assert.True(t, cfg.Managed)
	assert.Empty(t, cfg.ZooKeeperConnect)
	_, err = BalancedConsumerConfig{SessionTimeout: time.Second}.withDefaults(topic, "g")
	var ce *ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "BalancedConsumerConfig.SessionTimeout", ce.Field)
	assert.Contains(t, ce.Error(), "set Managed", "says what to set")
}

func TestBalancedConsumerConfigErrors(t *testing.T) {
	topic := groupTestTopic(t, 3)
	for _, tc := range []struct {
		group string
		cfg   BalancedConsumerConfig
		field string
	}{
		{"", BalancedConsumerConfig{}, "group"},
		{"a/b", BalancedConsumerConfig{ZooKeeperConnect: "zk:2181"}, "group"},
		{"g", BalancedConsumerConfig{ConsumerConfig: ConsumerConfig{ConsumerGroup: "x"}}, "ConsumerGroup"},
		{"g", BalancedConsumerConfig{ConsumerConfig: ConsumerConfig{Partitions: []int32{0}}}, "Partitions"},
		{"g", BalancedConsumerConfig{Strategy: 7}, "Strategy"},
		{"g", BalancedConsumerConfig{RebalanceMaxRetries: -1}, "RebalanceMaxRetries"},
		{"g", BalancedConsumerConfig{RebalanceBackoff: -time.Second}, "RebalanceBackoff"},
		{"g", BalancedConsumerConfig{Managed: true, SessionTimeout: time.Duration(1 << 62)}, "SessionTimeout"},
		{"g", BalancedConsumerConfig{Managed: true, SessionTimeout: time.Second, HeartbeatInterval: time.Second}, "HeartbeatInterval"},
		{"g", BalancedConsumerConfig{Managed: true, ZooKeeperConnect: "zk:2181"}, "ZooKeeperConnect"},
		{"g", BalancedConsumerConfig{Managed: true, ZooKeeperTimeout: time.Second}, "ZooKeeperTimeout"},
		{"g", BalancedConsumerConfig{ZooKeeperConnect: "zk:2181", SessionTimeout: time.Second}, "SessionTimeout"},
		{"g", BalancedConsumerConfig{ZooKeeperConnect: "zk:2181", GroupInstanceID: "i"}, "GroupInstanceID"},
		{"g", BalancedConsumerConfig{ZooKeeperTimeout: time.Second}, "ZooKeeperConnect"},
		{"g", BalancedConsumerConfig{ZooKeeperConnect: "zk:2181/a/"}, "ZooKeeperConnect"},
		{"g", BalancedConsumerConfig{ZooKeeperConnect: ",,"}, "ZooKeeperConnect"},
		{"g", BalancedConsumerConfig{ZooKeeperConnect: "zk:2181/a//b"}, "ZooKeeperConnect"},
		{"g", BalancedConsumerConfig{ConsumerConfig: ConsumerConfig{QueuedMaxMessages: -1}}, "ConsumerConfig.QueuedMaxMessages"},
	} {
		_, err := tc.cfg.withDefaults(topic, tc.group)
		var ce *ConfigError
		require.ErrorAs(t, err, &ce, "%+v", tc)
		assert.Equal(t, "BalancedConsumerConfig."+tc.field, ce.Field, "%v", err)
	}
	_, err := BalancedConsumerConfig{ZooKeeperConnect: "zk:2181/kafka"}.withDefaults(topic, "g")
	assert.NoError(t, err)
}

func TestBalancedConsumerErrors(t *testing.T) {
	cause := errors.New("boom")
	err := &GroupError{Group: "g", Err: cause}
	assert.ErrorIs(t, err, cause)
	assert.Contains(t, err.Error(), `"g"`)
}

// A consumer that owns nothing times out in Consume, and one that was
// never started stops cleanly.
func TestBalancedConsumerLifecycleOffline(t *testing.T) {
	topic := groupTestTopic(t, 3)
	zb, err := topic.BalancedConsumer("g", BalancedConsumerConfig{ZooKeeperConnect: "127.0.0.1:2181", ConsumerConfig: ConsumerConfig{ManualStart: true}})
	require.NoError(t, err)
	assert.NotEmpty(t, zb.MemberID(), "a ZooKeeper member's id is made with it")
	require.NoError(t, zb.Stop(context.Background()))

	b, err := topic.BalancedConsumer("g", BalancedConsumerConfig{ConsumerConfig: ConsumerConfig{ManualStart: true}})
	require.NoError(t, err)
	assert.Empty(t, b.Partitions())
	assert.Empty(t, b.HeldOffsets())
	assert.Empty(t, b.MemberID(), "no member id before joining")
	assert.NoError(t, b.CommitOffsets(context.Background()))
	require.NoError(t, b.Stop(context.Background()))
	_, err = b.Consume(context.Background())
	assert.ErrorIs(t, err, ErrConsumerStopped)
	assert.ErrorIs(t, b.Start(context.Background()), ErrConsumerStopped)
	require.NoError(t, b.Stop(context.Background()), "idempotent")
}

// TestZooKeeperUnreachableSaysWhatToSet: a ZooKeeper named but not there
// fails Start with an error that names the setting and the alternative.
func TestZooKeeperUnreachableSaysWhatToSet(t *testing.T) {
	ctx := testCtx(t)
	topic := groupTestTopic(t, 1)
	addr := deadAddr(t)
	b, err := topic.BalancedConsumer("g", BalancedConsumerConfig{
		ZooKeeperConnect: addr, ZooKeeperTimeout: 300 * time.Millisecond,
		ConsumerConfig: ConsumerConfig{ManualStart: true},
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Stop(context.Background()) })
	err = b.Start(ctx)
	require.ErrorIs(t, err, ErrZooKeeperUnreachable)
	var ze *ZooKeeperUnreachableError
	require.ErrorAs(t, err, &ze)
	assert.Equal(t, addr, ze.Connect)
	assert.Equal(t, "BalancedConsumerConfig.ZooKeeperConnect", ze.From)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "no ZooKeeper session at "+addr)
	assert.Contains(t, err.Error(), "leave the ZooKeeper settings empty to have the group coordinated by the brokers")
}

func TestAssignmentStrategyNames(t *testing.T) {
	assert.Equal(t, "range", RangeAssignment.String())
	assert.Equal(t, "roundrobin", RoundRobinAssignment.String())
	assert.Equal(t, "range", RangeAssignor().Name())
	assert.Equal(t, "roundrobin", RoundRobinAssignor().Name())
	assert.Equal(t, "sticky", StickyAssignor().Name())
	assert.Equal(t, "cooperative-sticky", CooperativeStickyAssignor().Name())
}
