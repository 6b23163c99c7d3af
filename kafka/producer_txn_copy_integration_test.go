package kafka

import (
	"bufio"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/internal/testcluster"
)

// buildTxnCopy builds the testdata/txncopy command into a temporary
// directory.
func buildTxnCopy(t *testing.T, ctx context.Context) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "txncopy")
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	out, err := exec.CommandContext(ctx, goTool, "build", "-o", bin, "./testdata/txncopy").CombinedOutput()
	require.NoError(t, err, "building txncopy: %s", out)
	return bin
}

// TestTransactionalCopySurvivesKill runs a process copying topic A to B in
// transactions (consume, produce, commit the input offsets in the
// transaction), SIGKILLs it in the middle of a transaction whose messages
// are already written, and runs it again: B read committed holds every
// message of A exactly once, for gregor's consumer and for Java's. Kafka 4
// runs it with transaction version 2 (KIP-890) and 1 (classic).
func TestTransactionalCopySurvivesKill(t *testing.T) {
	bin := buildTxnCopy(t, testCtx(t))
	for _, kind := range []testcluster.Config{testcluster.KRaftSingle, kraftClassicTxn} {
		tc := testcluster.Shared(t, kind)
		v2 := kind.Features == nil
		for _, name := range []string{"goroutine", "eventloop"} {
			t.Run(kind.Name()+"/"+name, func(t *testing.T) {
				t.Parallel() // mostly waiting on the copier processes and Java's consumer
				ctx := testCtx(t)
				h := newHandler(t, name)
				cl := newTestClient(t, ctx, h, Config{Hosts: tc.Bootstrap()})
				a := prodTopic(t, ctx, cl, 3, 1, nil)
				b := prodTopic(t, ctx, cl, 3, 1, nil)
				const n = 1000
				reports := produceAll(t, ctx, a, ProducerConfig{}, n, func(i int) Message {
					return Message{Value: []byte(fmt.Sprintf("m-%d", i))}
				})
				for _, r := range reports {
					require.NoError(t, r.Err)
				}
				args := []string{
					"-brokers", strings.Join(tc.Bootstrap(), ","), "-in", a.Name(), "-out", b.Name(),
					"-group", a.Name() + "-copier", "-id", a.Name() + "-copier", "-batch", "100", "-handler", name,
				}

				// First run: killed inside its third transaction.
				cmd := exec.CommandContext(ctx, bin, append(args, "-hang", "3")...)
				stdout, err := cmd.StdoutPipe()
				require.NoError(t, err)
				var stderr strings.Builder
				cmd.Stderr = &stderr
				require.NoError(t, cmd.Start())
				sc := bufio.NewScanner(stdout)
				open := false
				for sc.Scan() {
					if strings.HasPrefix(sc.Text(), "open") {
						open = true
						assert.Equal(t, fmt.Sprintf("open %t", v2), sc.Text(), "the transaction protocol")
						break
					}
				}
				require.NoError(t, cmd.Process.Kill())
				_ = cmd.Wait()
				require.True(t, open, "txncopy never opened its third transaction: %s", stderr.String())

				uncommitted := readLevel(t, ctx, b, ReadUncommitted)
				committed := readLevel(t, ctx, b, ReadCommitted)
				require.Len(t, committed, 200, "two transactions committed")
				require.Len(t, uncommitted, 300, "the third one's messages were written when the process died")

				// Second run: takes over the transactional id, which aborts the
				// dead one's transaction, and resumes from the committed offsets.
				out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
				require.NoError(t, err, "%s", out)

				want := make([]string, n)
				for i := range want {
					want[i] = fmt.Sprintf("copy:m-%d", i)
				}
				got := readLevel(t, ctx, b, ReadCommitted)
				assert.ElementsMatch(t, want, got, "gregor read committed: every message of A once")
				assert.Equal(t, want, uniqueSorted(t, got))

				// Java stops at n: a duplicate would take a wanted
				// message's place (gregor's read above sees them all).
				javaGot := javaReadCommitted(t, ctx, tc, b.Name(), n)
				assert.ElementsMatch(t, want, javaGot, "Java read committed: every message of A once")
			})
		}
	}
}

// readLevel reads every partition of topic from the start at the given
// isolation level until the consumer times out.
func readLevel(t *testing.T, ctx context.Context, topic *Topic, level IsolationLevel) []string {
	t.Helper()
	c := newConsumer(t, topic, ConsumerConfig{IsolationLevel: level, AutoOffsetReset: OffsetEarliest, ConsumerTimeout: 1500 * time.Millisecond})
	var out []string
	for {
		m, err := c.Consume(ctx)
		if err != nil {
			require.ErrorIs(t, err, ErrConsumerTimeout)
			return out
		}
		out = append(out, string(m.Value))
	}
}

// uniqueSorted returns values sorted the way want is built (by number),
// failing on a duplicate.
func uniqueSorted(t *testing.T, values []string) []string {
	t.Helper()
	idx := make([]int, 0, len(values))
	for _, v := range values {
		var i int
		_, err := fmt.Sscanf(v, "copy:m-%d", &i)
		require.NoError(t, err, "%q", v)
		idx = append(idx, i)
	}
	slices.Sort(idx)
	out := make([]string, len(idx))
	for k, i := range idx {
		if k > 0 {
			require.NotEqual(t, idx[k-1], i, "copy:m-%d twice", i)
		}
		out[k] = fmt.Sprintf("copy:m-%d", i)
	}
	return out
}

// javaReadCommitted reads the first n messages of topic with Kafka's own
// console consumer at isolation.level=read_committed (fewer if it waits
// ten seconds for one).
func javaReadCommitted(t *testing.T, ctx context.Context, tc *testcluster.Cluster, topic string, n int) []string {
	t.Helper()
	java, err := exec.LookPath("java")
	require.NoError(t, err)
	cmd := exec.CommandContext(ctx, java, "-cp", tc.Classpath(), "org.apache.kafka.tools.consumer.ConsoleConsumer",
		"--bootstrap-server", tc.Bootstrap()[0], "--topic", topic, "--from-beginning",
		"--isolation-level", "read_committed", "--timeout-ms", "10000", "--max-messages", fmt.Sprint(n))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, _ := cmd.Output() // it exits non-zero on the timeout that ends it
	var values []string
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "copy:") { // the tool logs to stdout too
			values = append(values, line)
		}
	}
	require.NotEmpty(t, values, "console consumer: %s", stderr.String())
	return values
}
