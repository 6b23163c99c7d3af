package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/gregorkafka/gregor/kafka"
	"github.com/gregorkafka/gregor/protocol"
)

// configTypes maps --type to a resource type.
var configTypes = map[string]kafka.ConfigResourceType{
	"topic": kafka.ConfigTopic, "broker": kafka.ConfigBroker, "broker-logger": kafka.ConfigBrokerLogger,
	"group": kafka.ConfigGroup, "client-metrics": kafka.ConfigClientMetrics,
}

func configResource(typ, name string) (kafka.ConfigResource, error) {
	t, ok := configTypes[typ]
	if !ok {
		return kafka.ConfigResource{}, usagef("bad --type %q (topic, broker, broker-logger, group or client-metrics)", typ)
	}
	if t == kafka.ConfigTopic {
		if err := checkTopicName(name); err != nil {
			return kafka.ConfigResource{}, err
		}
	}
	return kafka.ConfigResource{Type: t, Name: name}, nil
}

// configError turns a resource's error into the CLI's wording.
func configError(r kafka.ConfigResource, err error) error {
	if r.Type == kafka.ConfigTopic && errors.Is(err, protocol.ErrUnknownTopicOrPartition) {
		return unknownTopic(r.Name)
	}
	return fmt.Errorf("%v: %w", r, err)
}

var describeConfigsCommand = &command{
	name:    "describe_configs",
	aliases: []string{"describe-configs"},
	args:    "NAME",
	summary: "Show the configs of a topic, broker or other resource",
	details: `NAME is a topic, or with --type broker a broker id. Only settings that differ
from the defaults are shown unless --all is given. Sensitive values show as "-".`,
	examples: []string{"describe_configs orders", "describe_configs --type broker 1 --all"},
	minArgs:  1, maxArgs: 1,
	setup: func(fs *flag.FlagSet) action {
		typ := fs.String("type", "topic", "resource type: topic, broker, broker-logger, group, client-metrics")
		all := fs.Bool("all", false, "show every config, defaults included")
		return func(ctx context.Context, e *env, args []string) (report, error) {
			r, err := configResource(*typ, args[0])
			if err != nil {
				return nil, err
			}
			cl, err := e.connect(ctx)
			if err != nil {
				return nil, err
			}
			res, err := cl.Cluster().DescribeConfigs(ctx, r)
			if err != nil {
				return nil, err
			}
			if res[0].Err != nil {
				return nil, configError(r, res[0].Err)
			}
			rep := &configsReport{Type: *typ, Name: r.Name, Configs: []configRow{}}
			for _, c := range res[0].Entries {
				if c.IsDefault && !*all {
					continue
				}
				rep.Configs = append(rep.Configs, configRow{Name: c.Name, Value: c.Value, Source: c.Source.String(),
					ReadOnly: c.ReadOnly, Sensitive: c.Sensitive, Default: c.IsDefault})
			}
			sort.Slice(rep.Configs, func(i, j int) bool { return rep.Configs[i].Name < rep.Configs[j].Name })
			return rep, nil
		}
	},
}

type configsReport struct {
	Type    string      `json:"type"`
	Name    string      `json:"name"`
	Configs []configRow `json:"configs"`
}

type configRow struct {
	Name      string  `json:"name"`
	Value     *string `json:"value"`
	Source    string  `json:"source"`
	ReadOnly  bool    `json:"read_only"`
	Sensitive bool    `json:"sensitive"`
	Default   bool    `json:"default"`
}

