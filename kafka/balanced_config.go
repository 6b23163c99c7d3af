package kafka

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/gregorkafka/gregor/internal/zookeeper"
)

// Defaults applied to zero BalancedConsumerConfig fields. The rebalance and
// ZooKeeper ones are pykafka's; SessionTimeout is pykafka's too (the Java
// client's is 45s).
const (
	DefaultRebalanceMaxRetries = 5
	DefaultRebalanceBackoff    = 2 * time.Second
	DefaultZooKeeperTimeout    = 6 * time.Second
	DefaultSessionTimeout      = 30 * time.Second
	DefaultHeartbeatInterval   = 3 * time.Second
	DefaultRebalanceTimeout    = 60 * time.Second
	// DefaultMetadataRefreshInterval is how often a classic-protocol
	// member looks for topics created and partitions added: the Java
	// client's metadata.max.age.ms.
	DefaultMetadataRefreshInterval = 5 * time.Minute
)

// RebalanceCallback is called after a rebalance changed the partitions a
// balanced consumer owns, or made it start them again from the group's
// committed offsets (it may have missed a generation), before consumption
// resumes: pykafka's post_rebalance_callback, with pykafka's values. Both
// maps hold held offsets, as HeldOffsets does: the offset of the last
// message consumed, one less than the next message (-1: none consumed
// yet). heldBefore has each partition owned before, at the last message
// delivered; heldNow each partition owned now, at where it starts (so a
// partition about to start at offset 42 shows 41). Partitions it returns
// targets for are moved there (see SimpleConsumer.ResetOffsets;
// OffsetAfter(n) makes n+1 the next message, OffsetAt(n) n itself) and
// the new positions committed; nil moves nothing. It runs on the
// rebalancing task: it must not call the consumer's Consume or Stop.
type RebalanceCallback func(heldBefore, heldNow map[int32]int64) map[int32]OffsetTarget

