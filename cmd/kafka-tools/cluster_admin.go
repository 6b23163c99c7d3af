package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strconv"

	"github.com/gregorkafka/gregor/kafka"
	"github.com/gregorkafka/gregor/protocol"
)

var deleteGroupCommand = &command{
	name:    "delete_group",
	aliases: []string{"delete-group"},
	args:    "GROUP",
	summary: "Delete a consumer group, or its offsets of one topic",
	details: `Deletes the group and its committed offsets; the group must have no members.
With --topic only the group's offsets of that topic (or of its partitions given
with --partition) are deleted, which Kafka allows while the group has members
as long as they do not consume the topic.`,
	examples: []string{"delete_group billing-old", "delete_group billing --topic orders"},
	minArgs:  1, maxArgs: 1,
	setup: func(fs *flag.FlagSet) action {
		topic := fs.String("topic", "", "delete only the offsets of this topic")
		var parts partitionList
		fs.Var(&parts, "partition", "with --topic: partition `ids` (repeatable, comma-separated; default: all)")
		return func(ctx context.Context, e *env, args []string) (report, error) {
			group := args[0]
			if group == "" {
				return nil, usagef("group name is empty")
			}
			if *topic == "" {
				if len(parts) > 0 {
					return nil, usagef("--partition needs --topic")
				}
				cl, err := e.connect(ctx)
				if err != nil {
					return nil, err
				}
				res, err := cl.Cluster().DeleteGroups(ctx, group)
				if err != nil {
					return nil, err
				}
				if err := res[group]; err != nil {
					if errors.Is(err, protocol.ErrGroupIDNotFound) {
						return nil, unknownGroup(group)
					}
					if errors.Is(err, protocol.ErrNonEmptyGroup) {
						return nil, fmt.Errorf("group %q has members; stop them first: %w", group, err)
					}
					return nil, err
				}
				return &deleteGroupReport{Group: group, Partitions: []int32{}}, nil
			}
			if err := checkTopicName(*topic); err != nil {
				return nil, err
			}
			t, err := e.topic(ctx, *topic)
			if err != nil {
				return nil, err
			}
			ids, err := selectPartitions(t, parts)
			if err != nil {
				return nil, err
			}
			cl, _ := e.connect(ctx)
			res, err := cl.Cluster().DeleteGroupOffsets(ctx, group, map[string][]int32{*topic: ids})
			if errors.Is(err, protocol.ErrGroupIDNotFound) {
				return nil, unknownGroup(group)
			}
			if err != nil {
				return nil, err
			}
			var errs []error
			for _, id := range ids {
				if err := res[kafka.TopicPartition{Topic: *topic, Partition: id}]; err != nil {
					errs = append(errs, err)
				}
			}
			if err := errors.Join(errs...); err != nil {
				if errors.Is(err, protocol.ErrGroupSubscribedToTopic) {
					return nil, fmt.Errorf("group %q consumes topic %q; stop its members first: %w", group, *topic, err)
				}
				return nil, err
			}
			return &deleteGroupReport{Group: group, Topic: *topic, Partitions: ids}, nil
		}
	},
}

type deleteGroupReport struct {
	Group string `json:"group"`
	// Topic is set when only the group's offsets of it were deleted.
	Topic      string  `json:"topic,omitempty"`
	Partitions []int32 `json:"partitions"`
}

func (r *deleteGroupReport) writeText(w io.Writer) error {
	if r.Topic == "" {
		_, err := fmt.Fprintf(w, "Deleted group %s\n", r.Group)
		return err
	}
	_, err := fmt.Fprintf(w, "Deleted the offsets of group %s for topic %s, partitions %s\n", r.Group, r.Topic, joinIDs(r.Partitions))
	return err
}

