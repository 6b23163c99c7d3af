package kafka

import (
	"math/rand/v2"
	"testing"

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
