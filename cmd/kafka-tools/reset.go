package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
)

var resetOffsetsCommand = &command{
	name:    "reset_offsets",
	aliases: []string{"reset-offsets"},
	args:    "TOPIC GROUP earliest|latest|TIME|OFFSET",
	summary: "Set a group's committed offsets on a topic",
	details: `The group next reads from the offset committed: earliest (the start of the
log), latest (only new records), the first record stamped at or after TIME
(ISO-8601; UTC without a zone), or OFFSET itself, which must lie within every
partition's log.

Everything is checked before anything is written: the topic, the partitions,
the offsets and the group. A group with live members is refused, since they
would overwrite the new offsets with their own commits; stop them first.
--force writes anyway. --dry-run shows the plan whatever the group's state,
and says when a real run would be refused. Kafka's coordinator still refuses commits from outside
a group it manages while the group has members (the command then fails and
nothing changes); --force is for groups whose consumers register in ZooKeeper
(see --zookeeper), of which Kafka keeps only the offsets.`,
	examples: []string{
		"reset_offsets orders billing earliest",
		"reset_offsets orders billing 2024-05-01T00:00:00Z --dry-run",
		"reset-offsets orders billing 1500 --partitions 0,3",
		"reset_offsets orders legacy-group latest --zookeeper zk1:2181 --force",
	},
	minArgs: 3, maxArgs: 3,
	setup: func(fs *flag.FlagSet) action {
		var o resetOptions
		fs.BoolVar(&o.force, "force", false, "write even though the group has live members")
		fs.BoolVar(&o.dryRun, "dry-run", false, "show the offsets that would be committed, commit nothing")
		fs.Var(&o.partitions, "partitions", "only these partition `ids`, comma-separated (default all)")
		return func(ctx context.Context, e *env, args []string) (report, error) {
			return resetOffsets(ctx, e, args, o)
		}
	},
}

type resetOptions struct {
	force, dryRun bool
	partitions    partitionList
}

type resetReport struct {
	Topic      string       `json:"topic"`
	Group      string       `json:"group"`
	DryRun     bool         `json:"dry_run"`
	Refused    string       `json:"refused,omitempty"` // why a real run would be refused (dry runs only)
	Partitions []resetEntry `json:"partitions"`
}

type resetEntry struct {
	Partition      int32  `json:"partition"`
	PreviousOffset *int64 `json:"previous_offset"`
	NewOffset      int64  `json:"new_offset"`
}

func resetOffsets(ctx context.Context, e *env, args []string, o resetOptions) (report, error) {
	topic, group := args[0], args[1]
	spec, err := parseOffsetSpec(args[2], true)
	if err != nil {
		return nil, err
	}
	if group == "" {
		return nil, usagef("empty group name")
	}
	t, err := e.topic(ctx, topic)
	if err != nil {
		return nil, err
	}
	parts := []int32(o.partitions)
	for _, id := range parts {
		if t.Partition(id) == nil {
			return nil, fmt.Errorf("topic %s has no partition %d (it has %d)", topic, id, len(t.Partitions()))
		}
	}
	if parts == nil {
		for _, p := range t.Partitions() {
			parts = append(parts, p.ID())
		}
	}
	slices.Sort(parts)
	parts = slices.Compact(parts)

	offsets, err := spec.lookup(ctx, t, parts)
	if err != nil {
		return nil, err
	}
	cl := e.client
	d, err := describeGroup(ctx, cl, group)
	if err != nil {
		return nil, err
	}
	// A dry run changes nothing, so live members do not stop it: it shows
	// the plan and says what a real run would meet.
	var refusal string
	if d.live() && !o.force {
		refusal = fmt.Sprintf("group %q has %d live member(s) (state %s): stop them first, or pass --force",
			group, len(d.Members), d.State)
	}
	if e.g.zookeeper != "" && refusal == "" {
		zg, err := readZooKeeperGroup(ctx, e.g.zookeeper, group, e.log)
		if err != nil {
			return nil, err
		}
		if len(zg.members) > 0 && !o.force {
			refusal = fmt.Sprintf("group %q has %d consumer(s) registered in ZooKeeper: stop them first, or pass --force",
				group, len(zg.members))
		}
	}
	if refusal != "" && !o.dryRun {
		return nil, errors.New(refusal)
	}
	before, err := cl.Cluster().FetchGroupOffsets(ctx, group, map[string][]int32{topic: parts})
	if err != nil {
		return nil, err
	}

	r := &resetReport{Topic: topic, Group: group, DryRun: o.dryRun, Refused: refusal, Partitions: make([]resetEntry, len(parts))}
	for i, id := range parts {
		r.Partitions[i] = resetEntry{Partition: id, NewOffset: offsets[id]}
		if co, ok := before[topic][id]; ok {
			r.Partitions[i].PreviousOffset = int64p(co.Offset)
		}
	}
	if o.dryRun {
		return r, nil
	}
	if err := cl.Cluster().CommitGroupOffsets(ctx, group, map[string]map[int32]int64{topic: offsets}); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *resetReport) writeText(w io.Writer) error {
	t := newTable(w, "Partition", "Previous Offset", "New Offset")
	for _, p := range r.Partitions {
		t.row(p.Partition, p.PreviousOffset, p.NewOffset)
	}
	if err := t.flush(); err != nil {
		return err
	}
	var err error
	if r.DryRun {
		_, err = fmt.Fprintf(w, "\nDry run: nothing committed for group %s.\n", r.Group)
		if err == nil && r.Refused != "" {
			_, err = fmt.Fprintf(w, "A real run would be refused: %s.\n", r.Refused)
		}
	} else {
		_, err = fmt.Fprintf(w, "\nCommitted the new offsets of group %s on %s.\n", r.Group, r.Topic)
	}
	return err
}
