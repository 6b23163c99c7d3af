package kafka

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/internal/testcluster"
)

// killRun is one idempotent producer writing numbered messages to its own
// topic until stopped, counting what it produced and what was reported.
type killRun struct {
	name     string
	topic    *Topic
	p        *Producer
	produced atomic.Int64
	ok       atomic.Int64
	stop     chan struct{}
	done     chan struct{}
	// gate holds the producing loop while a broker restarts (write-locked).
	gate sync.RWMutex

	mu      sync.Mutex
	reports []DeliveryReport
}

func (r *killRun) start(t *testing.T, ctx context.Context) {
	r.stop, r.done = make(chan struct{}), make(chan struct{})
	reportsDone := make(chan struct{})
	go func() {
		defer close(reportsDone)
		for rep := range r.p.Reports() {
			r.mu.Lock()
			r.reports = append(r.reports, rep)
			r.mu.Unlock()
			if rep.Err == nil {
				r.ok.Add(1)
			}
		}
	}()
	go func() {
		defer close(r.done)
		defer func() { <-reportsDone }()
		defer func() { assert.NoError(t, r.p.Close(), "%s: Close", r.name) }()
		for i := 0; ; i++ {
			select {
			case <-r.stop:
				return
			default:
			}
			r.gate.RLock()
			r.gate.RUnlock()
			if err := r.p.Produce(ctx, Message{Value: []byte(fmt.Sprintf("%09d-%s", i, padding))}); err != nil {
				t.Errorf("%s: produce %d: %v", r.name, i, err)
				return
			}
			r.produced.Add(1)
		}
	}()
}

// padding makes a message's value 100 bytes.
var padding = string(make([]byte, 90))

// TestIdempotentProducerBrokerKills kills two partition leaders, the
// active controller first, of a three-broker cluster (replication factor
// 3, min.insync.replicas 2) while a producer on each handler writes at
// least 100000 messages to a topic of its own: nothing is lost or
// duplicated, every partition holds its messages in the order produced,
// and every message is reported exactly once, successfully.
func TestIdempotentProducerBrokerKills(t *testing.T) {
	began := time.Now()
	phase := func(what string) { t.Logf("%6.1fs %s", time.Since(began).Seconds(), what) }
	c := testcluster.ForTest(t, testcluster.KRaftTriple.QuickFailover())
	phase("cluster started")
	// Under a loaded machine the kills, restart and read-back of some
	// 200000 messages per producer can outlast testCtx's two minutes.
	rounds := chaosRounds(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Duration(rounds)*4*time.Minute)
	defer cancel()
	perRun := int64(rounds) * 100000

	var runs []*killRun
	for _, name := range []string{"goroutine", "eventloop"} {
		h := newHandler(t, name)
		cl := newTestClient(t, ctx, h, Config{Hosts: c.Bootstrap()})
		topic := prodTopic(t, ctx, cl, 6, 3, map[string]string{"min.insync.replicas": "2"})
		p, err := topic.Producer(ProducerConfig{DeliveryReports: true, MaxRetries: 100, MaxQueuedMessages: 20000})
		require.NoError(t, err)
		require.Equal(t, IdempotenceAuto, p.cfg.Idempotence)
		runs = append(runs, &killRun{name: name, topic: topic, p: p})
	}
	h := newHandler(t, "goroutine")
	progress := func(what string, n int64) {
		t.Helper()
		base := make([]int64, len(runs))
		for i, r := range runs {
			base[i] = r.ok.Load()
		}
		eventually(t, ctx, h, what, func() bool {
			for i, r := range runs {
				if r.ok.Load() < base[i]+n {
					return false
				}
			}
			return true
		})
	}
	for _, r := range runs {
		r.start(t, ctx)
	}
	progress("first deliveries", 10000)
	phase("first deliveries")

	ctrl, err := c.ActiveController(ctx)
	require.NoError(t, err)
	require.NoError(t, runs[0].topic.cl.Update(ctx))
	leads := false
	for _, part := range runs[0].topic.Partitions() {
		leads = leads || part.LeaderID() == ctrl
	}
	require.True(t, leads, "the active controller %d leads a partition", ctrl)
	// make chaos adds rounds that kill and restart the leader of another
	// partition each time, before the last kill.
	for round := range rounds {
		victim := ctrl
		if round > 0 {
			r := runs[round%len(runs)]
			require.NoError(t, r.topic.cl.Update(ctx))
			victim = r.topic.Partition(int32(round % 6)).LeaderID()
			require.GreaterOrEqual(t, victim, int32(0), "partition %d has a leader", round%6)
		}
		t.Logf("round %d: killing broker %d (the active controller: %t)", round, victim, victim == ctrl)
		require.NoError(t, c.KillBroker(victim))
		progress("deliveries after a kill", 5000)
		phase("deliveries after a kill")
		// Restarting the broker is the harness's business, not what the
		// test proves: the producers pause meanwhile. On a loaded machine
		// the restart takes 45-95 s, and producing through it tripled the
		// records to write and read back (some 350000 per producer instead
		// of 100000) without testing anything more.
		for _, r := range runs {
			r.gate.Lock()
		}
		err = c.RestartBroker(ctx, victim)
		for _, r := range runs {
			r.gate.Unlock()
		}
		require.NoError(t, err)
		phase("broker restarted")
		progress("deliveries before the next kill", 5000)
	}

	require.NoError(t, runs[1].topic.cl.Update(ctx))
	victim := runs[1].topic.Partition(0).LeaderID()
	for _, part := range runs[1].topic.Partitions() {
		if id := part.LeaderID(); id != ctrl && id >= 0 {
			victim = id
		}
	}
	t.Logf("killing broker %d, a partition leader", victim)
	require.NoError(t, c.KillBroker(victim))
	progress("deliveries after the last kill", 5000)
	phase("deliveries after the last kill")
	for _, r := range runs {
		eventually(t, ctx, h, "enough produced", func() bool { return r.produced.Load() >= perRun })
		close(r.stop)
	}
	for _, r := range runs {
		<-r.done
	}
	phase("producers closed")

	for _, r := range runs {
		checkExactlyOnceInOrder(t, ctx, r)
	}
	phase("read back")
}

