// Package kafka is gregor's client: the package a service imports to talk to
// a Kafka cluster. Its vocabulary is pykafka's: a Client holds a Cluster of
// Brokers and Topics, and a Topic has Partitions.
//
//	client, err := kafka.NewClient(ctx, kafka.Config{Hosts: []string{"127.0.0.1:9092"}})
//	...
//	defer client.Close()
//	topic, err := client.Topic(ctx, "orders")
//	latest, err := topic.LatestOffsets(ctx)
//
// # Configuration
//
// Every component takes one Config-style struct whose zero value means the
// documented defaults, as net/http's types do; constructors validate it and
// report a bad field as a *ConfigError. The runtime (goroutines or event
// loops, see package handler) is a field too: Config.Handler.
//
// # The cluster model
//
// The Cluster keeps one *Broker per broker id, one *Topic per topic name and
// one *Partition per partition for the client's lifetime, and metadata
// refreshes update them in place through atomic snapshots. A service may
// hold a *Topic as long as it likes and always read fresh leaders from it;
// readers never wait for a refresh.
//
// Topics are loaded lazily: Cluster.Topic fetches metadata for a topic the
// first time it is asked for. Cluster.Update refreshes the topics known so
// far and the broker list; Cluster.TopicNames reads every topic. Brokers
// that leave the cluster have their connections closed; leadership moves,
// partition count changes and deletions show up in the same values.
//
// A refresh asks a broker the client already has a connection to and falls
// back to the seed addresses only when no known broker answers, so routine
// refreshes dial nothing. Concurrent refreshes share one request.
//
// # Exactly once
//
// Producers are idempotent by default: with acks=all they number each
// partition's records, so brokers write every message once and in order
// however often it is retried (ProducerConfig, "Idempotence"). A producer
// with ProducerConfig.TransactionalID writes in transactions
// (BeginTransaction, CommitTransaction, AbortTransaction) and can commit a
// consumer's offsets in them (SendOffsetsToTransaction with the consumer's
// GroupMetadata); a newer producer of the same id fences it, reported as a
// *ProducerFencedError. Client.Transaction spans topics: its producers,
// one per topic, share one transactional id and its transactions. Where the
// cluster finalized transaction.version 2 (Kafka 4 KRaft's default) the
// KIP-890 protocol is spoken, the classic one elsewhere. Consumers with
// IsolationLevel ReadCommitted see only committed transactions.
//
// # Brokers and connections
//
// A Broker holds one connection (package conn, pipelined) per kind of
// work: general requests, produce, fetch, group membership and offset
// commits. Kafka serves one connection's requests strictly in order, so a
// fetch long poll or a JoinGroup held for a rebalance would otherwise delay
// everything behind it. Connections are dialed on first use and dialed
// again after they break. Request sends any generated request to a Broker
// and returns its typed response; the Broker's typed methods (Metadata,
// Produce, Fetch, ...) are Request for the calls the higher layers make.
// Both return the broker's response as is and report only transport
// failures as errors.
//
// Config.TLS and Config.SASL apply to every one of these connections, seeds
// included. A SASL connection authenticates before its first request and
// again before the session lifetime the broker grants runs out. A broker's
// refusal to authenticate (a *sasl.Error) is final: the call that needed
// the connection returns it, and consumers and groups stop with it, rather
// than dialing again and again.
//
// # Administration
//
// Cluster's admin calls (CreateTopics, DescribeConfigs,
// IncrementalAlterConfigs, CreatePartitions, DeleteRecords, DeleteGroups,
// DeleteGroupOffsets, DescribeCluster, the ACL, reassignment, election, log
// directory, quota, producer and transaction calls) each go where Kafka's
// Java Admin sends them: any broker, the controller, a partition's leader, a
// named broker, or a group or transaction coordinator. They report each
// resource's outcome on its own (a map to errors, or result structs with an
// Err field); the returned error is for the call as a whole.
//
// # Consuming
//
// Topic.SimpleConsumer reads partitions without group coordination, as
// pykafka's SimpleConsumer does; balanced consumers wrap one over the
// partitions they own of each topic. Topic.BalancedConsumer is pykafka's
// one-topic group member; Client.BalancedConsumer subscribes to several
// topics (BalancedConsumerConfig.Topics) or to a regular expression
// (TopicPattern), naming partitions by topic. Its offset rules are pykafka's (see SimpleConsumer),
// with the convention spelled out where pykafka left it implicit: a commit
// stores the next offset to consume (NextOffsets), HeldOffsets the last one
// consumed (pykafka's held_offsets, NextOffsets minus one).
// One fetch loop per leader broker reads only batch headers to learn the
// next offset, sends the next Fetch at once and decodes the previous
// response meanwhile; messages wait in per-partition queues, bounded per
// partition and in bytes across them (QueuedMaxBytes), and Consume takes
// them round-robin. Each loop keeps an incremental fetch
// session (KIP-227) with its broker, so a Fetch names only partitions that
// changed. Fetch errors that stale metadata
// explains make the consumer refresh it and re-route partitions to their
// new leaders; a partition's position only moves past records actually
// decoded, so a broker failure costs neither loss nor duplicates.
//
// Client.ShareConsumer joins a share group (KIP-932): the coordinator
// assigns partitions through ShareGroupHeartbeat, possibly to many members
// at once, and each leader hands out records locked to one member
// (ShareFetch, in an incremental share session per broker) until it
// acknowledges them, piggy-backed on the next ShareFetch or with
// ShareAcknowledge, or their lock expires.
//
// # Typed keys and values
//
// Producers and consumers carry bytes. NewTypedProducer,
// NewTypedSyncProducer and NewTypedConsumer wrap them with a Serializer or
// Deserializer per field (a Serde does both), as pykafka's serializer and
// deserializer hooks did: StringSerde, BytesSerde and JSONSerde come with
// the package, and any type with Serialize and Deserialize plugs in
// another format, such as Avro or Protobuf framed for a schema registry
// (see the schema registry example). Keys are serialized before the
// partitioner hashes them. A record that does not deserialize comes back
// as a *DeserializationError naming its topic, partition and offset, in
// its place among the records; the next call goes on with the next record.
//
// # Errors
//
// Broker error codes are *Error values (an alias of protocol.Error), matched
// with errors.Is against the protocol package's sentinels; ErrUnknownTopic
// is one of them. Client-side failures have their own types:
// *NoBrokersAvailableError, *TopicError, *PartitionError, *CoordinatorError,
// *ConfigError, and the sentinels ErrNoBrokersAvailable, ErrClosed,
// ErrInternalTopic, ErrNoLeader. Errors are wrapped with %w, so errors.Is
// and errors.As see through the context added on the way up.
//
// # Observing
//
// Config.Hooks takes values implementing any of the hook interfaces
// (BrokerReadHook, ProduceBatchHook, FetchBatchHook, GroupHook, ...); see
// Hook for where they run. SimpleConsumer.Lag and BalancedConsumer.Lag
// report a running consumer's lag from its last fetch, Cluster.GroupLag a
// group's from the brokers. Client telemetry (KIP-714) is pushed to brokers
// that ask for it unless Config.DisableMetricsPush is set.
//
// # Logging
//
// Everything is logged through log/slog (Config.Logger, slog.Default() when
// nil) with structured attributes: broker, addr, topic, partition, error.
// What a library does routinely (connections, leader moves, brokers joining
// or leaving, rebalances) is at debug level, so a program's info log stays
// its own; what needs attention is at warn, failures at error.
package kafka
