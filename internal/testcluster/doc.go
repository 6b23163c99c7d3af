// Package testcluster starts real Apache Kafka brokers, and a real ZooKeeper where the cluster needs one, on
// 127.0.0.1 for gregor's tests, demo and benchmarks.
//
// The jars come from Maven Central: the first use of a pinned Kafka version runs Maven once to copy the broker's
// runtime class path into .cache/ at the top of the repository (git-ignored); later runs reuse it and need no
// network. Brokers run as child JVMs in their own temporary directories, on free loopback ports. Start returns only
// when the cluster really serves requests: every broker answers Metadata and lists all its peers, and a controller
// is known.
//
// Cleanup is layered, because a leaked JVM costs the next run its ports and memory: Close stops everything;
// child JVMs carry a parent-death signal so they die with the test binary even when it is killed; and every
// JVM is tagged with -Dgregor.testcluster so that "make test" can prove nothing was left behind.
//
// The four kinds the suite uses are KRaft (Kafka 4.x) with one or three brokers, and ZooKeeper mode (Kafka 3.9.x)
// with one or three brokers on one ZooKeeper. Config.Listeners adds named client listeners (SSL, mutual TLS, SASL)
// beside PLAINTEXT; the secured kinds (KRaftSecured, ZooKeeperSecured) have SSL and MTLS listeners, with a CA,
// broker and client certificates generated at start (Cluster.TLS) and handed to Kafka as PEM key stores.
package testcluster
