package testcluster

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
)

// Mode selects how the brokers agree on cluster state.
type Mode int

const (
	// KRaft runs combined broker+controller nodes (Kafka 4.x).
	KRaft Mode = iota
	// ZooKeeper runs Kafka 3.9 brokers on a real ZooKeeper.
	ZooKeeper
)

func (m Mode) String() string {
	if m == ZooKeeper {
		return "zookeeper"
	}
	return "kraft"
}

// Config describes a cluster to start. The zero value is one KRaft broker.
type Config struct {
	Mode    Mode
	Brokers int    // default 1
	Version string // default KRaftVersion or ZooKeeperVersion by Mode
	// BrokerProps are extra server.properties entries, applied to every broker (they win over the defaults).
	BrokerProps map[string]string
	// Listeners are client listeners opened besides PLAINTEXT (TLS, mutual TLS, SASL); see SecuredListeners.
	// With any TLS listener the cluster generates a CA and certificates at start, which TLS returns.
	Listeners []Listener
	// Features are KRaft feature levels the storage format sets (kafka-storage format --feature NAME=LEVEL), such
	// as {"share.version": 0} for a cluster without share groups, which Kafka 4.2+ otherwise enables, or
	// {"transaction.version": 1} for the classic transaction protocol. Name lists them.
	Features map[string]int16
	// ExtraClasspath entries (directories or jars) are added to the brokers' classpath, for plugins such as a
	// metrics reporter compiled by a test.
	ExtraClasspath []string
	// Perf tunes the JVMs for throughput (benchmarks) instead of quick start-up (tests).
	Perf bool
	// Tag marks the JVMs (-Dgregor.testcluster=Tag) so leftovers can be found; default "test-<pid>".
	Tag string
	// Logf, if set, receives progress lines.
	Logf func(format string, args ...any)
}

// The four cluster kinds gregor's suite runs against.
var (
	KRaftSingle     = Config{Mode: KRaft, Brokers: 1}
	KRaftTriple     = Config{Mode: KRaft, Brokers: 3}
	ZooKeeperSingle = Config{Mode: ZooKeeper, Brokers: 1}
	ZooKeeperTriple = Config{Mode: ZooKeeper, Brokers: 3}
)

// The secured kinds add SecuredListeners (SSL and mutual TLS) to one broker. They are separate kinds, started
// only by the tests that need them, so the plaintext clusters every package shares stay as they were.
var (
	KRaftSecured     = Config{Mode: KRaft, Brokers: 1, Listeners: SecuredListeners()}
	ZooKeeperSecured = Config{Mode: ZooKeeper, Brokers: 1, Listeners: SecuredListeners()}
)

// QuickFailover returns c for tests that kill brokers and wait for the cluster to move on: in KRaft mode the
// controller fences a broker that stopped heartbeating after 3 s (heartbeats every 500 ms) rather than Kafka's
// 9 s (every 2 s). Each kill otherwise holds its test up for those 9 s. Shared clusters keep the defaults, so
// that a broker starved of CPU for a few seconds on a loaded machine is not fenced under an unrelated test.
func (c Config) QuickFailover() Config {
	if c.Mode != KRaft {
		return c
	}
	props := make(map[string]string, len(c.BrokerProps)+2)
	props["broker.heartbeat.interval.ms"] = "500"
	props["broker.session.timeout.ms"] = "3000"
	for k, v := range c.BrokerProps {
		props[k] = v
	}
	c.BrokerProps = props
	return c
}

// Name is a short label such as "kraft-3" or "zookeeper-1", for test names; clusters with extra listeners get
// "-secured".
func (c Config) Name() string {
	c = c.withDefaults()
	name := fmt.Sprintf("%s-%d", c.Mode, c.Brokers)
	if len(c.Listeners) > 0 {
		name += "-secured"
	}
	for _, f := range c.featureArgs() {
		name += "-" + f
	}
	return name
}

func (c Config) withDefaults() Config {
	if c.Brokers <= 0 {
		c.Brokers = 1
	}
	if c.Version == "" {
		if c.Mode == ZooKeeper {
			c.Version = ZooKeeperVersion
		} else {
			c.Version = KRaftVersion
		}
	}
	if c.Tag == "" {
		c.Tag = "test-" + strconv.Itoa(os.Getpid())
	}
	if c.Logf == nil {
		c.Logf = func(string, ...any) {}
	}
	return c
}

// baseProps are the settings every test broker shares: replication of internal topics sized to the cluster,
// few partitions for them, and no initial rebalance delay, so groups form in milliseconds rather than seconds;
// consumer-protocol (KIP-848) groups heartbeat every half second rather than five, for the same reason.
func baseProps(n int) map[string]string {
	rf := strconv.Itoa(min(n, 3))
	return map[string]string{
		"offsets.topic.replication.factor":                           rf,
		"offsets.topic.num.partitions":                               "5",
		"transaction.state.log.replication.factor":                   rf,
		"transaction.state.log.min.isr":                              "1",
		"transaction.state.log.num.partitions":                       "5",
		"group.initial.rebalance.delay.ms":                           "0",
		"num.network.threads":                                        "2",
		"num.io.threads":                                             "2",
		"num.partitions":                                             "1",
		"default.replication.factor":                                 "1",
		"auto.create.topics.enable":                                  "true",
		"delete.topic.enable":                                        "true",
		"log.cleaner.backoff.ms":                                     "1000",
		"controlled.shutdown.max.retries":                            "1",
		"group.min.session.timeout.ms":                               "1000",
		"group.consumer.heartbeat.interval.ms":                       "500",
		"group.consumer.min.heartbeat.interval.ms":                   "100",
		"group.consumer.session.timeout.ms":                          "10000",
		"group.consumer.min.session.timeout.ms":                      "3000",
		"share.coordinator.state.topic.replication.factor":           rf,
		"share.coordinator.state.topic.min.isr":                      "1",
		"share.coordinator.state.topic.num.partitions":               "3",
		"group.share.min.record.lock.duration.ms":                    "1000",
		"group.share.min.heartbeat.interval.ms":                      "500",
		"group.share.heartbeat.interval.ms":                          "1000",
		"log.message.timestamp.after.max.ms":                         "9223372036854775807",
		"log.message.timestamp.before.max.ms":                        "9223372036854775807",
		"replica.lag.time.max.ms":                                    "10000",
		"unclean.leader.election.enable":                             "false",
		"transaction.remove.expired.transaction.cleanup.interval.ms": "60000",
		// A deleted topic's files go in a second, not a minute: benchmarks
		// move through several GB of topics a minute.
		"log.segment.delete.delay.ms": "1000",
	}
}

func writeProps(path string, props map[string]string) error {
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s\n", k, props[k])
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// featureArgs are Features as the storage tool's NAME=LEVEL values, sorted.
func (c Config) featureArgs() []string {
	out := make([]string, 0, len(c.Features))
	for name, level := range c.Features {
		out = append(out, fmt.Sprintf("%s=%d", name, level))
	}
	sort.Strings(out)
	return out
}
