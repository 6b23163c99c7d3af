package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/gregorkafka/gregor/kafka"
)

var printTopicsCommand = &command{
	name:    "print_topics",
	aliases: []string{"print-topics", "list-topics", "topics"},
	summary: "List topics with their partition count and replication factor",
	details: "Internal topics (__consumer_offsets, ...) are left out unless --internal is given.",
	examples: []string{
		"print_topics",
		"print_topics --internal -o json",
	},
	maxArgs: 0,
	setup: func(fs *flag.FlagSet) action {
		internal := fs.Bool("internal", false, "include internal topics")
		return func(ctx context.Context, e *env, _ []string) (report, error) {
			return printTopics(ctx, e, *internal)
		}
	},
}

type topicsReport struct {
	Topics []topicSummary `json:"topics"`
}

type topicSummary struct {
	Topic             string `json:"topic"`
	Partitions        int    `json:"partitions"`
	ReplicationFactor int    `json:"replication_factor"`
	Internal          bool   `json:"internal"`
}

func printTopics(ctx context.Context, e *env, internal bool) (report, error) {
	cl, err := e.connect(ctx)
	if err != nil {
		return nil, err
	}
	names, err := cl.Topics(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing topics: %w", err)
	}
	r := &topicsReport{Topics: []topicSummary{}}
	for _, name := range names {
		// Topics already read every topic's metadata: no request here.
		t, err := cl.Topic(ctx, name)
		if err != nil {
			return nil, err
		}
		if t.Internal() && !internal {
			continue
		}
		parts := t.Partitions()
		r.Topics = append(r.Topics, topicSummary{
			Topic: name, Partitions: len(parts), ReplicationFactor: replicationFactor(parts), Internal: t.Internal(),
		})
	}
	return r, nil
}

func (r *topicsReport) writeText(w io.Writer) error {
	t := newTable(w, "Topic", "Partitions", "Replication")
	for _, s := range r.Topics {
		t.row(s.Topic, s.Partitions, s.ReplicationFactor)
	}
	return t.flush()
}

// replicationFactor is the largest replica count among the partitions (they
// differ only while a reassignment is under way).
func replicationFactor(parts []*kafka.Partition) int {
	n := 0
	for _, p := range parts {
		n = max(n, len(p.Replicas()))
	}
	return n
}

var descTopicCommand = &command{
	name:    "desc_topic",
	aliases: []string{"desc-topic", "describe-topic"},
	args:    "TOPIC",
	summary: "Describe a topic's partitions: leaders, replicas and ISR",
	details: "Broker ids are listed comma-separated; a partition without a leader shows -1.",
	examples: []string{
		"desc_topic orders",
		"desc-topic orders -o json",
	},
	minArgs: 1, maxArgs: 1,
	setup: func(*flag.FlagSet) action { return descTopic },
}

type topicReport struct {
	Topic             string            `json:"topic"`
	PartitionCount    int               `json:"partition_count"`
	ReplicationFactor int               `json:"replication_factor"`
	Internal          bool              `json:"internal"`
	Partitions        []partitionReport `json:"partitions"`
}

type partitionReport struct {
	Partition       int32   `json:"partition"`
	Leader          int32   `json:"leader"`
	Replicas        []int32 `json:"replicas"`
	ISR             []int32 `json:"isr"`
	OfflineReplicas []int32 `json:"offline_replicas"`
}

func descTopic(ctx context.Context, e *env, args []string) (report, error) {
	t, err := e.topic(ctx, args[0])
	if err != nil {
		return nil, err
	}
	parts := t.Partitions()
	r := &topicReport{
		Topic: t.Name(), PartitionCount: len(parts), ReplicationFactor: replicationFactor(parts),
		Internal: t.Internal(), Partitions: make([]partitionReport, len(parts)),
	}
	for i, p := range parts {
		r.Partitions[i] = partitionReport{
			Partition: p.ID(), Leader: p.LeaderID(),
			Replicas: nonNil(p.Replicas()), ISR: nonNil(p.ISR()), OfflineReplicas: nonNil(p.OfflineReplicas()),
		}
	}
	return r, nil
}

func (r *topicReport) writeText(w io.Writer) error {
	if err := fields(w, "Topic", r.Topic, "Partitions", r.PartitionCount, "Replicas", r.ReplicationFactor); err != nil {
		return err
	}
	fmt.Fprintln(w)
	t := newTable(w, "Partition", "Leader", "Replicas", "ISR")
	for _, p := range r.Partitions {
		t.row(p.Partition, p.Leader, p.Replicas, p.ISR)
	}
	return t.flush()
}

// nonNil makes JSON show [] rather than null for an empty list.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
