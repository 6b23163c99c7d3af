package kafka

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/internal/testcluster"
)

// pykafka 2.8 speaks only the old protocol versions Kafka 4 removed
// (Produce v0-v2, Fetch v0-v3, ListOffsets v0), so these tests run on the
// Kafka 3.9 ZooKeeper-mode cluster.

// pyMember is a pykafka group member running testdata/pykafka/member.py.
type pyMember struct {
	stdin io.WriteCloser
	done  chan struct{}

	mu      sync.Mutex
	owns    []int32
	stopped bool
	exited  bool // its output ended
	got     map[msgID]string
	keys    map[string]int32 // key -> partition of what it consumed
}

func startPyMember(t *testing.T, env *groupEnv, python string, managed bool) *pyMember {
	t.Helper()
	args := []string{"testdata/pykafka/member.py", "consume", "--bootstrap", env.tc.Bootstrap()[0],
		"--zookeeper", env.tc.ZooKeeperConnect(), "--topic", env.topic.Name(), "--group", env.group}
	if managed {
		args = append(args, "--managed")
	}
	cmd := exec.CommandContext(env.ctx, python, args...)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	m := &pyMember{stdin: stdin, done: make(chan struct{}), got: map[msgID]string{}, keys: map[string]int32{}}
	go func() {
		defer close(m.done)
		defer func() {
			m.mu.Lock()
			m.exited = true
			m.mu.Unlock()
		}()
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var ev struct {
				Owns    []int32 `json:"owns"`
				Stopped bool    `json:"stopped"`
				P       *int32  `json:"p"`
				O       int64   `json:"o"`
				K, V    string
			}
			if json.Unmarshal(sc.Bytes(), &ev) != nil {
				continue
			}
			m.mu.Lock()
			switch {
			case ev.Owns != nil:
				m.owns = ev.Owns
			case ev.Stopped:
				m.stopped = true
			case ev.P != nil:
				m.got[msgID{*ev.P, ev.O}] = ev.V
				if ev.K != "" {
					m.keys[ev.V] = *ev.P
				}
			}
			m.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = stdin.Close()
		select {
		case <-m.done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
		}
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("pykafka member's stderr:\n%s", stderr.String())
		}
	})
	return m
}

// partitions returns what the member owns; a member that died fails the
// test at once rather than after a long wait.
func (m *pyMember) partitions(t *testing.T) []int32 {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.exited && !m.stopped {
		t.Fatal("the pykafka member exited")
	}
	if m.stopped {
		return nil
	}
	return slices.Clone(m.owns)
}

// stop makes the member leave the group, as pykafka's stop() does.
func (m *pyMember) stop(t *testing.T, env *groupEnv) {
	t.Helper()
	require.NoError(t, m.stdin.Close())
	eventually(t, env.ctx, env.h, "the pykafka member stopping", func() bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		return m.stopped
	})
}

// waitMixedSplit waits until the gregor and pykafka members between them
// own every partition once, each some.
func waitMixedSplit(t *testing.T, env *groupEnv, g *BalancedConsumer, py *pyMember) {
	t.Helper()
	n := len(env.topic.Partitions())
	eventually(t, env.ctx, env.h, "a split between gregor and pykafka", func() bool {
		gp, pp := g.Partitions(), py.partitions(t)
		if len(gp) == 0 || len(pp) == 0 || len(gp)+len(pp) != n {
			return false
		}
		for _, p := range gp {
			if slices.Contains(pp, p) {
				return false
			}
		}
		return true
	})
}

// waitConsumed waits until every message of want was consumed by one side
// or the other.
func waitConsumed(t *testing.T, env *groupEnv, want map[msgID]string, col *collector, pys ...*pyMember) {
	t.Helper()
	eventually(t, env.ctx, env.h, fmt.Sprintf("%d messages consumed", len(want)), func() bool {
		for id := range want {
			if col.count(id) > 0 {
				continue
			}
			found := false
			for _, py := range pys {
				py.mu.Lock()
				_, found = py.got[id]
				py.mu.Unlock()
				if found {
					break
				}
			}
			if !found {
				return false
			}
		}
		return true
	})
}

// pyProduce produces one message per key with pykafka's default keyed
// partitioner and returns where each key went.
func pyProduce(t *testing.T, env *groupEnv, python string, keys []string) map[string]int32 {
	t.Helper()
	args := append([]string{"testdata/pykafka/member.py", "produce", "--bootstrap", env.tc.Bootstrap()[0],
		"--topic", env.topic.Name()}, keys...)
	cmd := exec.CommandContext(env.ctx, python, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "%s", stderr.String())
	placed := map[string]int32{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var ev struct {
			K string `json:"k"`
			P int32  `json:"p"`
		}
		require.NoError(t, json.Unmarshal([]byte(line), &ev), line)
		placed[ev.K] = ev.P
	}
	require.Len(t, placed, len(keys))
	return placed
}

