package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/bench/internal/report"
	"github.com/gregorkafka/gregor/bench/internal/workload"
)

func TestCPUProbe(t *testing.T) {
	start := time.Now()
	mbps, err := cpuProbe()
	require.NoError(t, err)
	assert.Greater(t, mbps, 100.0, "MB/s: any core CRCs and mixes faster")
	assert.Less(t, mbps, 1e6, "1 TB/s would mean the work was not done")
	assert.Less(t, time.Since(start), 5*time.Second, "tens of milliseconds before each repetition")
	assert.NotZero(t, probeSink)
}

// The probe runs as a process of its own, wrapped as the contenders are: on the client's core when pinning.
func TestProbeSpeedRunsPinned(t *testing.T) {
	dir := t.TempDir()
	calls := filepath.Join(dir, "calls")
	taskset := script(t, dir, "taskset", "echo \"$@\" >> "+calls+"\nshift 2\nexec \"$@\"\n")
	probe := script(t, dir, "benchrun", "echo starting >&2\necho 15234.5\n")
	e := &execer{pin: pinning{taskset: taskset, brokers: "0", client: "1"}, probe: []string{probe, "-" + probeFlag}}
	mbps, err := e.probeSpeed(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 15234.5, mbps)
	b, err := os.ReadFile(calls)
	require.NoError(t, err)
	assert.Equal(t, "-c 1 "+probe+" -cpu-probe\n", string(b), "on the client's CPU")

	e.probe = []string{script(t, dir, "garbled", "echo fast\n")}
	_, err = e.probeSpeed(context.Background())
	assert.ErrorContains(t, err, "no rate")
	e.probe = []string{script(t, dir, "failing", "echo 'no such CPU' >&2\nexit 3\n")}
	_, err = e.probeSpeed(context.Background())
	assert.ErrorContains(t, err, "no such CPU")
	e.probe = nil
	_, err = e.probeSpeed(context.Background())
	assert.ErrorIs(t, err, errNoProbe)
}

// Every repetition of a cell starts with a probe, kept in order with the cell's entry in the results; the conns
// cells go unprobed.
func TestCellsProbedPerRepetition(t *testing.T) {
	dir := t.TempDir()
	client := script(t, dir, "benchclient", `echo '{"messages":10,"p50_ms":1,"p99_ms":2,"p999_ms":3}'`+"\n")
	// Each probe prints the next of 1000, 2000, ...
	probe := script(t, dir, "probe", "n=$(cat "+filepath.Join(dir, "n")+" 2>/dev/null || echo 0)\nn=$((n+1))\n"+
		"echo $n > "+filepath.Join(dir, "n")+"\necho ${n}000\n")
	e := &execer{benchclient: client, workDir: dir, timeout: time.Minute, bufferMsgs: func(int) int { return 1 },
		probe: []string{probe}}
	other := report.Cell{Key: "other"}
	c := report.Cell{Cluster: "k", Workload: workload.Latency, Size: 100, Compression: "none", Acks: "1", Rate: 2000, Key: "l"}
	conns := report.Cell{Workload: workload.Conns, Key: "conns"}
	cr := &clusterRun{r: &report.Results{Cells: []report.Cell{other, c, conns}}, e: e,
		cl: &cluster{bootstrap: []string{"127.0.0.1:9"}}, p: plan{reps: 3, latRate: 2000, latBeside: true},
		spec: clusterSpec{contenders: []string{"gregor", "franz-go", "sarama"}}, payloads: map[int]string{100: "v"}}
	cr.besideRuns(context.Background(), c, "t", cr.spec.contenders)
	require.Len(t, cr.r.Samples, 12, "3 repetitions of 2 pairs")
	assert.Equal(t, []float64{1000, 2000, 3000}, cr.r.Cells[1].Probe, "one probe per repetition, not per run")
	assert.Empty(t, cr.r.Cells[0].Probe, "another cell's entry")

	cr.probe(context.Background(), conns)
	assert.Empty(t, cr.r.Cells[2].Probe, "goroutines and sockets do not move with the CPU's speed")

	saved := filepath.Join(dir, "results.json")
	require.NoError(t, cr.r.Save(saved))
	got, err := report.Load(saved)
	require.NoError(t, err)
	assert.Equal(t, []float64{1000, 2000, 3000}, got.Cells[1].Probe, "saved with the cell")
}