// BalancedConsumerConfig configures a BalancedConsumer. Like the other
// configs, its zero value means the documented defaults (pykafka's) and
// Topic.BalancedConsumer reports the first bad field as a *ConfigError.
//
// # Coordination
//
// The group is coordinated through ZooKeeper (pykafka's BalancedConsumer)
// only when a ZooKeeper is named: ZooKeeperConnect (or ZooKeeperTimeout) here, or
// the client's Config.ZooKeeperHosts. Otherwise, and always with Managed,
// the group's coordinator broker does it (pykafka's
// ManagedBalancedConsumer, the Java client's protocol), which is what
// Kafka 4 clusters, having no ZooKeeper, need. The zero value therefore
// makes a broker-coordinated member.
type BalancedConsumerConfig struct {
	// ConsumerConfig configures the SimpleConsumer run over the partitions
	// the consumer owns, with the same defaults. Leave ConsumerGroup,
	// and Partitions zero: the group is BalancedConsumer's
	// argument, and it decides the rest. Some fields act on the balanced
	// consumer as a whole: ConsumerTimeout bounds Consume however many
	// rebalances it waits through; AutoCommit (off by default, as in
	// pykafka) also commits before every rebalance and on Stop, and only
	// then (offsets are never committed behind the application's back);
	// ManualStart defers joining the group to Start; ResetOffsetOnStart
	// applies to the partitions of the first assignment only, not to
	// those gained later.
	ConsumerConfig

	// Managed forces the broker's group membership (JoinGroup, SyncGroup,
	// Heartbeat) even where a ZooKeeper is named, as for a client that
	// finds its brokers through Config.ZooKeeperHosts; the ZooKeeper
	// fields here are then refused. Without it the choice follows those
	// fields (see "Coordination"), so it is needed only in that case; it
	// is kept so that configurations written when it was the only switch
	// keep working. After validation it reports the choice made.
	Managed bool

	// Strategy is how the group divides the partitions. ZooKeeper groups
	// use pykafka's algorithms, managed groups the Java client's, so that
	// a group may mix gregor consumers with pykafka's or Java's
	// respectively. Default RangeAssignment.
	Strategy AssignmentStrategy
	// Assignor, when set, replaces Strategy in managed groups: a built-in
	// one such as StickyAssignor() or a custom implementation. With a
	// cooperative one (CooperativeStickyAssignor(), or a custom
	// CooperativeAssignor) the member rebalances cooperatively: it keeps
	// consuming its partitions through a rebalance and gives up only those
	// that move to another member.
	Assignor Assignor
	// Assignors, when set, replaces Assignor and Strategy: the assignors
	// the member offers the group, in order of preference, as the Java
	// client's partition.assignment.strategy. The group uses one every
	// member offers. The member rebalances cooperatively only when all of
	// them are cooperative. Moving a running group from an eager assignor
	// to a cooperative one takes two rolling restarts, as with the Java
	// client: first every member with {cooperative, eager} (the group
	// switches assignor once all offer the cooperative one, still
	// rebalancing eagerly), then every member with the cooperative one
	// alone.
	Assignors []Assignor

	// CommitOnRebalance commits the positions reached before every
	// rebalance even with AutoCommit off, as pykafka's balanced consumers
	// do, so that the next owner of a partition resumes after the last
	// message delivered here instead of replaying from the last commit: set
	// it in groups shared with pykafka members. Default false: without
	// AutoCommit nothing is committed behind the application's back.
	CommitOnRebalance bool

	// RebalanceMaxRetries is how many times a ZooKeeper rebalance that
	// could not claim a partition (another member still owns it) is
	// retried before the failure is logged as an error; the consumer then
	// keeps what it has and starts over after RebalanceBackoff, since a
	// partition left unowned is worse than a noisy log. A managed consumer
	// retries a failed join this many times before logging an error, and
	// then goes on too. Default 5.
	RebalanceMaxRetries int

	// RebalanceBackoff is the pause before retrying a rebalance, multiplied
	// by the attempt number. Default 2s.
	RebalanceBackoff time.Duration

	// PostRebalanceCallback, when set, sees each change of the partitions
	// owned and may move them; see RebalanceCallback.
	PostRebalanceCallback RebalanceCallback

	// BeforeRevokeCallback, when set, runs before partitions are given up
	// in a rebalance or Stop, before AutoCommit commits: the place to
	// finish and commit the work of the messages delivered when AutoCommit
	// is off. See RevokeCallback.
	BeforeRevokeCallback RevokeCallback

	// AfterAssignCallback, when set, runs after a rebalance gave the
	// consumer partitions, once their starting positions are known and
	// before they are delivered from: every partition assigned under
	// eager rebalancing, only those added under cooperative rebalancing
	// (Java's onPartitionsAssigned). It is not called with none.
	AfterAssignCallback PartitionsCallback

	// LostCallback, when set, runs instead of BeforeRevokeCallback for
	// partitions the consumer lost without giving them up: its membership
	// ended behind its back (the coordinator dropped it after
	// SessionTimeout without heartbeats, or fenced it), or no heartbeat
	// got an answer for nearly SessionTimeout (it then gives them up one
	// HeartbeatInterval before the coordinator can hand them on), so
	// another member may own them. Nothing is committed for them: a commit would be
	// refused, or would overwrite the new owner's. Managed groups only;
	// nil drops them silently (a GroupLost event is still reported).
	LostCallback PartitionsCallback

	// ZooKeeperConnect is the ZooKeeper connect string, "h1:2181,h2:2181"
	// with an optional chroot suffix ("/kafka"); setting it chooses
	// ZooKeeper coordination. Default: the client's Config.ZooKeeperHosts
	// (and with neither, the group is coordinated by a broker).
	ZooKeeperConnect string

	// ZooKeeperTimeout is the ZooKeeper session timeout, and the longest
	// wait for the first session (pykafka's
	// zookeeper_connection_timeout_ms). Default 6s. ZooKeeper groups only.
	ZooKeeperTimeout time.Duration

	// SessionTimeout is how long the coordinator keeps a member that sends
	// no heartbeat before it rebalances the group without it. The broker
	// bounds it (group.min/max.session.timeout.ms). Default 30s. Managed
	// groups only.
	SessionTimeout time.Duration

	// HeartbeatInterval is the time between heartbeats, which also bounds
	// how long a member takes to notice a rebalance. Keep it well below
	// SessionTimeout. Default 3s. Broker-coordinated groups only.
	HeartbeatInterval time.Duration

	// RebalanceTimeout is how long the coordinator waits for every member
	// to rejoin during a rebalance. Default 60s. Broker-coordinated groups only.
	RebalanceTimeout time.Duration

	// GroupInstanceID makes the consumer a static member (KIP-345): it
	// keeps its partitions across a restart within SessionTimeout, without
	// a rebalance, and so leaves the group on Stop only by timing out.
	// Empty (the default) means a dynamic member. Broker-coordinated groups
	// only.
	GroupInstanceID string

	// GroupProtocol chooses the broker's group protocol: the classic one
	// (the default) or KIP-848's consumer protocol, GroupProtocolConsumer.
	// Broker-coordinated groups only.
	GroupProtocol GroupProtocol

	// Topics are the topics a consumer made with Client.BalancedConsumer
	// subscribes to; give them or TopicPattern. Every member of the group
	// may subscribe to a different set: the group's assignor shares out
	// each topic among the members subscribed to it. Topic.BalancedConsumer
	// consumes its own topic and refuses this field. ZooKeeper groups
	// consume one topic, made with Topic.BalancedConsumer.
	Topics []string

	// TopicPattern, for a consumer made with Client.BalancedConsumer,
	// subscribes to every topic whose whole name the regular expression
	// matches (as the Java client's subscribe(Pattern)), internal topics
	// excepted, including topics created later. With the classic protocol
	// the consumer matches it (Go's RE2 syntax) against the cluster's
	// topics at the start and every MetadataRefreshInterval, and rejoins
	// the group when the set changes. With GroupProtocolConsumer the
	// broker resolves it (RE2/J syntax, which RE2's mostly is; Kafka 4.0+,
	// ConsumerGroupHeartbeat v1) and assigns what it matches as topics
	// appear; an older coordinator fails the member with a *GroupError
	// matching ErrTopicPatternUnsupported.
	TopicPattern string

	// MetadataRefreshInterval is how often a member of the classic
	// protocol looks at the cluster's metadata: a TopicPattern member for
	// topics created or deleted that its pattern matches, the group's
	// leader for topics it assigns that were created or deleted or gained
	// partitions since; either rejoins the group when it finds some, so
	// they are assigned (the Java client's metadata.max.age.ms). Default
	// DefaultMetadataRefreshInterval.
	MetadataRefreshInterval time.Duration

	// BeforeRevokeTopics, AfterAssignTopics and LostTopics are
	// BeforeRevokeCallback, AfterAssignCallback and LostCallback with
	// the partitions named by topic: the form for consumers of several
	// topics, which the one-topic callbacks (and PostRebalanceCallback)
	// cannot serve and refuse. When both forms are set, both run, the
	// one-topic form first.
	BeforeRevokeTopics TopicPartitionsCallback
	AfterAssignTopics  TopicPartitionsCallback
	LostTopics         TopicPartitionsCallback

	// ServerAssignor names the broker-side assignor of a
	// GroupProtocolConsumer member: ServerAssignorUniform,
	// ServerAssignorRange or another the brokers list in
	// group.consumer.assignors (one they lack fails the member with
	// protocol.ErrUnsupportedAssignor). Empty: the brokers' default.
	ServerAssignor string
}

