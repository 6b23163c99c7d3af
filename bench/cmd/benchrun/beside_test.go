package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/bench/internal/report"
	"github.com/gregorkafka/gregor/bench/internal/workload"
)

func TestBesideStarts(t *testing.T) {
	at := time.Unix(100, 0)
	assert.Equal(t, [2]time.Time{at, at.Add(500 * time.Microsecond)}, besideStarts(at, 2000, true))
	assert.Equal(t, [2]time.Time{at.Add(500 * time.Microsecond), at}, besideStarts(at, 2000, false),
		"the partner first")
	assert.Equal(t, [2]time.Time{at, at.Add(time.Second)}, besideStarts(at, 0, true), "a rate of 0 is 1/s")
	assert.Equal(t, 1000, besideRate(2000), "each of the pair sends half the cell's rate")
	assert.Equal(t, 1, besideRate(1))
}

// A latency cell runs each other contender at the same time as gregor: the two processes overlap, each sends at
// half the cell's rate from start times one period of that rate apart (gregor first in every other pair), and each
// run is kept with the contender it ran beside. A non-latency cell, or a plan without it, takes turns as before.
func TestBesideRuns(t *testing.T) {
	dir := t.TempDir()
	// The client logs its -client and -start flags with the times it began and ended, and lingers so that runs
	// that are at the same time overlap.
	client := script(t, dir, "benchclient", `
name=""; start=0; rate=0
while [ $# -gt 0 ]; do
  case "$1" in -client) name="$2"; shift;; -start) start="$2"; shift;; -rate) rate="$2"; shift;; esac; shift
done
b=$(date +%s%N); sleep 0.2; e=$(date +%s%N)
echo "$name $start $b $e $rate" >> `+filepath.Join(dir, "log")+`
echo '{"messages":10,"p50_ms":1,"p99_ms":2,"p999_ms":3}'
`)
	// The brokers' collection before each pair takes longer than the pair's lead: the start times must still
	// lie ahead of the processes.
	jcmd := script(t, dir, "jcmd", "sleep 0.6\n")
	e := &execer{benchclient: client, workDir: dir, timeout: time.Minute, bufferMsgs: func(int) int { return 1 },
		jcmd: jcmd}
	cr := &clusterRun{r: &report.Results{}, e: e,
		cl: &cluster{bootstrap: []string{"127.0.0.1:9"}, pids: []int{1}}, p: plan{reps: 2, latRate: 2000, latBeside: true},
		spec: clusterSpec{contenders: []string{"gregor", "franz-go", "sarama"}}, payloads: map[int]string{100: "v"}}
	c := report.Cell{Cluster: "k", Workload: workload.Latency, Size: 100, Compression: "none", Acks: "1", Rate: 2000, Key: "l"}
	require.True(t, cr.besideBaseline(c, cr.spec.contenders))
	cr.besideRuns(context.Background(), c, "t", cr.spec.contenders)

	require.Len(t, cr.r.Samples, 8, "2 repetitions of 2 pairs, 2 runs each")
	pairs := map[string]int{}
	for _, s := range cr.r.Samples {
		assert.Equal(t, "l", s.Cell)
		assert.NotEqual(t, s.Contender, s.Beside)
		assert.Contains(t, []string{s.Contender, s.Beside}, "gregor", "every run has gregor on one side")
		assert.Equal(t, 2.0, s.Result.P99Ms)
		pairs[s.Contender+"|"+s.Beside]++
	}
	assert.Equal(t, map[string]int{"gregor|franz-go": 2, "franz-go|gregor": 2, "gregor|sarama": 2, "sarama|gregor": 2}, pairs)

	b, err := os.ReadFile(filepath.Join(dir, "log"))
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	require.Len(t, lines, 8)
	type run struct {
		name              string
		start, begin, end int64
	}
	var runs []run
	for _, l := range lines {
		f := strings.Fields(l)
		require.Len(t, f, 5, l)
		assert.Equal(t, "1000", f[4], "half the cell's rate each")
		r := run{name: f[0]}
		for i, p := range []*int64{&r.start, &r.begin, &r.end} {
			*p, err = strconv.ParseInt(f[i+1], 10, 64)
			require.NoError(t, err)
		}
		runs = append(runs, r)
	}
	// The log's lines come in pairs, in the order the runs ended; match each gregor run with its partner's.
	gregorFirst := 0
	for i := 0; i < len(runs); i += 2 {
		a, b := runs[i], runs[i+1]
		if b.name == "gregor" {
			a, b = b, a
		}
		require.Equal(t, "gregor", a.name)
		assert.Greater(t, a.start, a.begin, "the start lies ahead of the process")
		assert.Greater(t, b.start, b.begin, "the start lies ahead of the process")
		assert.Less(t, a.begin, b.end, "the pair overlaps")
		assert.Less(t, b.begin, a.end, "the pair overlaps")
		d := b.start - a.start
		assert.Contains(t, []int64{500_000, -500_000}, d, "start times one period of the cell's rate apart")
		if d > 0 {
			gregorFirst++
		}
	}
	assert.Equal(t, 2, gregorFirst, "gregor sends first in every other pair")

	cr.p.latBeside = false
	assert.False(t, cr.besideBaseline(c, cr.spec.contenders), "off in the plan")
	cr.p.latBeside = true
	assert.False(t, cr.besideBaseline(c, []string{"franz-go", "sarama"}), "no gregor to run beside")
	c.Workload = workload.Produce
	assert.False(t, cr.besideBaseline(c, cr.spec.contenders), "only latency cells")
}