var logDirsCommand = &command{
	name:     "log_dirs",
	aliases:  []string{"log-dirs"},
	args:     "[TOPIC]",
	summary:  "Show brokers' log directories and the replicas in them",
	details:  "Asks every broker (or those given with --broker-id) for its log directories, with their replicas (of TOPIC only when given) and sizes.",
	examples: []string{"log_dirs", "log_dirs orders --broker-id 1"},
	minArgs:  0, maxArgs: 1,
	setup: func(fs *flag.FlagSet) action {
		var brokers partitionList
		fs.Var(&brokers, "broker-id", "broker `ids` (repeatable, comma-separated; default: all)")
		return func(ctx context.Context, e *env, args []string) (report, error) {
			var topics map[string][]int32
			if len(args) == 1 {
				if err := checkTopicName(args[0]); err != nil {
					return nil, err
				}
				t, err := e.topic(ctx, args[0])
				if err != nil {
					return nil, err
				}
				ids, _ := selectPartitions(t, nil)
				topics = map[string][]int32{args[0]: ids}
			}
			cl, err := e.connect(ctx)
			if err != nil {
				return nil, err
			}
			var which []int32
			if len(brokers) > 0 {
				which = brokers
			}
			res, err := cl.Cluster().DescribeLogDirs(ctx, which, topics)
			if err != nil {
				return nil, err
			}
			rep := &logDirsReport{Dirs: []logDirRow{}}
			var errs []error
			for _, id := range sortedIDs(res) {
				bd := res[id]
				if bd.Err != nil {
					errs = append(errs, fmt.Errorf("broker %d: %w", id, bd.Err))
					continue
				}
				for _, d := range bd.Dirs {
					row := logDirRow{Broker: id, Path: d.Path, TotalBytes: d.TotalBytes, UsableBytes: d.UsableBytes, Replicas: []logDirReplica{}}
					if d.Err != nil {
						row.Error = d.Err.Error()
					}
					for _, r := range d.Partitions {
						row.Replicas = append(row.Replicas, logDirReplica{Topic: r.Topic, Partition: r.Partition, Size: r.Size,
							OffsetLag: r.OffsetLag, Future: r.Future})
					}
					rep.Dirs = append(rep.Dirs, row)
				}
			}
			if len(errs) > 0 {
				return nil, errors.Join(errs...)
			}
			return rep, nil
		}
	},
}

type logDirsReport struct {
	Dirs []logDirRow `json:"dirs"`
}

type logDirRow struct {
	Broker      int32           `json:"broker"`
	Path        string          `json:"path"`
	TotalBytes  int64           `json:"total_bytes"`
	UsableBytes int64           `json:"usable_bytes"`
	Error       string          `json:"error,omitempty"`
	Replicas    []logDirReplica `json:"replicas"`
}

type logDirReplica struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Size      int64  `json:"size"`
	OffsetLag int64  `json:"offset_lag"`
	Future    bool   `json:"future"`
}

func (r *logDirsReport) writeText(w io.Writer) error {
	t := newTable(w, "Broker", "Dir", "Topic", "Partition", "Size", "Lag")
	for _, d := range r.Dirs {
		if len(d.Replicas) == 0 {
			t.row(d.Broker, d.Path, "", "", "", "")
		}
		for _, x := range d.Replicas {
			t.row(d.Broker, d.Path, x.Topic, x.Partition, x.Size, x.OffsetLag)
		}
	}
	return t.flush()
}

