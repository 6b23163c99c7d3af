package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/kafka"
)

// runInProcess runs the tool in this process; for commands that fail
// before they connect.
func runInProcess(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = runWithInput(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func TestUsageErrorsExitTwoBeforeConnecting(t *testing.T) {
	// Brokers that do not exist: a command that tried to connect would
	// fail with exit code 1 instead of 2.
	t.Setenv(envBrokers, "127.0.0.1:1")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "Usage:"},
		{[]string{"no_such_command"}, `unknown command "no_such_command"`},
		{[]string{"desc_topic"}, "desc_topic takes TOPIC, got 0"},
		{[]string{"desc_topic", "a", "b"}, "got 2"},
		{[]string{"print_topics", "extra"}, "print_topics takes no arguments"},
		{[]string{"print_offsets", "t", "yesterday"}, `bad offset or timestamp "yesterday"`},
		{[]string{"print_offsets", "t", "2024-02-30T00:00:00Z"}, "bad offset or timestamp"},
		{[]string{"print_offsets", "t", "42"}, `bad offset "42"`},
		{[]string{"reset_offsets", "t", "g", "soon"}, "bad offset or timestamp"},
		{[]string{"reset_offsets", "t", "g", "99999999999999999999"}, "bad offset"},
		{[]string{"reset_offsets", "t", "g", "1", "--partitions", "x"}, "bad partition"},
		{[]string{"create_topic", "bad name"}, "only ASCII letters"},
		{[]string{"create_topic", "ok", "-c", "novalue"}, "want key=value"},
		{[]string{"create_topic", "ok", "-p", "-3"}, "bad --partitions"},
		{[]string{"create_topic", "ok", "-c", "{not json"}, "bad JSON object"},
		{[]string{"-o", "yaml", "print_topics"}, `bad --output "yaml"`},
		{[]string{"print_topics", "--timeout", "-1s"}, "bad --timeout"},
		{[]string{"print_topics", "--no-such-flag"}, "flag provided but not defined"},
		{[]string{"--brokers", "nohostport", "print_topics"}, "bad --brokers address"},
		{[]string{"consume_topic", "t", "--from", "middle"}, "bad --from"},
		{[]string{"consume_topic", "t", "--limit", "-1"}, "bad --limit"},
		{[]string{"produce", "t", "--acks", "2"}, "bad --acks"},
		{[]string{"create_topic", "ok", "-a", "0:1,1:2:3"}, "partition 1 has 3 replicas"},
		{[]string{"create_topic", "ok", "-a", "0:1:1"}, "lists broker 1 twice"},
		{[]string{"create_topic", "ok", "-a", `{"1":[1]}`}, "partition 0 is missing"},
		{[]string{"create_topic", "ok", "-a", "0:1", "--num_partitions", "3"}, "leave -p and -r unset"},
		{[]string{"print_topics", "--dial-timeout", "0"}, "bad --dial-timeout"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, stdout, stderr := runInProcess(t, tc.args...)
			assert.Equal(t, exitUsage, code, "stderr: %s", stderr)
			assert.Empty(t, stdout)
			assert.Contains(t, stderr, tc.want)
			assert.NotContains(t, stderr, "cannot reach", "a usage error must be found before connecting")
			if tc.args != nil {
				assert.Equal(t, 1, strings.Count(stderr, "\n"), "one line: %s", stderr)
				assert.Contains(t, stderr, "--help)")
			}
		})
	}
}

// TestPykafkaCommandLines: pykafka's kafka-tools flags parse; with brokers
// that do not exist, each command gets as far as connecting.
func TestPykafkaCommandLines(t *testing.T) {
	for _, args := range [][]string{
		{"-b", "127.0.0.1:1", "print_topics"},
		{"--broker", "127.0.0.1:1", "-o", "0.10.1", "desc_topic", "t"},
		{"-b", "127.0.0.1:1", "--broker_version", "1.0.0", "create_topic", "t", "--num_partitions", "3",
			"--replication_factor", "1", "--config_entries", `{"retention.ms": 604800000}`, "-t", "5000"},
		{"-b", "127.0.0.1:1", "create_topic", "t", "-p", "-1", "-r", "-1", "--replica_assignment", `{"0": [1, 2], "1": [2, 3]}`},
		{"-b", "127.0.0.1:1", "create_topic", "t", "-a", "1:2,2:3"},
		{"-b", "127.0.0.1:1", "delete_topic", "t", "--timeout", "5000"},
		{"-b", "127.0.0.1:1", "consume_topic", "t", "-l", "5"},
		{"-b", "127.0.0.1:1", "consume_topic", "t", "-l", "5", "-o", filepath.Join(t.TempDir(), "out.txt")},
	} {
		code, _, stderr := runInProcess(t, args...)
		assert.Equal(t, exitError, code, "%v: %s", args, stderr)
		assert.Contains(t, stderr, "cannot reach the cluster", args)
	}
}

