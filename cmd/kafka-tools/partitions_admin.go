package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/gregorkafka/gregor/kafka"
	"github.com/gregorkafka/gregor/protocol"
)

var addPartitionsCommand = &command{
	name:     "add_partitions",
	aliases:  []string{"add-partitions"},
	args:     "TOPIC",
	summary:  "Raise a topic's partition count",
	details:  "--partitions is the new total, above the current count. The command returns once the new partitions have leaders.",
	examples: []string{"add_partitions orders -p 24"},
	minArgs:  1, maxArgs: 1,
	setup: func(fs *flag.FlagSet) action {
		var total int
		fs.IntVar(&total, "partitions", 0, "the new partition count")
		fs.IntVar(&total, "p", 0, "shorthand for --partitions")
		return func(ctx context.Context, e *env, args []string) (report, error) {
			name := args[0]
			if err := checkTopicName(name); err != nil {
				return nil, err
			}
			if total <= 0 || total > math.MaxInt32 {
				return nil, usagef("--partitions must be the new total, a positive count")
			}
			t, err := e.topic(ctx, name)
			if err != nil {
				return nil, err
			}
			before := len(t.Partitions())
			cl, _ := e.connect(ctx)
			res, err := cl.Cluster().CreatePartitions(ctx, map[string]int32{name: int32(total)})
			if err != nil {
				return nil, err
			}
			if err := res[name]; err != nil {
				if errors.Is(err, protocol.ErrInvalidPartitions) {
					return nil, fmt.Errorf("topic %q has %d partitions; --partitions must be more: %w", name, before, err)
				}
				return nil, fmt.Errorf("adding partitions to %q: %w", name, err)
			}
			return &addPartitionsReport{Topic: name, Before: before, Partitions: total}, nil
		}
	},
}

type addPartitionsReport struct {
	Topic      string `json:"topic"`
	Before     int    `json:"before"`
	Partitions int    `json:"partitions"`
}

func (r *addPartitionsReport) writeText(w io.Writer) error {
	_, err := fmt.Fprintf(w, "Topic %s now has %d partitions (was %d)\n", r.Topic, r.Partitions, r.Before)
	return err
}

// selectPartitions returns the partitions named by --partition, or all of t's.
func selectPartitions(t *kafka.Topic, only partitionList) ([]int32, error) {
	if len(only) == 0 {
		var ids []int32
		for _, p := range t.Partitions() {
			ids = append(ids, p.ID())
		}
		return ids, nil
	}
	for _, id := range only {
		if t.Partition(id) == nil {
			return nil, &notFoundError{what: fmt.Sprintf("partition %d of topic %q", id, t.Name())}
		}
	}
	return only, nil
}

var deleteRecordsCommand = &command{
	name:    "delete_records",
	aliases: []string{"delete-records"},
	args:    "TOPIC",
	summary: "Delete a topic's records before an offset",
	details: `Deletes, in each partition (or those given with --partition), the records
before --offset; -1, the default, deletes everything written so far (up to the
high watermark). Prints each partition's new first offset.`,
	examples: []string{"delete_records orders --partition 0 --offset 1500", "delete_records scratch"},
	minArgs:  1, maxArgs: 1,
	setup: func(fs *flag.FlagSet) action {
		var parts partitionList
		fs.Var(&parts, "partition", "partition `ids` (repeatable, comma-separated; default: all)")
		offset := fs.Int64("offset", -1, "delete records before this offset (-1: all)")
		return func(ctx context.Context, e *env, args []string) (report, error) {
			name := args[0]
			if err := checkTopicName(name); err != nil {
				return nil, err
			}
			if *offset < -1 {
				return nil, usagef("bad --offset %d", *offset)
			}
			t, err := e.topic(ctx, name)
			if err != nil {
				return nil, err
			}
			ids, err := selectPartitions(t, parts)
			if err != nil {
				return nil, err
			}
			before := map[int32]int64{}
			for _, id := range ids {
				before[id] = *offset
			}
			cl, _ := e.connect(ctx)
			res, err := cl.Cluster().DeleteRecords(ctx, map[string]map[int32]int64{name: before})
			if err != nil {
				return nil, err
			}
			rep := &deleteRecordsReport{Topic: name}
			var errs []error
			for _, id := range ids {
				d := res[kafka.TopicPartition{Topic: name, Partition: id}]
				if d.Err != nil {
					errs = append(errs, d.Err)
					continue
				}
				rep.Partitions = append(rep.Partitions, lowWatermark{Partition: id, LowWatermark: d.LowWatermark})
			}
			if len(errs) > 0 {
				return nil, errors.Join(errs...)
			}
			return rep, nil
		}
	},
}

