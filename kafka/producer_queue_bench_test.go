package kafka

import (
	"fmt"
	"testing"
)

// BenchmarkRecQueue drives one partition's queue as the producer does
// under load: records are pushed until depth are queued (the producer's
// back-pressure), then a batch of up to batch records is cut from the
// front while the previous batch, in flight until then, is recycled. Every
// cycle records the queue is emptied (a cut that takes it all), so growth
// from empty is part of the cost. One op is one record pushed and sent.
func BenchmarkRecQueue(b *testing.B) {
	for _, tc := range []struct {
		depth, batch, cycle int
	}{
		{250, 1000, 1 << 30},       // light load: each cut takes the whole queue
		{33000, 8000, 1 << 30},     // a backlog of a third of the default limit
		{33000, 8000, 200000},      // the same, refilled from empty now and then
		{100000, 8000, 1 << 30},    // one partition holding the whole limit
		{100000, 2000, 1 << 30},    // small batches behind a deep backlog
		{100000, 100000, 1 << 30},  // whole-queue cuts of a full queue
		{100000, 8000, 1_000_000},  // deep backlog, refilled from empty
		{100000, 8000, 300_000},    // deep backlog, refilled from empty often
		{10000, 100000, 1 << 30},   // whole-queue cuts, moderate depth
		{1000000, 8000, 3_000_000}, // a very deep backlog
	} {
		name := fmt.Sprintf("depth=%d/batch=%d", tc.depth, tc.batch)
		if tc.cycle < 1<<30 {
			name += fmt.Sprintf("/cycle=%d", tc.cycle)
		}
		b.Run(name, func(b *testing.B) {
			var rq recQueue
			var inflight []record
			var recs []record
			sent, pushed := 0, 0
			cut := func(k int) {
				rq.recycle(inflight)
				recs, inflight = rq.take(k, k*100)
				sent += len(recs)
			}
			b.ReportAllocs()
			for range b.N {
				if rq.len() == tc.depth {
					cut(min(tc.batch, rq.len()))
				}
				rq.push(record{size: 100, attempts: 1}, tc.depth)
				pushed++
				if pushed%tc.cycle == 0 {
					for rq.len() > 0 {
						cut(min(tc.batch, rq.len()))
					}
				}
			}
			for rq.len() > 0 {
				cut(min(tc.batch, rq.len()))
			}
			if sent != pushed {
				b.Fatalf("sent %d of %d records", sent, pushed)
			}
		})
	}
}
