// Package assign holds the partition assignment algorithms of gregor's
// balanced consumers as pure functions: pykafka's (every member of a
// ZooKeeper group decides its own share) and the Java client's range,
// round-robin, sticky and cooperative-sticky assignors with the sticky
// ones' user data (run by a broker-managed group's leader for the whole
// group). kafka wraps them behind its public Assignor interface.
package assign
