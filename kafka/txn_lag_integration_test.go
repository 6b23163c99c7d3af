package kafka

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/internal/testcluster"
)

// TestTransactionLagMatchesJava reads a committed transaction to its end
// with gregor's consumer and with Java's, each in its own group: both
// positions end past the commit marker, so both groups commit the
// partition's end and lag 0, the consumer's own Lag included.
func TestTransactionLagMatchesJava(t *testing.T) {
	tc := testcluster.Shared(t, testcluster.KRaftSingle)
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		ctx := testCtx(t)
		cl := newTestClient(t, ctx, h, Config{Hosts: tc.Bootstrap()})
		topic := prodTopic(t, ctx, cl, 1, 1, nil)
		p, _ := txnProducer(t, topic, uniqueTopic(t, "lag"))
		require.NoError(t, p.BeginTransaction(ctx))
		produceValues(t, ctx, p, seqValues("lag", 0, 10)...)
		require.NoError(t, p.CommitTransaction(ctx))
		require.NoError(t, p.Close())
		eventually(t, ctx, h, "10 records and the commit marker", func() bool {
			end, err := topic.Partition(0).LatestOffset(ctx)
			require.NoError(t, err)
			return end == 11
		})

		javaGroup := topic.Name() + "-java"
		javaConsumeGroup(t, ctx, tc, topic.Name(), javaGroup, 10)

		group := topic.Name() + "-gregor"
		c := newConsumer(t, topic, ConsumerConfig{ConsumerGroup: group, IsolationLevel: ReadCommitted, AutoOffsetReset: OffsetEarliest})
		consumeMessages(t, ctx, c, 10)
		eventually(t, ctx, h, "the consumer past the marker", func() bool { return c.NextOffsets()[0] == 11 })
		assert.Equal(t, map[int32]int64{0: 0}, c.Lag())
		require.NoError(t, c.CommitOffsets(ctx))

		for _, g := range []string{javaGroup, group} {
			lag, err := cl.Cluster().GroupLag(ctx, g, nil)
			require.NoError(t, err)
			assert.Equal(t, PartitionLag{Committed: 11, End: 11, Lag: 0}, lag[topic.Name()][0], "group %s", g)
		}
	})
}

// javaConsumeGroup reads n records of topic read_committed with Kafka's
// console consumer in group, which commits its position when it exits.
func javaConsumeGroup(t *testing.T, ctx context.Context, tc *testcluster.Cluster, topic, group string, n int) {
	t.Helper()
	java, err := exec.LookPath("java")
	require.NoError(t, err)
	cmd := exec.CommandContext(ctx, java, "-cp", tc.Classpath(), "org.apache.kafka.tools.consumer.ConsoleConsumer",
		"--bootstrap-server", tc.Bootstrap()[0], "--topic", topic, "--group", group, "--from-beginning",
		"--isolation-level", "read_committed", "--timeout-ms", "20000", "--max-messages", fmt.Sprint(n))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "console consumer: %s", stderr.String())
	require.Equal(t, n, strings.Count(string(out), "lag-"), "%s", out)
}