func (r *configsReport) writeText(w io.Writer) error {
	if len(r.Configs) == 0 {
		_, err := fmt.Fprintf(w, "%s %s has only default configs (--all shows them)\n", r.Type, r.Name)
		return err
	}
	t := newTable(w, "Config", "Value", "Source")
	for _, c := range r.Configs {
		v := ""
		if c.Value != nil {
			v = *c.Value
		}
		t.row(c.Name, v, c.Source)
	}
	return t.flush()
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string { return strings.Join(*s, ",") }

func (s *stringList) Set(v string) error {
	if strings.TrimSpace(v) == "" {
		return errors.New("empty value")
	}
	*s = append(*s, v)
	return nil
}

var alterConfigsCommand = &command{
	name:    "alter_configs",
	aliases: []string{"alter-configs"},
	args:    "NAME",
	summary: "Change configs of a topic, broker or other resource",
	details: `Changes only the configs named (an incremental alteration): --set key=value
sets one, --delete key returns one to its default, --append and --subtract
add to or remove from a list config. With --validate-only the brokers check
the changes without applying them.`,
	examples: []string{
		"alter_configs orders --set retention.ms=86400000 --delete cleanup.policy",
		"alter_configs --type broker 1 --set log.cleaner.threads=2",
	},
	minArgs: 1, maxArgs: 1,
	setup: func(fs *flag.FlagSet) action {
		typ := fs.String("type", "topic", "resource type: topic, broker, broker-logger, group, client-metrics")
		set, appendKV, subtract := keyValues{}, keyValues{}, keyValues{}
		var del stringList
		fs.Var(set, "set", "set config `key=value` (repeatable)")
		fs.Var(&del, "delete", "return config `key` to its default (repeatable)")
		fs.Var(appendKV, "append", "add `key=value` to a list config (repeatable)")
		fs.Var(subtract, "subtract", "remove `key=value` from a list config (repeatable)")
		validate := fs.Bool("validate-only", false, "check the changes without applying them")
		return func(ctx context.Context, e *env, args []string) (report, error) {
			r, err := configResource(*typ, args[0])
			if err != nil {
				return nil, err
			}
			var alters []kafka.ConfigAlteration
			add := func(kv keyValues, op kafka.ConfigOp) {
				for _, k := range sortedKeys(kv) {
					alters = append(alters, kafka.ConfigAlteration{Name: k, Op: op, Value: kv[k]})
				}
			}
			add(set, kafka.ConfigSet)
			add(appendKV, kafka.ConfigAppend)
			add(subtract, kafka.ConfigSubtract)
			for _, k := range del {
				alters = append(alters, kafka.ConfigAlteration{Name: k, Op: kafka.ConfigDelete})
			}
			if len(alters) == 0 {
				return nil, usagef("nothing to change: give --set, --delete, --append or --subtract")
			}
			cl, err := e.connect(ctx)
			if err != nil {
				return nil, err
			}
			res, err := cl.Cluster().IncrementalAlterConfigs(ctx, map[kafka.ConfigResource][]kafka.ConfigAlteration{r: alters}, *validate)
			if err != nil {
				return nil, err
			}
			if err := res[r]; err != nil {
				return nil, configError(r, err)
			}
			rep := &alterConfigsReport{Type: *typ, Name: r.Name, ValidateOnly: *validate, Set: map[string]string(set),
				Deleted: []string(del), Appended: map[string]string(appendKV), Subtracted: map[string]string(subtract)}
			if rep.Deleted == nil {
				rep.Deleted = []string{}
			}
			return rep, nil
		}
	},
}

type alterConfigsReport struct {
	Type         string            `json:"type"`
	Name         string            `json:"name"`
	ValidateOnly bool              `json:"validate_only"`
	Set          map[string]string `json:"set"`
	Deleted      []string          `json:"deleted"`
	Appended     map[string]string `json:"appended"`
	Subtracted   map[string]string `json:"subtracted"`
}

func (r *alterConfigsReport) writeText(w io.Writer) error {
	verb := "Altered"
	if r.ValidateOnly {
		verb = "Validated (not applied) changes to"
	}
	if _, err := fmt.Fprintf(w, "%s configs of %s %s\n", verb, r.Type, r.Name); err != nil {
		return err
	}
	t := newTable(w, "Config", "Change", "Value")
	for _, k := range sortedKeys(r.Set) {
		t.row(k, "set", r.Set[k])
	}
	for _, k := range sortedKeys(r.Appended) {
		t.row(k, "append", r.Appended[k])
	}
	for _, k := range sortedKeys(r.Subtracted) {
		t.row(k, "subtract", r.Subtracted[k])
	}
	for _, k := range r.Deleted {
		t.row(k, "delete", "")
	}
	return t.flush()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
