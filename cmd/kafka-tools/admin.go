package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/gregorkafka/gregor/kafka"
)

var createTopicCommand = &command{
	name:    "create_topic",
	aliases: []string{"create-topic"},
	args:    "TOPIC",
	summary: "Create a topic",
	details: `Partitions and replication factor default to the brokers' num.partitions and
default.replication.factor. Topic settings are given as -c key=value, once per
setting; a JSON object ('{"cleanup.policy":"compact"}') is accepted too, as
pykafka's kafka-tools took it. -a places each partition's replicas on chosen
brokers instead. pykafka's spellings (--num_partitions, --replication_factor,
--config_entries, --replica_assignment, -t MILLISECONDS) work too. The command
returns once the new topic's partitions all have leaders.`,
	examples: []string{
		"create_topic orders -p 12 -r 3",
		"create-topic audit -p 1 -c cleanup.policy=compact -c retention.ms=604800000",
		"create_topic placed -a 1:2,2:3,3:1",
	},
	minArgs: 1, maxArgs: 1,
	setup: func(fs *flag.FlagSet) action {
		var partitions, replication int
		configs := keyValues{}
		assignment := replicaAssignment{}
		fs.IntVar(&partitions, "partitions", 0, "number of partitions (0 or -1: the brokers' default)")
		fs.IntVar(&partitions, "p", 0, "shorthand for --partitions")
		fs.IntVar(&partitions, "num_partitions", 0, "pykafka's spelling of --partitions")
		fs.IntVar(&replication, "replication", 0, "replication factor (0 or -1: the brokers' default)")
		fs.IntVar(&replication, "r", 0, "shorthand for --replication")
		fs.IntVar(&replication, "replication_factor", 0, "pykafka's spelling of --replication")
		cfgFlag := configFlagValue{configs}
		fs.Var(cfgFlag, "config", "topic setting `key=value` (repeatable), or a JSON object of settings")
		fs.Var(cfgFlag, "c", "shorthand for --config `key=value`")
		fs.Var(cfgFlag, "config_entries", "pykafka's spelling of --config")
		fs.Var(assignment, "replica-assignment", "each partition's replicas by broker id, as Kafka's tools write it\n(`0:1,1:2`: partition 0 on brokers 0 and 1, partition 1 on 1 and 2) or a JSON object\n({\"0\": [0, 1], \"1\": [1, 2]}); fixes the partition count, so -p and -r stay unset")
		fs.Var(assignment, "replica_assignment", "pykafka's spelling of --replica-assignment")
		fs.Var(assignment, "a", "shorthand for --replica-assignment")
		return func(ctx context.Context, e *env, args []string) (report, error) {
			spec := kafka.TopicSpec{Name: args[0], Configs: configs}
			if err := checkTopicName(spec.Name); err != nil {
				return nil, err
			}
			if partitions < -1 || partitions > math.MaxInt32 {
				return nil, usagef("bad --partitions %d", partitions)
			}
			if replication < -1 || replication > math.MaxInt16 {
				return nil, usagef("bad --replication %d", replication)
			}
			// pykafka took -1 for "unset".
			partitions, replication = max(partitions, 0), max(replication, 0)
			if len(assignment) > 0 {
				if partitions != 0 || replication != 0 {
					return nil, usagef("--replica-assignment fixes partitions and replicas: leave -p and -r unset")
				}
				if err := assignment.check(); err != nil {
					return nil, err
				}
				spec.ReplicaAssignment = assignment
			}
			spec.Partitions, spec.ReplicationFactor = int32(partitions), int16(replication)
			return createTopic(ctx, e, spec)
		}
	},
}

// replicaAssignment is partition id -> broker ids, from Kafka's
// "0:1,1:2" form (partitions in order, replicas separated by colons) or a
// JSON object keyed by partition id.
type replicaAssignment map[int32][]int32

func (a replicaAssignment) String() string {
	ids := make([]int32, 0, len(a))
	for id := range a {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	parts := make([]string, len(ids))
	for i, id := range ids {
		b := make([]string, len(a[id]))
		for j, r := range a[id] {
			b[j] = strconv.Itoa(int(r))
		}
		parts[i] = strings.Join(b, ":")
	}
	return strings.Join(parts, ",")
}

func (a replicaAssignment) Set(s string) error {
	if len(a) > 0 {
		return fmt.Errorf("given twice")
	}
	if strings.HasPrefix(strings.TrimSpace(s), "{") {
		var m map[string][]int32
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			return fmt.Errorf("bad JSON object: %v", err)
		}
		for k, brokers := range m {
			id, err := strconv.ParseInt(strings.TrimSpace(k), 10, 32)
			if err != nil || id < 0 {
				return fmt.Errorf("bad partition id %q", k)
			}
			a[int32(id)] = brokers
		}
		return nil
	}
	for i, part := range strings.Split(s, ",") {
		var brokers []int32
		for _, f := range strings.Split(part, ":") {
			n, err := strconv.ParseInt(strings.TrimSpace(f), 10, 32)
			if err != nil {
				return fmt.Errorf("bad broker id %q in %q", f, part)
			}
			brokers = append(brokers, int32(n))
		}
		a[int32(i)] = brokers
	}
	return nil
}

