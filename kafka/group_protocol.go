package kafka

import (
	"errors"
	"fmt"
)

// GroupProtocol is the broker protocol a broker-coordinated
// BalancedConsumer speaks, Java's group.protocol.
type GroupProtocol int

const (
	// GroupProtocolClassic is the classic group protocol (JoinGroup,
	// SyncGroup, Heartbeat): the group's leader member runs the assignor.
	// The default, and the only one brokers before Kafka 4 (or 3.7 with
	// early access) speak.
	GroupProtocolClassic GroupProtocol = iota
	// GroupProtocolConsumer is the consumer group protocol of KIP-848
	// (ConsumerGroupHeartbeat, Kafka 4+): the coordinator assigns with a
	// server-side assignor (BalancedConsumerConfig.ServerAssignor) and
	// moves partitions incrementally, so a member joining or leaving
	// disturbs only the partitions that move. Session timeout and
	// heartbeat interval are the broker's (group.consumer.*), so the
	// config's SessionTimeout, HeartbeatInterval, Assignor and Strategy do
	// not apply; RebalanceTimeout bounds how long the member may take to
	// give partitions up. A broker without the API fails Start and Consume
	// with an error matching ErrGroupProtocolUnsupported.
	GroupProtocolConsumer
)

func (p GroupProtocol) String() string {
	switch p {
	case GroupProtocolClassic:
		return "classic"
	case GroupProtocolConsumer:
		return "consumer"
	}
	return fmt.Sprintf("GroupProtocol(%d)", int(p))
}

// ErrGroupProtocolUnsupported matches the *GroupError of a
// GroupProtocolConsumer member whose coordinator does not speak the
// consumer group protocol (Kafka before 4.0, or a broker whose
// group.coordinator.rebalance.protocols leaves it out); the error also
// matches protocol.ErrUnsupportedVersion. Such a group needs
// GroupProtocolClassic.
var ErrGroupProtocolUnsupported = errors.New("kafka: the group coordinator does not support the consumer group protocol (KIP-848); use GroupProtocolClassic")

// Server-side assignors Kafka's brokers ship with (group.consumer.assignors).
const (
	ServerAssignorUniform = "uniform"
	ServerAssignorRange   = "range"
)

// checkGroupProtocol validates the fields that depend on GroupProtocol,
// once the coordination (Managed) is decided and before defaults fill the
// classic protocol's timeouts.
func (c BalancedConsumerConfig) checkGroupProtocol() error {
	bad := func(field, format string, args ...any) error {
		return &ConfigError{Field: "BalancedConsumerConfig." + field, Reason: fmt.Sprintf(format, args...)}
	}
	switch c.GroupProtocol {
	case GroupProtocolClassic:
		if c.ServerAssignor != "" {
			return bad("ServerAssignor", "applies to the consumer group protocol only: set GroupProtocol to GroupProtocolConsumer")
		}
		return nil
	case GroupProtocolConsumer:
	default:
		return bad("GroupProtocol", "unknown protocol %d", int(c.GroupProtocol))
	}
	if !c.Managed {
		return bad("GroupProtocol", "the consumer group protocol is the brokers': it does not apply to ZooKeeper groups "+
			"(leave the ZooKeeper fields empty, or set Managed when the client's Config.ZooKeeperHosts is set)")
	}
	for _, f := range []struct {
		name, why string
		set       bool
	}{
		{"Assignor", "the broker assigns: name a ServerAssignor instead", c.Assignor != nil},
		{"Assignors", "the broker assigns: name a ServerAssignor instead", len(c.Assignors) > 0},
		{"Strategy", "the broker assigns: name a ServerAssignor instead", c.Strategy != RangeAssignment},
		{"SessionTimeout", "the broker's group.consumer.session.timeout.ms applies", c.SessionTimeout != 0},
		{"HeartbeatInterval", "the broker's group.consumer.heartbeat.interval.ms applies", c.HeartbeatInterval != 0},
	} {
		if f.set {
			return bad(f.name, "does not apply to the consumer group protocol: %s", f.why)
		}
	}
	if len(c.ServerAssignor) > maxClientIDLen {
		return bad("ServerAssignor", "longer than %d bytes", maxClientIDLen)
	}
	return nil
}
