package main

import (
	"flag"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gregorkafka/gregor/kafka"
)

const (
	defaultBrokers = "localhost:9092"
	envBrokers     = "KAFKA_BROKERS"
	defaultTimeout = 30 * time.Second
)

// globals are the flags every command accepts, before or after its name.
type globals struct {
	brokers     string
	brokersSet  bool // given by flag or environment, not defaulted
	zookeeper   string
	timeout     time.Duration
	dialTimeout time.Duration
	output      string
	verbose     bool
	// brokerVersion is pykafka's --broker_version: accepted so that its
	// command lines work, and unused, since gregor asks each broker.
	brokerVersion string
	// outfile is pykafka's consume_topic -o FILE.
	outfile string
	tls     tlsFlags
	sasl    saslFlags
}

func newGlobals(getenv func(string) string) *globals {
	g := &globals{brokers: defaultBrokers, timeout: defaultTimeout, dialTimeout: kafka.DefaultDialTimeout, output: "text"}
	if v := strings.TrimSpace(getenv(envBrokers)); v != "" {
		g.brokers, g.brokersSet = v, true
	}
	g.tls.fromEnv(getenv)
	g.sasl.fromEnv(getenv)
	return g
}

// globalFlagNames are skipped when a command lists its own flags.
var globalFlagNames = map[string]bool{
	"brokers": true, "zookeeper": true, "timeout": true, "o": true, "output": true, "v": true, "verbose": true,
	"b": true, "broker": true, "broker_version": true, "t": true, "dial-timeout": true,
	"tls": true, "tls-ca": true, "tls-cert": true, "tls-key": true, "tls-insecure": true,
	"sasl-mechanism": true, "sasl-user": true, "sasl-password-file": true,
}

// register adds the global flags to fs; several FlagSets share g.
func (g *globals) register(fs *flag.FlagSet) {
	setBrokers := func(s string) error {
		g.brokers, g.brokersSet = s, true
		return nil
	}
	fs.Func("brokers", "seed brokers, comma-separated `host:port` list (default "+defaultBrokers+", or $"+envBrokers+")", setBrokers)
	fs.Func("broker", "pykafka's spelling of --brokers", setBrokers)
	fs.Func("b", "shorthand for --brokers", setBrokers)
	fs.StringVar(&g.zookeeper, "zookeeper", g.zookeeper,
		"ZooKeeper `connect` string, host:2181[,host:2181][/chroot]: bootstraps when --brokers is not\ngiven, and finds the members of groups registered in ZooKeeper")
	fs.Var(durationOrMillis{&g.timeout}, "timeout", "bound on the whole command, a duration (30s) or milliseconds as pykafka took it; 0 means none")
	fs.Var(durationOrMillis{&g.timeout}, "t", "shorthand for --timeout")
	fs.Var(durationOrMillis{&g.dialTimeout}, "dial-timeout", "how long a broker may take to accept a connection and answer its first request")
	fs.StringVar(&g.output, "output", g.output, "output `format`: text or json")
	fs.StringVar(&g.output, "o", g.output, "shorthand for --output (pykafka's -o VERSION is read as --broker_version)")
	fs.StringVar(&g.brokerVersion, "broker_version", "", "accepted for pykafka's command lines and unused: versions are negotiated with each broker")
	fs.BoolVar(&g.verbose, "verbose", false, "log the client's work, and each request and response, to stderr")
	fs.BoolVar(&g.verbose, "v", false, "shorthand for --verbose")
	g.tls.register(fs)
	g.sasl.register(fs)
}

// durationOrMillis reads a Go duration, or a bare integer as milliseconds
// (pykafka's kafka-tools took --timeout in milliseconds).
type durationOrMillis struct{ d *time.Duration }

func (v durationOrMillis) String() string {
	if v.d == nil {
		return ""
	}
	return v.d.String()
}

func (v durationOrMillis) Set(s string) error {
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		*v.d = time.Duration(ms) * time.Millisecond
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("want a duration such as 30s, or milliseconds")
	}
	*v.d = d
	return nil
}

// brokerVersionRE is what pykafka's global -o took: a broker version.
var brokerVersionRE = regexp.MustCompile(`^[0-9]+(\.[0-9]+)+$`)

// check validates the global flags for command c (nil: none yet).
func (g *globals) check(c *command) error {
	switch {
	case brokerVersionRE.MatchString(g.output):
		g.brokerVersion, g.output = g.output, "text"
	case c != nil && c.name == "consume_topic" && g.output != "text" && g.output != "json":
		// pykafka's consume_topic took -o as its output file.
		g.outfile, g.output = g.output, "text"
	}
	switch g.output {
	case "text", "json":
	default:
		return usagef("bad --output %q: want text or json", g.output)
	}
	if g.timeout < 0 {
		return usagef("bad --timeout %v: must not be negative", g.timeout)
	}
	if g.dialTimeout <= 0 {
		return usagef("bad --dial-timeout %v: must be positive", g.dialTimeout)
	}
	return nil
}

// brokerList splits --brokers into addresses; kafka.Config validates them.
func (g *globals) brokerList() []string {
	var out []string
	for _, b := range strings.Split(g.brokers, ",") {
		if b = strings.TrimSpace(b); b != "" {
			out = append(out, b)
		}
	}
	return out
}

// parseInterleaved parses flags that may come before, between and after
// the positional arguments (the flag package alone stops at the first
// positional). Everything after "--" is positional.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// newFlagSet returns a FlagSet that reports errors instead of exiting and
// prints nothing itself.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// printFlags lists fs's flags, those in skip left out, in the flag
// package's format.
func printFlags(w io.Writer, fs *flag.FlagSet, skip map[string]bool) {
	shown := flag.NewFlagSet("", flag.ContinueOnError)
	shown.SetOutput(w)
	fs.VisitAll(func(f *flag.Flag) {
		if !skip[f.Name] {
			shown.Var(f.Value, f.Name, f.Usage)
			shown.Lookup(f.Name).DefValue = f.DefValue
		}
	})
	shown.PrintDefaults()
}

// keyValues is a repeatable key=value flag.
type keyValues map[string]string

func (kv keyValues) String() string {
	keys := make([]string, 0, len(kv))
	for k := range kv {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + kv[k]
	}
	return strings.Join(parts, ",")
}

func (kv keyValues) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	k = strings.TrimSpace(k)
	if !ok || k == "" {
		return fmt.Errorf("want key=value, got %q", s)
	}
	if _, dup := kv[k]; dup {
		return fmt.Errorf("%q given twice", k)
	}
	kv[k] = v
	return nil
}

// partitionList is a flag holding partition ids, "0,2,5", repeatable.
type partitionList []int32

func (p *partitionList) String() string {
	s := make([]string, len(*p))
	for i, id := range *p {
		s[i] = strconv.Itoa(int(id))
	}
	return strings.Join(s, ",")
}

func (p *partitionList) Set(s string) error {
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.ParseInt(strings.TrimSpace(f), 10, 32)
		if err != nil || n < 0 {
			return fmt.Errorf("bad partition %q", f)
		}
		*p = append(*p, int32(n))
	}
	return nil
}