type deleteRecordsReport struct {
	Topic      string         `json:"topic"`
	Partitions []lowWatermark `json:"partitions"`
}

type lowWatermark struct {
	Partition    int32 `json:"partition"`
	LowWatermark int64 `json:"low_watermark"`
}

func (r *deleteRecordsReport) writeText(w io.Writer) error {
	t := newTable(w, "Partition", "First offset")
	for _, p := range r.Partitions {
		t.row(p.Partition, p.LowWatermark)
	}
	return t.flush()
}

var electLeadersCommand = &command{
	name:    "elect_leaders",
	aliases: []string{"elect-leaders"},
	args:    "[TOPIC]",
	summary: "Move leadership back to preferred replicas",
	details: `Elects the preferred replica (the first listed) as leader of every partition of
TOPIC (or those given with --partition), or with no TOPIC of every partition
whose leader is not its preferred replica. --unclean instead lets an
out-of-sync replica lead a partition that has no in-sync leader, which loses
what only the old leader had. Partitions already led by the replica the
election would pick are reported as "not needed".`,
	examples: []string{"elect_leaders", "elect_leaders orders --partition 3"},
	minArgs:  0, maxArgs: 1,
	setup: func(fs *flag.FlagSet) action {
		var parts partitionList
		fs.Var(&parts, "partition", "partition `ids` (repeatable, comma-separated; default: all)")
		unclean := fs.Bool("unclean", false, "unclean election (may lose data)")
		return func(ctx context.Context, e *env, args []string) (report, error) {
			typ := kafka.ElectPreferred
			if *unclean {
				typ = kafka.ElectUnclean
			}
			var which map[string][]int32
			if len(args) == 1 {
				if err := checkTopicName(args[0]); err != nil {
					return nil, err
				}
				t, err := e.topic(ctx, args[0])
				if err != nil {
					return nil, err
				}
				ids, err := selectPartitions(t, parts)
				if err != nil {
					return nil, err
				}
				which = map[string][]int32{args[0]: ids}
			} else if len(parts) > 0 {
				return nil, usagef("--partition needs a TOPIC")
			}
			cl, err := e.connect(ctx)
			if err != nil {
				return nil, err
			}
			res, err := cl.Cluster().ElectLeaders(ctx, typ, which)
			if err != nil {
				return nil, err
			}
			rep := &electReport{Partitions: []electRow{}}
			var errs []error
			for tp, err := range res {
				row := electRow{Topic: tp.Topic, Partition: tp.Partition, Result: "elected"}
				switch {
				case errors.Is(err, protocol.ErrElectionNotNeeded):
					row.Result = "not needed"
				case err != nil:
					row.Result = "failed: " + err.Error()
					errs = append(errs, err)
				}
				rep.Partitions = append(rep.Partitions, row)
			}
			sort.Slice(rep.Partitions, func(i, j int) bool {
				a, b := rep.Partitions[i], rep.Partitions[j]
				return a.Topic < b.Topic || a.Topic == b.Topic && a.Partition < b.Partition
			})
			if len(errs) > 0 {
				return nil, errors.Join(errs...)
			}
			return rep, nil
		}
	},
}

type electReport struct {
	Partitions []electRow `json:"partitions"`
}

type electRow struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Result    string `json:"result"`
}

func (r *electReport) writeText(w io.Writer) error {
	if len(r.Partitions) == 0 {
		_, err := fmt.Fprintln(w, "Every partition is led by its preferred replica")
		return err
	}
	t := newTable(w, "Topic", "Partition", "Result")
	for _, p := range r.Partitions {
		t.row(p.Topic, p.Partition, p.Result)
	}
	return t.flush()
}

