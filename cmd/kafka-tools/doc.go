// Command kafka-tools inspects and administers a Kafka cluster: topics and
// their offsets, consumer groups and their lag, offset resets, topic
// creation and deletion, configs, partitions, records, ACLs, replica
// reassignments, leader elections, log directories and client quotas, and
// reading or writing a few messages by hand.
//
//	kafka-tools [global flags] COMMAND [flags] [arguments]
//
// It keeps the subcommand names of pykafka's kafka-tools (desc_topic,
// print_consumer_lag, reset_offsets, ...) and accepts their kebab-case
// spellings too (desc-topic). "kafka-tools --help" lists every command;
// "kafka-tools COMMAND --help" shows one with examples.
//
// # Design
//
// main only wires the process to run(ctx, args, stdout, stderr), which
// returns the exit code, so tests drive the whole tool in-process or as a
// subprocess alike. Each command is a table entry (commands.go) whose setup
// registers its flags and returns the action; the action validates every
// argument before it connects, so a bad argument costs exit code 2 and
// touches nothing. Actions return a report: a struct that prints itself as
// an aligned table (text/tabwriter) or is encoded as one JSON document
// (-o json), which is why every report type carries json tags and those
// names are part of the interface.
//
// Flags may appear before or after the command and its arguments; global
// flags (--brokers, --zookeeper, --timeout, --dial-timeout, -o, --tls*,
// --sasl*) are accepted anywhere. --timeout bounds the whole command through its context,
// --dial-timeout each connection's set-up; a deadline that fires while the
// command's own has not passed is reported as the dial timeout's. pykafka's
// flag spellings (-b, --broker_version, -t MILLISECONDS, create_topic's
// --num_partitions ... -a/--replica_assignment) are aliases. The TLS
// flags build kafka.Config.TLS; each has an environment variable
// ($KAFKA_TLS_CA, ...) as --brokers has $KAFKA_BROKERS. The SASL flags build
// kafka.Config.SASL; the password (or OAUTHBEARER token) comes from
// $KAFKA_SASL_PASSWORD or --sasl-password-file, never from a flag value,
// which any user could read in ps.
//
// Group operations talk to the group's coordinator with the Broker's typed
// requests (DescribeGroups, ConsumerGroupDescribe for Kafka 4's consumer
// groups, OffsetFetch, OffsetCommit, ListGroups), filling both the old
// per-group and the newer batched request layouts, since the version is
// negotiated per connection. Groups whose members register in
// ZooKeeper (pykafka's BalancedConsumer) keep their offsets in Kafka as
// well; --zookeeper adds their members from /consumers/GROUP, reading owner
// nodes under both owners/TOPIC and pykafka-on-Python-3's owners/b'TOPIC'.
//
// Exit codes: 0 success, 1 an operational error (unknown topic or group,
// unreachable brokers, a broker's refusal, timeout), 2 a usage error (bad
// flag, argument, offset or timestamp).
package main