func TestReplicaAssignmentFlag(t *testing.T) {
	a := replicaAssignment{}
	require.NoError(t, a.Set("1:2,2:3,3:1"))
	assert.Equal(t, replicaAssignment{0: {1, 2}, 1: {2, 3}, 2: {3, 1}}, a)
	assert.Equal(t, "1:2,2:3,3:1", a.String())
	require.NoError(t, a.check())
	b := replicaAssignment{}
	require.NoError(t, b.Set(`{"1": [3, 1], "0": [1, 2]}`))
	assert.Equal(t, replicaAssignment{0: {1, 2}, 1: {3, 1}}, b)
	assert.Error(t, b.Set("0:1"), "given twice")
}

// TestDialTimeoutIsNamed: a peer that accepts and never answers trips the
// dial timeout, and the message names that limit, not --timeout.
func TestDialTimeoutIsNamed(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	var held []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c) // never answered, closed with the listener's test
		}
	}()
	code, _, stderr := runInProcess(t, "--brokers", ln.Addr().String(), "--dial-timeout", "200ms", "print_topics")
	assert.Equal(t, exitError, code)
	assert.Contains(t, stderr, "dial timeout of 200ms (raise --dial-timeout)")
	assert.NotContains(t, stderr, "raise --timeout")

	code, _, stderr = runInProcess(t, "--brokers", ln.Addr().String(), "--timeout", "200ms", "print_topics")
	assert.Equal(t, exitError, code)
	assert.Contains(t, stderr, "timed out after 200ms (raise --timeout)")
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		code, stdout, _ := runInProcess(t, args...)
		require.Equal(t, exitOK, code, args)
		for _, c := range commands {
			assert.Contains(t, stdout, c.name, args)
		}
		assert.Contains(t, stdout, "--brokers")
		assert.Contains(t, stdout, "Examples:")
	}
	for _, c := range commands {
		for _, args := range [][]string{{c.name, "--help"}, {"help", c.name}, {strings.ReplaceAll(c.name, "_", "-"), "-h"}} {
			code, stdout, stderr := runInProcess(t, args...)
			require.Equal(t, exitOK, code, "%v: %s", args, stderr)
			assert.Contains(t, stdout, c.usageLine(), args)
			assert.Contains(t, stdout, "Examples:", args)
			assert.Contains(t, stdout, "Global flags", args)
		}
	}
	// A command's own flags are listed, the global ones only named.
	_, stdout, _ := runInProcess(t, "reset_offsets", "--help")
	assert.Contains(t, stdout, "-force")
	assert.Contains(t, stdout, "-dry-run")
	assert.NotContains(t, stdout, "-zookeeper connect")
}

func TestEveryCommandHasExamplesAndKebabCaseWorks(t *testing.T) {
	owner := map[string]*command{}
	for _, c := range commands {
		assert.NotEmpty(t, c.examples, c.name)
		assert.NotEmpty(t, c.summary, c.name)
		kebab := strings.ReplaceAll(c.name, "_", "-")
		assert.Same(t, c, lookupCommand(kebab), kebab)
		assert.Same(t, c, lookupCommand(c.name), c.name)
		for _, name := range append([]string{c.name}, c.aliases...) {
			n := strings.ReplaceAll(name, "-", "_")
			if prev := owner[n]; prev != nil {
				assert.Same(t, prev, c, "%q names both %s and %s", name, prev.name, c.name)
			}
			owner[n] = c
		}
	}
	assert.Nil(t, lookupCommand("nope"))
}

func TestParseInterleaved(t *testing.T) {
	fs := newFlagSet("x")
	force := fs.Bool("force", false, "")
	out := fs.String("o", "", "")
	pos, err := parseInterleaved(fs, []string{"a", "--force", "b", "-o", "json", "c", "--", "-d", "--force"})
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b", "c", "-d", "--force"}, pos)
	assert.True(t, *force)
	assert.Equal(t, "json", *out)

	_, err = parseInterleaved(newFlagSet("y"), []string{"a", "-h"})
	assert.ErrorIs(t, err, flag.ErrHelp)
}