var reassignCommand = &command{
	name:    "reassign",
	aliases: []string{"reassign-partitions"},
	args:    "[TOPIC [PARTITION=BROKERS ...]]",
	summary: "Move partitions' replicas, or list or cancel moves",
	details: `With PARTITION=BROKERS arguments (e.g. 0=1,2,3) moves each partition's replicas
to those brokers; the first becomes the preferred leader. The brokers copy the
data in the background: run reassign without assignments to list the moves
still in progress (of TOPIC, or of every topic). --cancel stops the moves of
the partitions given (PARTITION, no brokers), putting back their old replicas.`,
	examples: []string{"reassign orders 0=2,3 1=3,1", "reassign", "reassign orders --cancel 0"},
	minArgs:  0, maxArgs: -1,
	setup: func(fs *flag.FlagSet) action {
		cancel := fs.Bool("cancel", false, "cancel the moves of the PARTITIONs given")
		return func(ctx context.Context, e *env, args []string) (report, error) {
			if len(args) == 0 {
				if *cancel {
					return nil, usagef("--cancel needs a TOPIC and partitions")
				}
				return listReassignments(ctx, e, nil)
			}
			name := args[0]
			if err := checkTopicName(name); err != nil {
				return nil, err
			}
			moves, err := parseMoves(args[1:], *cancel)
			if err != nil {
				return nil, err
			}
			if _, err := e.topic(ctx, name); err != nil {
				return nil, err
			}
			if len(moves) == 0 {
				if *cancel {
					return nil, usagef("--cancel needs the partitions to cancel")
				}
				return listReassignments(ctx, e, map[string][]int32{name: nil})
			}
			cl, _ := e.connect(ctx)
			res, err := cl.Cluster().AlterPartitionReassignments(ctx, map[string]map[int32][]int32{name: moves})
			if err != nil {
				return nil, err
			}
			rep := &reassignReport{Topic: name, Cancelled: *cancel, Partitions: []reassignRow{}}
			var errs []error
			for _, p := range sortedIDs(moves) {
				if err := res[kafka.TopicPartition{Topic: name, Partition: p}]; err != nil {
					errs = append(errs, err)
					continue
				}
				rep.Partitions = append(rep.Partitions, reassignRow{Partition: p, Replicas: moves[p]})
			}
			if len(errs) > 0 {
				return nil, errors.Join(errs...)
			}
			return rep, nil
		}
	},
}

func parseMoves(args []string, cancel bool) (map[int32][]int32, error) {
	moves := map[int32][]int32{}
	for _, a := range args {
		ps, bs, hasBrokers := strings.Cut(a, "=")
		p, err := strconv.ParseInt(ps, 10, 32)
		if err != nil || p < 0 {
			return nil, usagef("bad partition in %q", a)
		}
		if _, dup := moves[int32(p)]; dup {
			return nil, usagef("partition %d given twice", p)
		}
		if cancel {
			if hasBrokers {
				return nil, usagef("--cancel takes partitions without brokers, got %q", a)
			}
			moves[int32(p)] = nil
			continue
		}
		if !hasBrokers {
			return nil, usagef("want PARTITION=BROKER,BROKER..., got %q", a)
		}
		var ids partitionList
		if err := ids.Set(bs); err != nil || len(ids) == 0 {
			return nil, usagef("bad broker list in %q", a)
		}
		moves[int32(p)] = ids
	}
	return moves, nil
}

type reassignReport struct {
	Topic      string        `json:"topic"`
	Cancelled  bool          `json:"cancelled"`
	Partitions []reassignRow `json:"partitions"`
}

type reassignRow struct {
	Partition int32   `json:"partition"`
	Replicas  []int32 `json:"replicas"`
}

func (r *reassignReport) writeText(w io.Writer) error {
	if r.Cancelled {
		_, err := fmt.Fprintf(w, "Cancelled the moves of %d partition(s) of %s\n", len(r.Partitions), r.Topic)
		return err
	}
	t := newTable(w, "Partition", "Moving to")
	for _, p := range r.Partitions {
		t.row(p.Partition, p.Replicas)
	}
	return t.flush()
}

func listReassignments(ctx context.Context, e *env, which map[string][]int32) (report, error) {
	cl, err := e.connect(ctx)
	if err != nil {
		return nil, err
	}
	res, err := cl.Cluster().ListPartitionReassignments(ctx, which)
	if err != nil {
		return nil, err
	}
	rep := &reassignListReport{Reassignments: []reassignListRow{}}
	for tp, r := range res {
		rep.Reassignments = append(rep.Reassignments, reassignListRow{Topic: tp.Topic, Partition: tp.Partition,
			Replicas: r.Replicas, Adding: r.Adding, Removing: r.Removing})
	}
	sort.Slice(rep.Reassignments, func(i, j int) bool {
		a, b := rep.Reassignments[i], rep.Reassignments[j]
		return a.Topic < b.Topic || a.Topic == b.Topic && a.Partition < b.Partition
	})
	return rep, nil
}

type reassignListReport struct {
	Reassignments []reassignListRow `json:"reassignments"`
}

type reassignListRow struct {
	Topic     string  `json:"topic"`
	Partition int32   `json:"partition"`
	Replicas  []int32 `json:"replicas"`
	Adding    []int32 `json:"adding"`
	Removing  []int32 `json:"removing"`
}

func (r *reassignListReport) writeText(w io.Writer) error {
	if len(r.Reassignments) == 0 {
		_, err := fmt.Fprintln(w, "No reassignments in progress")
		return err
	}
	t := newTable(w, "Topic", "Partition", "Replicas", "Adding", "Removing")
	for _, x := range r.Reassignments {
		t.row(x.Topic, x.Partition, x.Replicas, x.Adding, x.Removing)
	}
	return t.flush()
}