// TopicPartitionsCallback is told of partitions a balanced consumer gives
// up, gained or lost, topic → partition ids (sorted): the several-topic
// form of RevokeCallback and PartitionsCallback, with their rules.
type TopicPartitionsCallback func(ctx context.Context, partitions map[string][]int32)

// withDefaults validates c for group on topic t and returns a copy with
// every default filled in. The embedded ConsumerConfig keeps Partitions nil.
func (c BalancedConsumerConfig) withDefaults(t *Topic, group string) (BalancedConsumerConfig, error) {
	var cl *Cluster
	if t != nil {
		cl = t.cl
	}
	return c.withDefaultsOn(cl, t, group)
}

// withDefaultsOn validates c for group, on topic t (Topic.BalancedConsumer)
// or on c.Topics or c.TopicPattern (Client.BalancedConsumer, t nil).
func (c BalancedConsumerConfig) withDefaultsOn(cl *Cluster, t *Topic, group string) (BalancedConsumerConfig, error) {
	bad := func(field, format string, args ...any) (BalancedConsumerConfig, error) {
		return c, &ConfigError{Field: "BalancedConsumerConfig." + field, Reason: fmt.Sprintf(format, args...)}
	}
	if group == "" {
		return bad("group", "a balanced consumer needs a consumer group")
	}
	switch {
	case c.ConsumerGroup != "":
		return bad("ConsumerGroup", "leave empty: the group is BalancedConsumer's argument")
	case c.Partitions != nil:
		return bad("Partitions", "leave nil: the group decides which partitions a member consumes")
	}
	if c.Strategy != RangeAssignment && c.Strategy != RoundRobinAssignment {
		return bad("Strategy", "unknown strategy %d", c.Strategy)
	}
	if c.RebalanceMaxRetries < 0 {
		return bad("RebalanceMaxRetries", "negative (%d)", c.RebalanceMaxRetries)
	}
	for _, f := range []struct {
		name string
		d    time.Duration
	}{
		{"RebalanceBackoff", c.RebalanceBackoff},
		{"ZooKeeperTimeout", c.ZooKeeperTimeout},
		{"SessionTimeout", c.SessionTimeout},
		{"HeartbeatInterval", c.HeartbeatInterval},
		{"RebalanceTimeout", c.RebalanceTimeout},
		{"MetadataRefreshInterval", c.MetadataRefreshInterval},
	} {
		if f.d < 0 {
			return bad(f.name, "negative (%v)", f.d)
		}
		if f.d > math.MaxInt32*time.Millisecond {
			return bad(f.name, "%v does not fit a request", f.d)
		}
	}
	// ZooKeeper only when one is named; a ZooKeeper named only by the
	// client gives way to fields that exist for broker groups alone.
	zkOwn := c.ZooKeeperConnect != "" || c.ZooKeeperTimeout != 0
	if !c.Managed && !zkOwn {
		c.Managed = cl.cfg.ZooKeeperHosts == ""
		if !c.Managed {
			for _, f := range []struct {
				name string
				set  bool
			}{
				{"SessionTimeout", c.SessionTimeout != 0},
				{"HeartbeatInterval", c.HeartbeatInterval != 0},
				{"RebalanceTimeout", c.RebalanceTimeout != 0},
				{"GroupInstanceID", c.GroupInstanceID != ""},
				{"Assignor", c.Assignor != nil},
				{"Assignors", len(c.Assignors) > 0},
				{"LostCallback", c.LostCallback != nil},
			} {
				if f.set {
					return bad(f.name, "applies to broker-coordinated groups, but the client's Config.ZooKeeperHosts "+
						"chose ZooKeeper coordination: set Managed to coordinate through the brokers")
				}
			}
		}
	}
	if err := c.checkGroupProtocol(); err != nil {
		return c, err
	}
	if c.Managed {
		switch {
		case c.ZooKeeperConnect != "":
			return bad("ZooKeeperConnect", "applies to ZooKeeper groups only (Managed is set)")
		case c.ZooKeeperTimeout != 0:
			return bad("ZooKeeperTimeout", "applies to ZooKeeper groups only (Managed is set)")
		}
		if len(c.GroupInstanceID) > maxClientIDLen {
			return bad("GroupInstanceID", "longer than %d bytes", maxClientIDLen)
		}
		if len(c.Assignors) > 0 && c.Assignor != nil {
			return bad("Assignors", "set together with Assignor; give one")
		}
		names := map[string]bool{}
		for i, a := range c.Assignors {
			switch {
			case a == nil:
				return bad("Assignors", "entry %d is nil", i)
			case a.Name() == "":
				return bad("Assignors", "entry %d has no name", i)
			case names[a.Name()]:
				return bad("Assignors", "%q is listed twice", a.Name())
			}
			names[a.Name()] = true
		}
	} else {
		switch {
		case c.SessionTimeout != 0:
			return bad("SessionTimeout", "applies to broker-coordinated groups only (a ZooKeeper field is set)")
		case c.HeartbeatInterval != 0:
			return bad("HeartbeatInterval", "applies to broker-coordinated groups only (a ZooKeeper field is set)")
		case c.RebalanceTimeout != 0:
			return bad("RebalanceTimeout", "applies to broker-coordinated groups only (a ZooKeeper field is set)")
		case c.GroupInstanceID != "":
			return bad("GroupInstanceID", "applies to broker-coordinated groups only (a ZooKeeper field is set)")
		case c.Assignor != nil:
			return bad("Assignor", "applies to broker-coordinated groups only (a ZooKeeper field is set)")
		case len(c.Assignors) > 0:
			return bad("Assignors", "applies to broker-coordinated groups only (a ZooKeeper field is set)")
		case c.LostCallback != nil:
			return bad("LostCallback", "applies to broker-coordinated groups only (a ZooKeeper field is set)")
		case t == nil:
			return bad("Topics", "ZooKeeper groups consume one topic: make the consumer with Topic.BalancedConsumer")
		case strings.ContainsAny(group, "/") || group == "." || group == "..":
			return bad("group", "%q cannot name a ZooKeeper node", group)
		}
		if c.ZooKeeperConnect == "" {
			c.ZooKeeperConnect = cl.cfg.ZooKeeperHosts
		}
		if c.ZooKeeperConnect == "" {
			return bad("ZooKeeperConnect", "ZooKeeperTimeout chose ZooKeeper coordination, but no ZooKeeper is named: "+
				"set ZooKeeperConnect, or leave the ZooKeeper fields empty to coordinate through the brokers")
		}
		if _, err := zookeeper.ParseConnect(c.ZooKeeperConnect); err != nil {
			return bad("ZooKeeperConnect", "%v", err)
		}
	}

	if err := c.checkSubscription(t); err != nil {
		return c, err
	}
	c.Topics = slices.Clone(c.Topics)
	slices.Sort(c.Topics)

	inner := c.ConsumerConfig
	inner.ConsumerGroup = group
	inner, err := inner.withDefaults(t)
	if err != nil {
		var ce *ConfigError
		if errors.As(err, &ce) {
			return bad(ce.Field, "%s", ce.Reason)
		}
		return c, err
	}
	inner.ConsumerGroup, inner.Partitions = "", nil
	c.ConsumerConfig = inner

	if c.MetadataRefreshInterval == 0 {
		c.MetadataRefreshInterval = DefaultMetadataRefreshInterval
	}
	if c.RebalanceMaxRetries == 0 {
		c.RebalanceMaxRetries = DefaultRebalanceMaxRetries
	}
	if c.RebalanceBackoff == 0 {
		c.RebalanceBackoff = DefaultRebalanceBackoff
	}
	if c.Managed && c.GroupProtocol == GroupProtocolConsumer {
		if c.RebalanceTimeout == 0 {
			c.RebalanceTimeout = DefaultRebalanceTimeout
		}
	} else if c.Managed {
		if c.SessionTimeout == 0 {
			c.SessionTimeout = DefaultSessionTimeout
		}
		if c.HeartbeatInterval == 0 {
			c.HeartbeatInterval = min(DefaultHeartbeatInterval, c.SessionTimeout/3)
		}
		if c.RebalanceTimeout == 0 {
			c.RebalanceTimeout = DefaultRebalanceTimeout
		}
		if c.HeartbeatInterval >= c.SessionTimeout {
			return bad("HeartbeatInterval", "%v is not below SessionTimeout (%v)", c.HeartbeatInterval, c.SessionTimeout)
		}
	} else if c.ZooKeeperTimeout == 0 {
		c.ZooKeeperTimeout = DefaultZooKeeperTimeout
	}
	return c, nil
}

