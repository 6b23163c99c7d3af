package kafka

import "math/bits"

// maxSpare caps the array a partition keeps for reuse, so that a burst
// does not pin its memory for good.
const maxSpare = 8192

// recQueue is one partition's records waiting to be sent, oldest first:
// q[head:]. Batches are cut from the front while new records arrive at the
// back, often tens of thousands behind a batch in flight, so it is a deque
// rather than a slice resliced from the front (whose appends would copy the
// whole queue again and again): the front is an index. The queued records
// stay contiguous, for cutting a batch and for updating them in place, so
// a full array is compacted in place when at least half of it is spent,
// and otherwise grows fourfold with only the queued records copied. Either
// way at least as many pushes follow before the next move as records were
// copied, so a push costs at most one record copied on average. A batch
// that takes the whole queue takes its array too, without copying.
// Guarded by Producer.mu.
type recQueue struct {
	q     []record // q[:head] is spent and q[len(q):cap(q)] free, both zeroed
	head  int
	bytes int // sum of the queued records' sizes

	spare   []record // an empty array from a settled batch, for reuse
	lastCut int      // records in the last batch that took the whole queue
}

func (rq *recQueue) len() int { return len(rq.q) - rq.head }

// records returns the queued records, to inspect or update in place.
func (rq *recQueue) records() []record { return rq.q[rq.head:] }

func (rq *recQueue) front() *record { return &rq.q[rq.head] }

// push appends r. maxLen, the most records the queue is expected to hold,
// bounds the arrays it allocates.
func (rq *recQueue) push(r record, maxLen int) {
	if len(rq.q) == cap(rq.q) {
		rq.makeRoom(maxLen)
	}
	rq.q = append(rq.q, r)
	rq.bytes += int(r.size)
}

const (
	// minQueueCap is the least array allocated for a queue, so that a
	// trickle of records does not regrow it at each of the first few.
	minQueueCap = 16

	// queueGrowth is how much a queue's array grows at a time. A backlog
	// building up from empty is copied a third of a time over in all,
	// where doubling would copy it once.
	queueGrowth = 4
)

// makeRoom frees at least one slot at the back of a full array.
func (rq *recQueue) makeRoom(maxLen int) {
	n := rq.len()
	if rq.q == nil {
		// Under load the queue refills to about the last batch's size
		// while that batch is in flight: take room for that at once.
		want := minQueueCap
		if rq.lastCut > 1 {
			want = max(want, min(rq.lastCut, maxLen))
		}
		if cap(rq.spare) >= want || cap(rq.spare) >= maxSpare {
			rq.q, rq.spare = rq.spare, nil
		} else {
			// A power of two if small enough to be kept once the batch
			// that takes the whole queue hands it back, so that it fits a
			// slightly larger refill too.
			if c := 1 << bits.Len(uint(want-1)); c <= maxSpare {
				want = c
			}
			rq.q = make([]record, 0, want)
		}
		return
	}
	if rq.head >= n {
		// At least half is spent: move the queued records to the front.
		// The two ranges do not overlap, and below head all is zero.
		copy(rq.q, rq.q[rq.head:])
		clear(rq.q[rq.head:])
		rq.q, rq.head = rq.q[:n], 0
		return
	}
	// More than half is queued: grow, though to no more than twice maxLen
	// (room for maxLen records between compactions) unless more than
	// maxLen are queued. At least n slots stay free, so growing or
	// compacting again is n pushes away.
	c := max(min(queueGrowth*cap(rq.q), 2*maxLen), 2*n, minQueueCap)
	q := make([]record, n, c)
	copy(q, rq.q[rq.head:])
	rq.q, rq.head = q, 0
}

// take removes the first k records, 0 < k <= len(). recs is them; arr is
// the array holding them, now the caller's, to hand back to recycle once
// the records are no longer needed.
func (rq *recQueue) take(k, bytes int) (recs, arr []record) {
	rq.bytes -= bytes
	if k == rq.len() {
		arr = rq.q
		recs = rq.q[rq.head:len(rq.q):len(rq.q)]
		rq.q, rq.head = nil, 0
		rq.lastCut = k
		return recs, arr
	}
	if cap(rq.spare) >= k {
		arr, rq.spare = rq.spare[:k], nil
	} else {
		// A power of two, so that the next batch, a little larger or
		// smaller, fits this array once recycled.
		arr = make([]record, k, 1<<bits.Len(uint(k-1)))
	}
	copy(arr, rq.q[rq.head:rq.head+k])
	clear(rq.q[rq.head : rq.head+k])
	rq.head += k
	return arr[:k:k], arr
}

// takeAll removes every record; they are the caller's.
func (rq *recQueue) takeAll() []record {
	recs := rq.q[rq.head:]
	rq.q, rq.head, rq.bytes = nil, 0, 0
	return recs
}

// unshift puts recs back at the front, to be sent next. recs must not
// share the queue's array (take's never do).
func (rq *recQueue) unshift(recs []record) {
	for i := range recs {
		rq.bytes += int(recs[i].size)
	}
	if rq.head >= len(recs) {
		rq.head -= len(recs)
		copy(rq.q[rq.head:], recs)
		return
	}
	// Twice the size, as growth in push would.
	q := make([]record, 0, 2*(len(recs)+rq.len()))
	q = append(q, recs...)
	rq.q, rq.head = append(q, rq.q[rq.head:]...), 0
}

// recycle keeps arr, which take handed out, for reuse once its records
// are reported or copied elsewhere, unless the spare already kept is as
// large.
func (rq *recQueue) recycle(arr []record) {
	if arr == nil || cap(arr) > maxSpare || cap(arr) <= cap(rq.spare) {
		return
	}
	clear(arr) // drop the messages' slices for the GC
	rq.spare = arr[:0]
}