// TestPykafkaMixedGroups runs a ZooKeeper group and a broker-managed group
// each mixing a gregor member with pykafka 2.8.0 members. The pykafka
// member comes first and, in the managed group, leads (its assignments
// carry no user data); it hands over to gregor on stop; a new pykafka
// member then joins gregor, which leads. Every message is consumed, and
// keys produced by pykafka and by gregor's SHA1Partitioner land alike.
func TestPykafkaMixedGroups(t *testing.T) {
	tc := testcluster.Shared(t, testcluster.ZooKeeperSingle) // skips under -short before pykafka is set up
	python := pykafkaPython(t)
	for _, kind := range []balancedKind{zkGroup, managedZKMode} {
		t.Run(kind.name, func(t *testing.T) {
			t.Parallel() // most of the time goes to waiting for rebalances
			forEachHandler(t, func(t *testing.T, h handler.Handler) {
				env := newGroupEnv(t, kind, tc, h, 4, 1)
				testPykafkaMixedGroup(t, env, python)
			})
		})
	}
}

func testPykafkaMixedGroup(t *testing.T, env *groupEnv, python string) {
	keys := make([]string, 24)
	for i := range keys {
		keys[i] = fmt.Sprintf("customer-%d", i)
	}
	pyPlaced := pyProduce(t, env, python, keys)
	p, err := env.topic.SyncProducer(ProducerConfig{Partitioner: SHA1Partitioner()})
	require.NoError(t, err)
	defer p.Close()
	goPlaced := map[string]int32{}
	for _, k := range keys {
		part, _, err := p.Produce(env.ctx, Message{Key: []byte(k), Value: []byte("go-" + k)})
		require.NoError(t, err)
		goPlaced[k] = part
	}
	assert.Equal(t, pyPlaced, goPlaced, "keys placed alike")
	// The 48 keyed messages fill each partition from offset 0.
	counts := map[int32]int64{}
	for _, k := range keys {
		counts[pyPlaced[k]] += 2
	}
	first := map[msgID]string{}
	for part, n := range counts {
		for off := range n {
			first[msgID{part, off}] = ""
		}
	}

	py := startPyMember(t, env, python, env.kind.managed)
	eventually(t, env.ctx, env.h, "the pykafka member owning every partition", func() bool {
		return len(py.partitions(t)) == 4
	})
	g := env.consumer(t, BalancedConsumerConfig{CommitOnRebalance: true,
		ConsumerConfig: ConsumerConfig{ConsumerTimeout: 200 * time.Millisecond}})
	col := newCollector(t)
	col.run(env.ctx, g)
	waitMixedSplit(t, env, g, py)
	if env.kind.managed {
		// The group as an operator sees it: the pykafka leader's
		// assignments (no user data) decode for every member.
		eventually(t, env.ctx, env.h, "the group described with every partition assigned", func() bool {
			d, err := env.cl.Cluster().DescribeGroup(env.ctx, env.group)
			require.NoError(t, err)
			var assigned []int32
			for _, m := range d.Members {
				require.Empty(t, m.DecodeError, m.MemberID)
				for _, tp := range m.Assignment {
					if tp.Topic == env.topic.Name() {
						assigned = append(assigned, tp.Partitions...)
					}
				}
			}
			slices.Sort(assigned)
			return len(d.Members) == 2 && slices.Equal(assigned, []int32{0, 1, 2, 3})
		})
	}
	waitConsumed(t, env, first, col, py)

	// Handover: pykafka leaves, gregor takes everything.
	py.stop(t, env)
	env.waitSplit(t, g)
	second := env.produceRound(t, "handover", 3)
	col.waitAll(t, env, second)

	// A new pykafka member joins gregor, which now leads a managed group.
	py2 := startPyMember(t, env, python, env.kind.managed)
	waitMixedSplit(t, env, g, py2)
	third := env.produceRound(t, "joined", 3)
	waitConsumed(t, env, third, col, py2)

	// Messages consumed by pykafka from the keyed round sit where both
	// producers put their key.
	py.mu.Lock()
	defer py.mu.Unlock()
	for v, part := range py.keys {
		k, ok := strings.CutPrefix(v, "py-")
		if !ok {
			k = strings.TrimPrefix(v, "go-")
		}
		assert.Equal(t, goPlaced[k], part, "key %s", k)
	}
}