func TestParseOffsetSpec(t *testing.T) {
	day := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in          string
		allowOffset bool
		kind        specKind
		time        time.Time
		offset      int64
		bad         bool
	}{
		{in: "earliest", kind: specEarliest},
		{in: "LATEST", kind: specLatest},
		{in: "2024-05-01", kind: specTime, time: day},
		{in: "2024-05-01T12:30", kind: specTime, time: day.Add(12*time.Hour + 30*time.Minute)},
		{in: "2024-05-01T12:30:15Z", kind: specTime, time: day.Add(12*time.Hour + 30*time.Minute + 15*time.Second)},
		{in: "2024-05-01T12:30:15.250+02:00", kind: specTime, time: day.Add(10*time.Hour + 30*time.Minute + 15250*time.Millisecond)},
		{in: "2024-05-01 12:30:15", kind: specTime, time: day.Add(12*time.Hour + 30*time.Minute + 15*time.Second)},
		{in: "1500", allowOffset: true, kind: specOffset, offset: 1500},
		{in: "0", allowOffset: true, kind: specOffset, offset: 0},
		{in: "1500", bad: true},
		{in: "-1", allowOffset: true, bad: true},
		{in: "", bad: true},
		{in: "1969-12-31", bad: true},
		{in: "2024-05-01T25:00", bad: true},
		{in: "now", allowOffset: true, bad: true},
		{in: "12abc", allowOffset: true, bad: true},
	} {
		spec, err := parseOffsetSpec(tc.in, tc.allowOffset)
		if tc.bad {
			var ue *usageError
			assert.ErrorAs(t, err, &ue, "%q", tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.kind, spec.kind, tc.in)
		assert.True(t, tc.time.Equal(spec.time), "%q: got %v want %v", tc.in, spec.time, tc.time)
		assert.Equal(t, tc.offset, spec.offset, tc.in)
	}
}

func TestOneLineAndExitCodes(t *testing.T) {
	joined := errors.Join(errors.New("kafka: partition t/0: boom"), errors.New("kafka: partition t/1: bang"))
	assert.Equal(t, "kafka: partition t/0: boom kafka: partition t/1: bang", oneLine(joined, 0))
	assert.Equal(t, exitError, exitCode(joined))

	late := fmt.Errorf("listing: %w", context.DeadlineExceeded)
	assert.Contains(t, oneLine(late, 5*time.Second), "timed out after 5s")

	assert.Equal(t, exitUsage, exitCode(fmt.Errorf("x: %w", &kafka.ConfigError{Field: "Hosts[0]", Reason: "bad"})))
	assert.Equal(t, exitUsage, exitCode(usagef("bad")))
	assert.Equal(t, exitError, exitCode(unknownTopic("x")))
	assert.ErrorIs(t, unknownGroup("g"), errNotFound)
	assert.Equal(t, `group "g" does not exist`, unknownGroup("g").Error())
}

func TestKeyValuesAndConfigJSON(t *testing.T) {
	kv := keyValues{}
	c := configFlagValue{kv}
	require.NoError(t, c.Set("cleanup.policy=compact"))
	require.NoError(t, c.Set(`{"retention.ms": 604800000, "preallocate": true, "segment.bytes": "1048576"}`))
	assert.Equal(t, keyValues{
		"cleanup.policy": "compact", "retention.ms": "604800000", "preallocate": "true", "segment.bytes": "1048576",
	}, kv)
	assert.Error(t, c.Set("cleanup.policy=delete"), "a setting given twice")
	assert.Error(t, c.Set("=x"))
	assert.Error(t, c.Set(`{"a": [1]}`))
}

func TestCheckTopicName(t *testing.T) {
	assert.NoError(t, checkTopicName("orders.v2_eu-1"))
	for _, bad := range []string{"", ".", "..", "a b", "ä", "a/b", strings.Repeat("x", 250)} {
		assert.Error(t, checkTopicName(bad), "%q", bad)
	}
}

func TestTableAlignsAndMarksMissing(t *testing.T) {
	var b bytes.Buffer
	tb := newTable(&b, "Partition", "Lag", "Consumer ID")
	tb.row(int32(0), int64p(12), "member-1")
	tb.row(int32(10), (*int64)(nil), "")
	tb.row(int32(2), int64p(3), "a\tb")
	require.NoError(t, tb.flush())
	assert.Equal(t, ""+
		"Partition  Lag  Consumer ID\n"+
		"0          12   member-1\n"+
		"10         -    -\n"+
		"2          3    a b\n", b.String())
}