// checkSubscription validates what the consumer subscribes to: its own
// topic t, or (t nil) Topics or TopicPattern, and the callbacks that suit
// it.
func (c BalancedConsumerConfig) checkSubscription(t *Topic) error {
	bad := func(field, format string, args ...any) error {
		return &ConfigError{Field: "BalancedConsumerConfig." + field, Reason: fmt.Sprintf(format, args...)}
	}
	if t != nil {
		switch {
		case c.Topics != nil:
			return bad("Topics", "Topic.BalancedConsumer consumes its own topic: use Client.BalancedConsumer for several")
		case c.TopicPattern != "":
			return bad("TopicPattern", "Topic.BalancedConsumer consumes its own topic: use Client.BalancedConsumer for a pattern")
		}
		return nil
	}
	switch {
	case len(c.Topics) == 0 && c.TopicPattern == "":
		return bad("Topics", "Client.BalancedConsumer needs Topics or TopicPattern")
	case len(c.Topics) > 0 && c.TopicPattern != "":
		return bad("TopicPattern", "set together with Topics; give one")
	}
	seen := map[string]bool{}
	for i, name := range c.Topics {
		switch {
		case name == "":
			return bad(fmt.Sprintf("Topics[%d]", i), "empty topic name")
		case seen[name]:
			return bad(fmt.Sprintf("Topics[%d]", i), "%q listed twice", name)
		}
		seen[name] = true
	}
	if c.TopicPattern != "" {
		if _, err := regexp.Compile(c.TopicPattern); err != nil {
			return bad("TopicPattern", "%v", err)
		}
	}
	if len(c.Topics) == 1 {
		return nil
	}
	for _, f := range []struct {
		name, instead string
		set           bool
	}{
		{"BeforeRevokeCallback", "BeforeRevokeTopics", c.BeforeRevokeCallback != nil},
		{"AfterAssignCallback", "AfterAssignTopics", c.AfterAssignCallback != nil},
		{"LostCallback", "LostTopics", c.LostCallback != nil},
		{"PostRebalanceCallback", "AfterAssignTopics", c.PostRebalanceCallback != nil},
	} {
		if f.set {
			return bad(f.name, "names partitions of one topic, and this consumer may have several: use %s", f.instead)
		}
	}
	return nil
}
