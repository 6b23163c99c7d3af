package kafka

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/protocol"
)

// With many partitions ready, Consume takes runs of deliveryRun messages
// from one partition before the next, in offset order, and every partition
// gets its turn before any gets a second.
func TestConsumeRunsAcrossManyPartitions(t *testing.T) {
	const parts, per = deliveryRunFrom + 8, 2*deliveryRun + 5
	topic := offlineTopic(t, parts)
	cfg, err := ConsumerConfig{}.withDefaults(topic)
	require.NoError(t, err)
	c := newSimpleConsumer(topic, cfg)
	c.started.Store(true)
	t.Cleanup(func() { _ = c.Stop(context.Background()) })
	l := &fetchLoop{c: c}
	c.mu.Lock()
	for id := range int32(parts) {
		c.moveLocked(c.byID[id], 0)
	}
	c.mu.Unlock()
	for id := range int32(parts) {
		feed(t, c, l, id, batchAt(t, protocol.CompressionNone, offsetRange(0, per)...))
	}

	next := map[int32]int64{}
	var runs []int32 // the partition of each run, in order
	var lens []int   // and its length
	for i := range parts * per {
		m, err := c.Consume(t.Context())
		require.NoError(t, err)
		require.Equal(t, next[m.Partition], m.Offset, "offset order within partition %d", m.Partition)
		next[m.Partition]++
		if i == 0 || m.Partition != runs[len(runs)-1] {
			runs, lens = append(runs, m.Partition), append(lens, 0)
		}
		lens[len(lens)-1]++
	}
	// The first round visits every partition once, a run of deliveryRun
	// each; once only a few partitions have messages left, they alternate.
	seen := map[int32]bool{}
	for i, p := range runs[:parts] {
		assert.False(t, seen[p], "partition %d twice in the first round", p)
		seen[p] = true
		assert.Equal(t, deliveryRun, lens[i], "run %d", i)
	}
	assert.Equal(t, 1, lens[len(lens)-1], "the last partitions alternate")
	for id := range int32(parts) {
		assert.Equal(t, int64(per), next[id])
	}
}