// checkExactlyOnceInOrder reads r's topic back: every message produced is
// there once, each partition in produce order, and every message was
// reported once, successfully. It checks some 10^5 records per run, so the
// per-record checks are plain comparisons (a testify assertion per record
// cost tens of seconds under -race).
func checkExactlyOnceInOrder(t *testing.T, ctx context.Context, r *killRun) {
	t.Helper()
	n := int(r.produced.Load())
	r.mu.Lock()
	reports := r.reports
	r.mu.Unlock()
	t.Logf("%s: produced %d, reported %d", r.name, n, len(reports))
	require.Len(t, reports, n, "%s: one report per message", r.name)
	require.NoError(t, r.topic.cl.Update(ctx))
	seen := make([]int, n)
	lost, dup, disordered := 0, 0, 0
	for _, part := range r.topic.Partitions() {
		log := fetchLog(t, ctx, part)
		prev := -1
		for off := int64(0); off < log.end; off++ {
			rec, ok := log.records[off]
			if !ok {
				continue
			}
			i, ok := messageIndex(rec.Value)
			if !ok || i >= n {
				t.Fatalf("%s: partition %d offset %d holds %q, which was never produced", r.name, part.ID(), off, rec.Value)
			}
			if i <= prev {
				if disordered == 0 {
					t.Errorf("%s: partition %d out of produce order at offset %d: %d after %d", r.name, part.ID(), off, i, prev)
				}
				disordered++
			}
			prev = i
			seen[i]++
		}
	}
	for _, k := range seen {
		switch {
		case k == 0:
			lost++
		case k > 1:
			dup += k - 1
		}
	}
	failed := 0
	reported := make([]int, n)
	for _, rep := range reports {
		if rep.Err != nil {
			failed++
		}
		i, ok := messageIndex(rep.Message.Value)
		if !ok || i >= n {
			t.Fatalf("%s: a report for %q, which was never produced", r.name, rep.Message.Value)
		}
		reported[i]++
	}
	for i, k := range reported {
		if k != 1 {
			t.Fatalf("%s: message %d reported %d times", r.name, i, k)
		}
	}
	t.Logf("%s: lost %d, duplicated %d, out of order %d, failed reports %d", r.name, lost, dup, disordered, failed)
	assert.Zero(t, lost, "%s: nothing lost", r.name)
	assert.Zero(t, dup, "%s: nothing duplicated", r.name)
	assert.Zero(t, disordered, "%s: every partition in produce order", r.name)
	assert.Zero(t, failed, "%s: every message delivered", r.name)
}

// messageIndex parses the nine-digit number a killRun message starts with.
func messageIndex(v []byte) (int, bool) {
	if len(v) < 9 {
		return 0, false
	}
	i := 0
	for _, c := range v[:9] {
		if c < '0' || c > '9' {
			return 0, false
		}
		i = 10*i + int(c-'0')
	}
	return i, true
}
