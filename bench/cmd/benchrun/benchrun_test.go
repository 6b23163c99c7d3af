package main

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/bench/internal/report"
)

func TestRunOrderInterleaves(t *testing.T) {
	got := runOrder([]string{"A", "B", "C"}, 5)
	require.Len(t, got, 15)
	var names []string
	for i, tr := range got {
		assert.Equal(t, i/3, tr.rep, "turn %d", i)
		names = append(names, tr.name)
	}
	assert.Equal(t, []string{"A", "B", "C", "B", "C", "A", "C", "A", "B", "A", "B", "C", "B", "C", "A"}, names,
		"each repetition runs every contender once, starting with a different one")
	for rep := 0; rep < 5; rep++ {
		assert.ElementsMatch(t, []string{"A", "B", "C"}, names[rep*3:rep*3+3], "repetition %d", rep)
	}
	assert.Empty(t, runOrder([]string{"A"}, 0))
	assert.Empty(t, runOrder(nil, 5))
}

func TestPlanRepetitions(t *testing.T) {
	assert.Equal(t, 5, fullPlan().reps)
}

func TestPlanPinning(t *testing.T) {
	found := func(string) (string, error) { return "/usr/bin/taskset", nil }
	p := planPinning("0,1", found)
	assert.Equal(t, pinning{taskset: "/usr/bin/taskset", brokers: "0", client: "1"}, p)
	assert.Equal(t, []string{"/usr/bin/taskset", "-c", "1", "benchclient", "-x"}, p.clientArgv([]string{"benchclient", "-x"}))
	assert.Equal(t, []string{"/usr/bin/taskset", "-c", "0", "testcluster"}, p.brokerArgv([]string{"testcluster"}))
	assert.Contains(t, p.describe(), "brokers (harness and JVMs) on CPU 0, the client under test on CPU 1")

	p = planPinning("0-3,6", found)
	assert.Equal(t, "0,1,2,3", p.brokers)
	assert.Equal(t, "6", p.client)

	for allowed, why := range map[string]string{"2": "only 1 CPU", "": "unreadable", "x-1": "unreadable", "3-1": "backwards"} {
		p = planPinning(allowed, found)
		assert.Empty(t, p.taskset, allowed)
		assert.Contains(t, p.describe(), why, allowed)
		assert.Equal(t, []string{"benchclient"}, p.clientArgv([]string{"benchclient"}), "unpinned runs run as they are")
	}
	p = planPinning("0,1", func(string) (string, error) { return "", errors.New("not found") })
	assert.Equal(t, "not pinned: taskset (util-linux) is not installed; brokers and clients share every core", p.describe())
	assert.Equal(t, []string{"java", "-cp"}, p.clientArgv([]string{"java", "-cp"}))
}

func TestParseCPUList(t *testing.T) {
	got, err := parseCPUList("0-2,5,7-8\n")
	require.NoError(t, err)
	assert.Equal(t, []int{0, 1, 2, 5, 7, 8}, got)
	assert.Equal(t, "0,1,2,5,7,8", formatCPUList(got))
}

func TestDocsForKeepsPublishedReport(t *testing.T) {
	assert.Equal(t, "docs", docsFor(&report.Results{}, "docs", "results"), "a full run publishes")
	assert.Equal(t, "results", docsFor(&report.Results{Quick: true}, "docs", "results"))
	assert.Equal(t, "results", docsFor(&report.Results{Partial: true}, "docs", "results"),
		"a -only run with nothing to merge into must not replace docs/benchmarks.md")
	// A rerun merged into full results is full again.
	full := &report.Results{Unavailable: map[string]string{}}
	merged := report.Merge(full, &report.Results{Partial: true, Unavailable: map[string]string{}}, func(string) bool { return false })
	assert.Equal(t, "docs", docsFor(merged, "docs", "results"))
}
