package kafka

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRecQueue drives a recQueue and a plain slice with the same random
// operations and checks they always hold the same records.
func TestRecQueue(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var rq recQueue
	var model []record
	next := 0
	mk := func() record {
		next++
		return record{size: int32(next % 7), attempts: int32(next)}
	}
	sum := func(rs []record) int {
		n := 0
		for _, r := range rs {
			n += int(r.size)
		}
		return n
	}
	check := func() {
		t.Helper()
		require.Equal(t, len(model), rq.len())
		require.Equal(t, sum(model), rq.bytes)
		for i, r := range rq.records() {
			require.Equal(t, model[i].attempts, r.attempts, "position %d", i)
		}
		for _, r := range rq.q[:rq.head] {
			require.Zero(t, r, "spent slots are cleared")
		}
		for _, r := range rq.q[len(rq.q):cap(rq.q)] {
			require.Zero(t, r, "free slots hold nothing")
		}
	}
	var held [][]record // batches taken and not yet settled
	for range 20000 {
		switch op := rng.IntN(10); {
		case op < 6:
			r := mk()
			rq.push(r, 1000)
			model = append(model, r)
		case op < 8 && len(model) > 0:
			k := 1 + rng.IntN(len(model))
			recs, arr := rq.take(k, sum(model[:k]))
			require.Equal(t, model[:k], recs)
			require.Len(t, recs, cap(recs), "no room to append into a batch")
			model = model[k:]
			if rng.IntN(3) == 0 {
				rq.unshift(recs) // a retry
				model = append(append([]record(nil), recs...), model...)
				rq.recycle(arr)
			} else {
				held = append(held, arr)
			}
		case op == 8 && len(held) > 0:
			rq.recycle(held[0])
			held = held[1:]
		case op == 9 && rng.IntN(20) == 0:
			got := rq.takeAll()
			require.Len(t, got, len(model))
			for i := range got {
				require.Equal(t, model[i], got[i])
			}
			model = nil
		}
		check()
	}
}

// seqRecs returns n records numbered from first (in attempts).
func seqRecs(first, n int) []record {
	rs := make([]record, n)
	for i := range rs {
		rs[i] = record{size: 1, attempts: int32(first + i)}
	}
	return rs
}

// requireSeq checks that rq holds the records numbered first..first+n-1,
// in order, with every spent or free slot zeroed.
func requireSeq(t *testing.T, rq *recQueue, first, n int) {
	t.Helper()
	require.Equal(t, n, rq.len())
	require.Equal(t, n, rq.bytes)
	for i, r := range rq.records() {
		require.Equal(t, int32(first+i), r.attempts, "position %d", i)
	}
	for i, r := range rq.q[:rq.head] {
		require.Zero(t, r, "spent slot %d", i)
	}
	for i, r := range rq.q[len(rq.q):cap(rq.q)] {
		require.Zero(t, r, "free slot %d", len(rq.q)+i)
	}
}

func pushAll(rq *recQueue, recs []record, maxLen int) {
	for _, r := range recs {
		rq.push(r, maxLen)
	}
}

func TestRecQueueCompactsInPlaceOnceHalfSpent(t *testing.T) {
	var rq recQueue
	pushAll(&rq, seqRecs(0, minQueueCap), 1000)
	require.Equal(t, minQueueCap, cap(rq.q))
	arr := &rq.q[:1][0]
	rq.take(minQueueCap/2, minQueueCap/2)
	pushAll(&rq, seqRecs(minQueueCap, 3), 1000)
	assert.Same(t, arr, &rq.q[:1][0], "the array is reused")
	assert.Zero(t, rq.head)
	requireSeq(t, &rq, minQueueCap/2, minQueueCap/2+3)
}

func TestRecQueueGrowsCopyingOnlyQueued(t *testing.T) {
	var rq recQueue
	pushAll(&rq, seqRecs(0, minQueueCap), 1000)
	rq.take(3, 3) // less than half spent: no compaction
	pushAll(&rq, seqRecs(minQueueCap, 1), 1000)
	assert.Equal(t, queueGrowth*minQueueCap, cap(rq.q))
	assert.Zero(t, rq.head, "spent slots are not carried over")
	requireSeq(t, &rq, 3, minQueueCap-2)
}

func TestRecQueueGrowthBoundedByMaxLen(t *testing.T) {
	const maxLen = 100
	var rq recQueue
	next, first := 0, 0
	for range 50 {
		for rq.len() < maxLen {
			rq.push(seqRecs(next, 1)[0], maxLen)
			next++
			require.LessOrEqual(t, cap(rq.q), 2*maxLen)
		}
		_, arr := rq.take(30, 30)
		first += 30
		rq.recycle(arr)
	}
	requireSeq(t, &rq, first, maxLen-30)
}

func TestRecQueueUnshiftWithoutRoomInFront(t *testing.T) {
	var rq recQueue
	pushAll(&rq, seqRecs(0, 10), 1000)
	recs, arr := rq.take(2, 2)
	// Two spent slots in front, three records to put back: the queue moves.
	rq.unshift(append(seqRecs(-1, 1), recs...))
	rq.recycle(arr)
	requireSeq(t, &rq, -1, 11)
	pushAll(&rq, seqRecs(10, 30), 1000)
	requireSeq(t, &rq, -1, 41)
}

func TestRecQueueUnshiftIntoSpentFront(t *testing.T) {
	var rq recQueue
	pushAll(&rq, seqRecs(0, 10), 1000)
	arr := &rq.q[:1][0]
	recs, _ := rq.take(6, 6)
	rq.unshift(recs[2:])
	assert.Same(t, arr, &rq.q[:1][0], "no new array")
	requireSeq(t, &rq, 2, 8)
}

func TestRecQueueRefillSizedByLastCut(t *testing.T) {
	var rq recQueue
	pushAll(&rq, seqRecs(0, 300), 1000)
	_, arr := rq.take(300, 300) // the whole queue, array and all
	assert.Nil(t, rq.q)
	pushAll(&rq, seqRecs(300, 1), 1000)
	assert.Equal(t, 512, cap(rq.q), "room for the last cut, a power of two")
	rq.recycle(arr)
	_, arr = rq.take(1, 1)
	pushAll(&rq, seqRecs(301, 1), 1000)
	assert.Equal(t, 1024, cap(rq.q), "the spare array, the first cut's, is reused")
	rq.recycle(arr)
	requireSeq(t, &rq, 301, 1)
}

// TestRecQueueSteadyStateAllocatesNothing covers a light load, where each
// cut takes the whole queue, and a backlog, where cuts take part of it.
func TestRecQueueSteadyStateAllocatesNothing(t *testing.T) {
	for _, tc := range []struct{ depth, batch int }{{250, 250}, {5000, 1000}} {
		var rq recQueue
		var inflight []record
		r := record{size: 1}
		cycle := func() {
			for rq.len() < tc.depth {
				rq.push(r, 100000)
			}
			rq.recycle(inflight)
			_, inflight = rq.take(tc.batch, tc.batch)
		}
		for range 100 {
			cycle()
		}
		assert.Zero(t, testing.AllocsPerRun(100, cycle), "depth %d, batch %d", tc.depth, tc.batch)
	}
}

func TestRecQueueBeyondMaxLenStillDoubles(t *testing.T) {
	var rq recQueue
	caps := map[int]bool{}
	for i := range 5000 {
		rq.push(seqRecs(i, 1)[0], 10)
		caps[cap(rq.q)] = true
	}
	assert.LessOrEqual(t, len(caps), 10, "regrown only a logarithmic number of times")
	requireSeq(t, &rq, 0, 5000)
}
