// Package zookeeper is gregor's ZooKeeper side, kept out of kafka's API:
// connect strings, go-zookeeper sessions dialed through the injected
// handler (Dialer), the bootstrap read of broker registrations (Brokers),
// and pykafka's ZooKeeper-coordinated balanced consumer group (Member),
// which kafka's BalancedConsumer runs behind its membership seam.
//
// go-zookeeper runs goroutines and timers of its own for a session's life;
// DESIGN.md ("ZooKeeper") says what runs outside the handler.
package zookeeper
