package testcluster

// Pinned Kafka releases. KRaftVersion is the newest 4.x whose full dependency tree resolves from Maven Central;
// ZooKeeperVersion is the last line that still runs brokers in ZooKeeper mode.
const (
	KRaftVersion     = "4.3.1"
	ZooKeeperVersion = "3.9.2"
)

// artifact is one Maven coordinate group:artifact:version.
type artifact string

// release describes what to resolve for one Kafka version. The kafka_2.13 POM lists every runtime dependency
// except a logging back end; without one the broker logs nothing and can fail with NoClassDefFoundError.
type release struct {
	version   string
	artifacts []artifact
	// log4j2 is true for 4.x, whose brokers log through log4j2; 3.9 uses log4j 1 via reload4j.
	log4j2 bool
	// zookeeper is true when the release can run ZooKeeper mode (it ships the ZooKeeper server jar).
	zookeeper bool
}

var releases = map[string]release{
	"4.3.1": {
		version: "4.3.1",
		artifacts: []artifact{
			"org.apache.kafka:kafka_2.13:4.3.1",
			// The perf and console tools, used by benchmarks and cross-checks.
			"org.apache.kafka:kafka-tools:4.3.1",
			// Must match the log4j-api version in kafka_2.13's tree.
			"org.apache.logging.log4j:log4j-slf4j-impl:2.25.4",
		},
		log4j2: true,
	},
	"3.9.2": {
		version: "3.9.2",
		artifacts: []artifact{
			"org.apache.kafka:kafka_2.13:3.9.2",
			"org.apache.kafka:kafka-tools:3.9.2",
			"org.slf4j:slf4j-reload4j:1.7.36",
		},
		zookeeper: true,
	},
}