var quotasCommand = &command{
	name:    "quotas",
	aliases: []string{"client-quotas"},
	summary: "Show or change client quotas",
	details: `Without --set or --remove, lists the quotas of the entities matching --user
and --client-id (all entities when neither is given). With them, changes the
quotas of the entity named by --user and/or --client-id ("" names the
default entity), e.g. --set producer_byte_rate=1048576.`,
	examples: []string{"quotas", "quotas --user alice --set producer_byte_rate=1048576", "quotas --user alice --remove producer_byte_rate"},
	minArgs:  0, maxArgs: 0,
	setup: func(fs *flag.FlagSet) action {
		var user, client optString
		fs.Var(&user, "user", "user `name` (\"\": the default user)")
		fs.Var(&client, "client-id", "client `id` (\"\": the default client)")
		set := keyValues{}
		var remove stringList
		fs.Var(set, "set", "set quota `key=value` (repeatable)")
		fs.Var(&remove, "remove", "remove quota `key` (repeatable)")
		return func(ctx context.Context, e *env, args []string) (report, error) {
			entity := kafka.QuotaEntity{}
			var filters []kafka.QuotaFilter
			for _, x := range []struct {
				typ string
				v   optString
			}{{"user", user}, {"client-id", client}} {
				if !x.v.set {
					continue
				}
				var name *string
				if x.v.val != "" {
					name = &x.v.val
				}
				entity[x.typ] = name
				filters = append(filters, kafka.QuotaFilter{EntityType: x.typ, Match: name, Default: name == nil})
			}
			cl, err := e.connect(ctx)
			if err != nil {
				return nil, err
			}
			if len(set) == 0 && len(remove) == 0 {
				return describeQuotas(ctx, cl.Cluster(), filters)
			}
			if len(entity) == 0 {
				return nil, usagef("changing quotas needs --user and/or --client-id")
			}
			alter := kafka.QuotaAlteration{Entity: entity, Set: map[string]float64{}, Remove: remove}
			for k, v := range set {
				f, err := strconv.ParseFloat(v, 64)
				if err != nil {
					return nil, usagef("quota %s: %q is not a number", k, v)
				}
				alter.Set[k] = f
			}
			errs, err := cl.Cluster().AlterClientQuotas(ctx, []kafka.QuotaAlteration{alter}, false)
			if err != nil {
				return nil, err
			}
			if errs[0] != nil {
				return nil, errs[0]
			}
			return &quotasReport{Changed: true, Quotas: []quotaRow{quotaRowOf(entity, alter.Set)}}, nil
		}
	},
}

// optString is a string flag that remembers whether it was given.
type optString struct {
	val string
	set bool
}

func (o *optString) String() string { return o.val }

func (o *optString) Set(v string) error { o.val, o.set = v, true; return nil }

func describeQuotas(ctx context.Context, admin *kafka.Cluster, filters []kafka.QuotaFilter) (report, error) {
	got, err := admin.DescribeClientQuotas(ctx, filters, false)
	if err != nil {
		return nil, err
	}
	rep := &quotasReport{Quotas: []quotaRow{}}
	for _, q := range got {
		rep.Quotas = append(rep.Quotas, quotaRowOf(q.Entity, q.Values))
	}
	sort.Slice(rep.Quotas, func(i, j int) bool {
		a, b := rep.Quotas[i], rep.Quotas[j]
		return a.User < b.User || a.User == b.User && a.ClientID < b.ClientID
	})
	return rep, nil
}

func quotaRowOf(e kafka.QuotaEntity, values map[string]float64) quotaRow {
	name := func(typ string) string {
		n, ok := e[typ]
		switch {
		case !ok:
			return ""
		case n == nil:
			return "<default>"
		}
		return *n
	}
	return quotaRow{User: name("user"), ClientID: name("client-id"), IP: name("ip"), Values: values}
}

type quotasReport struct {
	Changed bool       `json:"changed"`
	Quotas  []quotaRow `json:"quotas"`
}

type quotaRow struct {
	User     string             `json:"user,omitempty"`
	ClientID string             `json:"client_id,omitempty"`
	IP       string             `json:"ip,omitempty"`
	Values   map[string]float64 `json:"values"`
}

func (r *quotasReport) writeText(w io.Writer) error {
	if len(r.Quotas) == 0 {
		_, err := fmt.Fprintln(w, "No quotas")
		return err
	}
	if r.Changed {
		fmt.Fprintln(w, "Quotas changed:")
	}
	t := newTable(w, "User", "Client id", "Quota", "Value")
	for _, q := range r.Quotas {
		for _, k := range sortedKeys(q.Values) {
			t.row(q.User, q.ClientID, k, strconv.FormatFloat(q.Values[k], 'g', -1, 64))
		}
		if len(q.Values) == 0 {
			t.row(q.User, q.ClientID, "", "")
		}
	}
	return t.flush()
}
