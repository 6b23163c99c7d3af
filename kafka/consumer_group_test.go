package kafka

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConsumerProtocolConfig(t *testing.T) {
	topic := groupTestTopic(t, 3)
	cfg, err := BalancedConsumerConfig{GroupProtocol: GroupProtocolConsumer, ServerAssignor: ServerAssignorRange}.withDefaults(topic, "g")
	require.NoError(t, err)
	assert.True(t, cfg.Managed)
	assert.Zero(t, cfg.SessionTimeout, "the broker's session timeout applies")
	assert.Zero(t, cfg.HeartbeatInterval, "the broker's heartbeat interval applies")
	assert.Equal(t, DefaultRebalanceTimeout, cfg.RebalanceTimeout)
	assert.Equal(t, "consumer", cfg.GroupProtocol.String())

	for _, tc := range []struct {
		name  string
		cfg   BalancedConsumerConfig
		field string
	}{
		{"zookeeper", BalancedConsumerConfig{GroupProtocol: GroupProtocolConsumer, ZooKeeperConnect: "zk:2181"}, "GroupProtocol"},
		{"client assignor", BalancedConsumerConfig{GroupProtocol: GroupProtocolConsumer, Assignor: StickyAssignor()}, "Assignor"},
		{"client assignors", BalancedConsumerConfig{GroupProtocol: GroupProtocolConsumer, Assignors: []Assignor{CooperativeStickyAssignor()}}, "Assignors"},
		{"strategy", BalancedConsumerConfig{GroupProtocol: GroupProtocolConsumer, Strategy: RoundRobinAssignment}, "Strategy"},
		{"session", BalancedConsumerConfig{GroupProtocol: GroupProtocolConsumer, SessionTimeout: time.Second}, "SessionTimeout"},
		{"heartbeat", BalancedConsumerConfig{GroupProtocol: GroupProtocolConsumer, HeartbeatInterval: time.Second}, "HeartbeatInterval"},
		{"server assignor, classic", BalancedConsumerConfig{ServerAssignor: ServerAssignorUniform}, "ServerAssignor"},
		{"unknown protocol", BalancedConsumerConfig{GroupProtocol: 7}, "GroupProtocol"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.cfg.withDefaults(topic, "g")
			var ce *ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, "BalancedConsumerConfig."+tc.field, ce.Field)
		})
	}

	// A ZooKeeper named by the client chooses ZooKeeper groups, to which
	// the consumer protocol does not apply; Managed gets it back.
	topic.cl.cfg.ZooKeeperHosts = "zk1:2181"
	_, err = BalancedConsumerConfig{GroupProtocol: GroupProtocolConsumer}.withDefaults(topic, "g")
	var ce *ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "BalancedConsumerConfig.GroupProtocol", ce.Field)
	assert.Contains(t, ce.Reason, "Managed")
	_, err = BalancedConsumerConfig{GroupProtocol: GroupProtocolConsumer, Managed: true}.withDefaults(topic, "g")
	require.NoError(t, err)
}
