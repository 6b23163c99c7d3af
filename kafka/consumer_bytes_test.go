package kafka

import (
	"context"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sharingConsumers returns n offline consumers of one partition each that
// share one QueuedMaxBytes bound, and a loop for each whose kicks count.
func sharingConsumers(t *testing.T, n, bound int) (*sharedBytes, []*SimpleConsumer, []*fetchLoop, []int) {
	t.Helper()
	topic := offlineTopic(t, 1)
	s := &sharedBytes{}
	kicks := make([]int, n)
	var cs []*SimpleConsumer
	var ls []*fetchLoop
	for i := range n {
		cfg, err := ConsumerConfig{QueuedMaxBytes: bound}.withDefaults(topic)
		require.NoError(t, err)
		c := newSimpleConsumer(topic, cfg)
		c.shareBytes(s)
		t.Cleanup(func() { _ = c.Stop(context.Background()) })
		l := &fetchLoop{c: c}
		l.steps = newOnDemand(func(_ string, fn func()) { kicks[i]++; fn() }, "test", func() {})
		cs, ls = append(cs, c), append(ls, l)
	}
	return s, cs, ls, kicks
}

// Consumers sharing a bound count what all of them hold, but only their
// own Fetches in flight; a waiting loop is kicked when another consumer
// frees room, or at once when room appeared while it was being listed;
// a stopping consumer takes its part out.
func TestSharedBytesBound(t *testing.T) {
	const bound = 1000
	s, cs, ls, kicks := sharingConsumers(t, 2, bound)
	a, b := cs[0], cs[1]
	opA, opB := a.byID[0], b.byID[0]

	a.mu.Lock()
	a.addQueuedLocked(opA, 900)
	a.mu.Unlock()
	assert.EqualValues(t, 900, s.held.Load())

	b.mu.Lock()
	room, ok := b.fetchRoomLocked()
	assert.False(t, ok, "a tenth free, held by the other consumer")
	assert.Equal(t, 50, room, "the room, shared by two")
	b.waitRoomLocked(ls[1])
	b.mu.Unlock()
	assert.Equal(t, 0, kicks[1], "listed, not kicked")
	assert.EqualValues(t, 1, s.nwaiting.Load())

	a.mu.Lock()
	a.addQueuedLocked(opA, -100) // 800 held: still under a quarter free
	assert.Empty(t, a.roomFreedLocked())
	a.addQueuedLocked(opA, -100) // 700: enough
	freed := a.roomFreedLocked()
	a.mu.Unlock()
	assert.Equal(t, []*fetchLoop{ls[1]}, freed)
	assert.Zero(t, s.nwaiting.Load())

	// Another consumer's Fetch in flight does not count.
	a.mu.Lock()
	a.reserveLocked(ls[0], 300)
	_, ok = a.fetchRoomLocked()
	a.mu.Unlock()
	assert.False(t, ok, "a's own reservation counts for a")
	b.mu.Lock()
	room, ok = b.fetchRoomLocked()
	b.mu.Unlock()
	assert.True(t, ok, "a's reservation does not count for b")
	assert.Equal(t, 150, room)

	// Listed while the room is there: kicked at once, not left waiting.
	b.mu.Lock()
	b.waitRoomLocked(ls[1])
	b.mu.Unlock()
	assert.Equal(t, 1, kicks[1])
	assert.Zero(t, s.nwaiting.Load())

	// Paused partitions' bytes do not count.
	b.mu.Lock()
	b.addQueuedLocked(opB, 200) // 900 held
	opB.paused = true
	b.pausedLocked(opB, true) // 700 count
	b.mu.Unlock()
	assert.EqualValues(t, 700, s.held.Load())

	// A reset drops what the partition held, which frees room for b.
	a.mu.Lock()
	a.unreserveLocked(ls[0])
	a.addQueuedLocked(opA, 200) // 900 held, all a's
	a.mu.Unlock()
	b.mu.Lock()
	b.waitRoomLocked(ls[1])
	b.mu.Unlock()
	require.Equal(t, 1, kicks[1], "b waits")
	require.NoError(t, a.ResetOffsets(t.Context(), map[int32]OffsetTarget{0: OffsetAt(5)}))
	assert.Zero(t, s.held.Load())
	assert.Equal(t, 2, kicks[1], "the reset's freed room kicks b")
	a.mu.Lock()
	a.addQueuedLocked(opA, 700)
	a.reserveLocked(ls[0], 300)
	a.mu.Unlock()

	// a stops: its part goes, and so does a's waiting loop; b alone
	// has the whole room.
	a.mu.Lock()
	a.waitRoomLocked(ls[0])
	a.mu.Unlock()
	require.NoError(t, a.Stop(context.Background()))
	assert.Zero(t, s.held.Load())
	assert.EqualValues(t, 1, s.members.Load())
	assert.Zero(t, s.nwaiting.Load())
	b.mu.Lock()
	room, ok = b.fetchRoomLocked()
	b.mu.Unlock()
	assert.True(t, ok)
	assert.Equal(t, bound, room)
}

// A Fetch asks for what its partitions may bring, within FetchMaxBytes,
// the room left and a quarter of the bound (1 MiB at least); a first
// partition's whole batch goes beyond all of them while nothing counts
// against the bound.
func TestFetchMaxBytes(t *testing.T) {
	topic := offlineTopic(t, 1)
	consumer := func(bound, fetchMax int) *SimpleConsumer {
		cfg, err := ConsumerConfig{QueuedMaxBytes: bound, FetchMaxBytes: fetchMax}.withDefaults(topic)
		require.NoError(t, err)
		return newSimpleConsumer(topic, cfg)
	}
	small := consumer(0, 2<<20)
	assert.Equal(t, 1<<20, small.fetchMaxBytes(1<<20, 64<<20, 0), "what the partitions may bring")
	assert.Equal(t, 2<<20, small.fetchMaxBytes(6<<20, 64<<20, 0), "FetchMaxBytes")
	assert.Equal(t, 20<<20, small.fetchMaxBytes(1000<<20, 64<<20, 20<<20), "a first partition's whole batch")

	big := consumer(0, 0) // DefaultQueuedMaxBytes, 64 MiB; DefaultFetchMaxBytes, 50 MiB
	assert.Equal(t, 6<<20, big.fetchMaxBytes(6<<20, 64<<20, 0), "what six partitions may bring")
	assert.Equal(t, 16<<20, big.fetchMaxBytes(1000<<20, 64<<20, 0), "a quarter of the bound")
	assert.Equal(t, 10<<20, big.fetchMaxBytes(1000<<20, 10<<20, 0), "the room left")
	assert.Equal(t, 20<<20, big.fetchMaxBytes(1000<<20, 64<<20, 20<<20), "a first partition's whole batch")
	big.mu.Lock()
	big.addPendingLocked(big.byID[0], 1)
	assert.Equal(t, 16<<20, big.fetchMaxBytes(1000<<20, 64<<20, 20<<20), "not while the consumer holds anything")
	big.addPendingLocked(big.byID[0], -1)
	big.reserveLocked(&fetchLoop{}, 1)
	assert.Equal(t, 16<<20, big.fetchMaxBytes(1000<<20, 64<<20, 20<<20), "nor while another Fetch is in flight")
	big.mu.Unlock()
	assert.Equal(t, 1<<20, consumer(1<<20, 1<<30).fetchMaxBytes(8<<20, 1<<20, 0), "never under 1 MiB for the quarter")
	assert.Equal(t, 50<<20, consumer(-1, 0).fetchMaxBytes(1000<<20, math.MaxInt32, 0), "FetchMaxBytes without a bound")
}