// check wants partitions 0..n-1, each with the same number of distinct,
// non-negative broker ids, as the broker does.
func (a replicaAssignment) check() error {
	want := -1
	for id := range int32(len(a)) {
		brokers, ok := a[id]
		if !ok {
			return usagef("bad --replica-assignment: partition %d is missing (partitions are 0..%d)", id, len(a)-1)
		}
		if want < 0 {
			want = len(brokers)
		}
		if len(brokers) == 0 || len(brokers) != want {
			return usagef("bad --replica-assignment: partition %d has %d replicas, partition 0 has %d", id, len(brokers), want)
		}
		seen := map[int32]bool{}
		for _, b := range brokers {
			if b < 0 || seen[b] {
				return usagef("bad --replica-assignment: partition %d lists broker %d twice or negative", id, b)
			}
			seen[b] = true
		}
	}
	return nil
}

// configFlagValue accepts key=value or a JSON object of strings.
type configFlagValue struct{ kv keyValues }

func (c configFlagValue) String() string { return c.kv.String() }

func (c configFlagValue) Set(s string) error {
	if !strings.HasPrefix(strings.TrimSpace(s), "{") {
		return c.kv.Set(s)
	}
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber() // 604800000 must not become 6.048e+08
	if err := dec.Decode(&m); err != nil {
		return fmt.Errorf("bad JSON object: %v", err)
	}
	for k, v := range m {
		var val string
		switch x := v.(type) {
		case string:
			val = x
		case json.Number, bool:
			val = fmt.Sprint(x)
		default:
			return fmt.Errorf("setting %q: want a string, number or boolean", k)
		}
		if err := c.kv.Set(k + "=" + val); err != nil {
			return err
		}
	}
	return nil
}

// checkTopicName applies Kafka's topic name rules, so an invalid name is
// a usage error found before anything is sent.
func checkTopicName(name string) error {
	const maxLen = 249
	switch {
	case name == "":
		return usagef("topic name is empty")
	case name == "." || name == "..":
		return usagef("topic name %q is not allowed", name)
	case len(name) > maxLen:
		return usagef("topic name is %d characters long, at most %d are allowed", len(name), maxLen)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return usagef("topic name %q has %q: only ASCII letters, digits, '.', '_' and '-' are allowed", name, r)
		}
	}
	return nil
}

type createReport struct {
	Topic             string            `json:"topic"`
	Partitions        int               `json:"partitions"`
	ReplicationFactor int               `json:"replication_factor"`
	Configs           map[string]string `json:"configs"`
}

func createTopic(ctx context.Context, e *env, spec kafka.TopicSpec) (report, error) {
	cl, err := e.connect(ctx)
	if err != nil {
		return nil, err
	}
	if err := cl.Cluster().CreateTopics(ctx, spec); err != nil {
		if errors.Is(err, kafka.ErrTopicAlreadyExists) {
			return nil, fmt.Errorf("topic %q already exists", spec.Name)
		}
		return nil, fmt.Errorf("creating topic %q: %w", spec.Name, err)
	}
	t, err := e.topic(ctx, spec.Name)
	if err != nil {
		return nil, err
	}
	parts := t.Partitions()
	return &createReport{
		Topic: spec.Name, Partitions: len(parts), ReplicationFactor: replicationFactor(parts),
		Configs: map[string]string(spec.Configs),
	}, nil
}

func (r *createReport) writeText(w io.Writer) error {
	_, err := fmt.Fprintf(w, "Created topic %s (%d partitions, replication factor %d)\n",
		r.Topic, r.Partitions, r.ReplicationFactor)
	return err
}

var deleteTopicCommand = &command{
	name:     "delete_topic",
	aliases:  []string{"delete-topic"},
	args:     "TOPIC",
	summary:  "Delete a topic",
	details:  "The command returns once the cluster's metadata no longer lists the topic.",
	examples: []string{"delete_topic orders-old"},
	minArgs:  1, maxArgs: 1,
	setup: func(*flag.FlagSet) action {
		return func(ctx context.Context, e *env, args []string) (report, error) {
			if err := checkTopicName(args[0]); err != nil {
				return nil, err
			}
			return deleteTopic(ctx, e, args[0])
		}
	},
}

type deleteReport struct {
	Topic   string `json:"topic"`
	Deleted bool   `json:"deleted"`
}

func deleteTopic(ctx context.Context, e *env, name string) (report, error) {
	cl, err := e.connect(ctx)
	if err != nil {
		return nil, err
	}
	if err := cl.Cluster().DeleteTopics(ctx, name); err != nil {
		if errors.Is(err, kafka.ErrUnknownTopic) {
			return nil, unknownTopic(name)
		}
		return nil, fmt.Errorf("deleting topic %q: %w", name, err)
	}
	return &deleteReport{Topic: name, Deleted: true}, nil
}

func (r *deleteReport) writeText(w io.Writer) error {
	_, err := fmt.Fprintf(w, "Deleted topic %s\n", r.Topic)
	return err
}
