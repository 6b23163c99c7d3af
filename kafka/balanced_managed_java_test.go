package kafka

import (
	"bufio"
	"fmt"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/internal/testcluster"
)

// javaConsumer is the Java client's console consumer in a group, printing
// what it consumes.
type javaConsumer struct {
	cmd *exec.Cmd
	mu  sync.Mutex
	got map[msgID]string
}

var consoleLine = regexp.MustCompile(`Partition:(\d+)\s+Offset:(\d+)\s+(.*)$`)

// startJavaConsumer runs Kafka's ConsoleConsumer in group with the classic
// group protocol and the range assignor, as client id "java-member", so
// that its member id sorts after gregor's.
func startJavaConsumer(t *testing.T, env *groupEnv) *javaConsumer {
	t.Helper()
	return startConsoleConsumer(t, env,
		"--consumer-property", "group.protocol=classic",
		"--consumer-property", "partition.assignment.strategy=org.apache.kafka.clients.consumer.RangeAssignor",
		"--consumer-property", "client.id=java-member",
		"--consumer-property", "heartbeat.interval.ms=300",
		"--consumer-property", "session.timeout.ms=6000")
}

// startConsoleConsumer runs Kafka's ConsoleConsumer from the harness's
// classpath on env's topic and group, from the beginning, with the extra
// arguments args (the consumer's properties), until the test ends.
func startConsoleConsumer(t *testing.T, env *groupEnv, args ...string) *javaConsumer {
	t.Helper()
	java, err := exec.LookPath("java")
	if err != nil {
		t.Skip("java not installed")
	}
	argv := []string{"-cp", env.tc.Classpath(), "org.apache.kafka.tools.consumer.ConsoleConsumer",
		"--bootstrap-server", env.tc.Bootstrap()[0], "--topic", env.topic.Name(), "--group", env.group, "--from-beginning",
		"--formatter-property", "print.partition=true",
		"--formatter-property", "print.offset=true"}
	cmd := exec.CommandContext(env.ctx, java, append(argv, args...)...)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	jc := &javaConsumer{cmd: cmd, got: map[msgID]string{}}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			m := consoleLine.FindStringSubmatch(sc.Text())
			if m == nil {
				continue
			}
			p, _ := strconv.Atoi(m[1])
			off, _ := strconv.ParseInt(m[2], 10, 64)
			jc.mu.Lock()
			jc.got[msgID{int32(p), off}] = m[3]
			jc.mu.Unlock()
		}
	}()
	return jc
}

func (jc *javaConsumer) has(ids map[msgID]string) bool {
	jc.mu.Lock()
	defer jc.mu.Unlock()
	for id, v := range ids {
		if jc.got[id] != v {
			return false
		}
	}
	return true
}

func (jc *javaConsumer) partitionsOf(ids map[msgID]string) []int32 {
	jc.mu.Lock()
	defer jc.mu.Unlock()
	var out []int32
	for id := range ids {
		if _, ok := jc.got[id]; ok && !slices.Contains(out, id.p) {
			out = append(out, id.p)
		}
	}
	slices.Sort(out)
	return out
}

// TestManagedConsumerWithJavaConsumer runs a gregor member and a Java
// client member in one group, each in turn the leader that computes the
// assignment. Both split the topic as the Java RangeAssignor does, and each
// consumes exactly its own partitions.
func TestManagedConsumerWithJavaConsumer(t *testing.T) {
	tc := testcluster.Shared(t, testcluster.KRaftSingle)
	h := newHandler(t, "goroutine") // the protocol, not the runtime, is under test
	for _, javaLeads := range []bool{true, false} {
		t.Run(fmt.Sprintf("java-leader=%v", javaLeads), func(t *testing.T) {
			env := newGroupEnv(t, managedKRaft, tc, h, 10, 1)
			before := env.produceRound(t, "before", 2)
			var jc *javaConsumer
			if javaLeads {
				// The first member to join leads; the Java consumer has joined
				// once it has consumed everything on its own.
				jc = startJavaConsumer(t, env)
				eventually(t, env.ctx, h, "the Java consumer alone", func() bool { return jc.has(before) })
			}
			g := env.consumer(t, BalancedConsumerConfig{})
			if !javaLeads {
				env.waitSplit(t, g)
				jc = startJavaConsumer(t, env)
			}
			// "gregor-..." sorts before "java-member-...": the first half.
			eventually(t, env.ctx, h, "the split", func() bool {
				return slices.Equal(g.Partitions(), []int32{0, 1, 2, 3, 4})
			})

			col := newCollector(t)
			col.run(env.ctx, g)
			after := env.produceRound(t, "after", 3)
			mine, theirs := map[msgID]string{}, map[msgID]string{}
			for id, v := range after {
				if id.p < 5 {
					mine[id] = v
				} else {
					theirs[id] = v
				}
			}
			col.waitAll(t, env, mine)
			eventually(t, env.ctx, h, "the Java consumer's share", func() bool { return jc.has(theirs) })
			assert.Equal(t, []int32{5, 6, 7, 8, 9}, jc.partitionsOf(after), "the Java consumer's partitions")
			for _, m := range col.messages(g) {
				_, ok := mine[msgID{m.Partition, m.Offset}]
				_, old := before[msgID{m.Partition, m.Offset}]
				assert.True(t, ok || old, "gregor consumed %d/%d", m.Partition, m.Offset)
			}
		})
	}
}
