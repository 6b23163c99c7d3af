// Package fakeclock wraps a handler.Handler so that its clock is virtual:
// Now, Sleep and AfterFunc follow a time the test moves with Advance, while
// tasks, primitives and sockets are the wrapped handler's. Timing logic
// (request timeouts, backoffs, lingers, heartbeats, commit intervals) then
// runs in microseconds and cannot flake on a loaded machine, over real
// connections on either real handler.
//
// A test drives it in three steps: start the code under test, wait until it
// is waiting on the clock (BlockUntil), then Advance past the deadline and
// observe the effect. Nothing in between depends on wall-clock time.
package fakeclock

import (
	"container/heap"
	"context"
	"sync"
	"time"

	"github.com/gregorkafka/gregor/handler"
)

// Epoch is where every fake clock starts: a fixed instant, so that tests are
// reproducible, far from the zero time.Time that code treats as "unset".
var Epoch = time.Date(2030, time.January, 1, 0, 0, 0, 0, time.UTC)

// Handler is a handler.Handler whose Clock is virtual. The embedded Handler
// provides everything else. It is safe for concurrent use.
type Handler struct {
	handler.Handler

	mu      sync.Mutex
	now     time.Time
	seq     uint64
	waiters waitHeap
	changed chan struct{} // closed and replaced when a waiter is added
}

var _ handler.Handler = (*Handler)(nil)

// New returns a fake-clock handler over inner, its clock at Epoch. Closing
// it closes inner.
func New(inner handler.Handler) *Handler {
	return &Handler{Handler: inner, now: Epoch, changed: make(chan struct{})}
}

// waiter is a pending Sleep (ch set) or AfterFunc (fn set).
type waiter struct {
	h     *Handler
	at    time.Time
	seq   uint64 // orders waiters due at the same instant by creation
	index int    // in the heap; -1 when not pending
	fn    func()
	ch    chan struct{}
}

// Now returns the virtual time.
func (h *Handler) Now() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.now
}

// Sleep waits until the clock has been advanced by d or ctx ends.
func (h *Handler) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	w := &waiter{h: h, ch: make(chan struct{})}
	h.mu.Lock()
	h.schedule(w, d)
	h.mu.Unlock()
	select {
	case <-w.ch:
		return nil
	case <-ctx.Done():
		h.mu.Lock()
		h.remove(w)
		h.mu.Unlock()
		return ctx.Err()
	}
}

// AfterFunc runs fn as a task of the wrapped handler (named "timer") once
// the clock has been advanced by d. A non-positive d runs it at once.
func (h *Handler) AfterFunc(d time.Duration, fn func()) handler.Timer {
	w := &waiter{h: h, fn: fn, index: -1}
	if d <= 0 {
		h.Go("timer", fn)
		return w
	}
	h.mu.Lock()
	h.schedule(w, d)
	h.mu.Unlock()
	return w
}

// Stop cancels a pending AfterFunc.
func (w *waiter) Stop() bool {
	w.h.mu.Lock()
	defer w.h.mu.Unlock()
	return w.h.remove(w)
}

// Reset reschedules the AfterFunc d after the current virtual time.
func (w *waiter) Reset(d time.Duration) bool {
	h := w.h
	h.mu.Lock()
	active := h.remove(w)
	if d <= 0 {
		h.mu.Unlock()
		h.Go("timer", w.fn)
		return active
	}
	h.schedule(w, d)
	h.mu.Unlock()
	return active
}

// schedule adds w, due d from now. Called with mu held.
func (h *Handler) schedule(w *waiter, d time.Duration) {
	w.at = h.now.Add(d)
	w.seq = h.seq
	h.seq++
	heap.Push(&h.waiters, w)
	close(h.changed)
	h.changed = make(chan struct{})
}

// remove takes w out if pending and reports whether it was. Called with mu
// held.
func (h *Handler) remove(w *waiter) bool {
	if w.index < 0 {
		return false
	}
	heap.Remove(&h.waiters, w.index)
	return true
}

// Advance moves the clock forward by d. Every sleep and timer due by then
// fires in deadline order, the clock reading each one's deadline as it
// fires: sleepers return, AfterFunc callbacks start as tasks. Advance does
// not wait for those tasks.
func (h *Handler) Advance(d time.Duration) {
	h.mu.Lock()
	target := h.now.Add(d)
	h.fireUntil(target)
	if target.After(h.now) {
		h.now = target
	}
	h.mu.Unlock()
}

// AdvanceToNext moves the clock to the earliest pending deadline and fires
// what is due then. It returns how far the clock moved, and false (moving
// nothing) when nothing is pending.
func (h *Handler) AdvanceToNext() (time.Duration, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.waiters) == 0 {
		return 0, false
	}
	start := h.now
	h.fireUntil(h.waiters[0].at)
	return h.now.Sub(start), true
}

// fireUntil fires every waiter due at or before target. Called with mu held.
func (h *Handler) fireUntil(target time.Time) {
	for len(h.waiters) > 0 && !h.waiters[0].at.After(target) {
		w := heap.Pop(&h.waiters).(*waiter)
		if w.at.After(h.now) {
			h.now = w.at
		}
		if w.ch != nil {
			close(w.ch)
		} else {
			h.Go("timer", w.fn)
		}
	}
}

// Pending returns how many sleeps and timers are waiting on the clock.
func (h *Handler) Pending() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.waiters)
}

// Next returns the earliest pending deadline's distance from now, and false
// when nothing is pending.
func (h *Handler) Next() (time.Duration, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.waiters) == 0 {
		return 0, false
	}
	return h.waiters[0].at.Sub(h.now), true
}

// BlockUntil waits until at least n sleeps and timers are pending, or ctx
// ends. It is how a test knows the code under test has reached its wait
// before advancing past it.
func (h *Handler) BlockUntil(ctx context.Context, n int) error {
	return h.blockUntil(ctx, func() bool { return len(h.waiters) >= n })
}

// BlockUntilDue waits until some sleep or timer is due within d of the
// current virtual time, or ctx ends. Use it when other, later timers are
// pending too (a connection's request timer, say) and a count would not
// tell the waits apart.
func (h *Handler) BlockUntilDue(ctx context.Context, d time.Duration) error {
	return h.blockUntil(ctx, func() bool { return len(h.waiters) > 0 && !h.waiters[0].at.After(h.now.Add(d)) })
}

// blockUntil waits until ready, called with h.mu held, holds, or ctx ends;
// it looks again each time the set of waiters changes.
func (h *Handler) blockUntil(ctx context.Context, ready func() bool) error {
	for {
		h.mu.Lock()
		if ready() {
			h.mu.Unlock()
			return nil
		}
		changed := h.changed
		h.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// waitHeap orders waiters by deadline, then creation.
type waitHeap []*waiter

func (q waitHeap) Len() int { return len(q) }
func (q waitHeap) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].seq < q[j].seq
}
func (q waitHeap) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index, q[j].index = i, j
}
func (q *waitHeap) Push(x any) {
	w := x.(*waiter)
	w.index = len(*q)
	*q = append(*q, w)
}
func (q *waitHeap) Pop() any {
	old := *q
	w := old[len(old)-1]
	old[len(old)-1] = nil
	w.index = -1
	*q = old[:len(old)-1]
	return w
}
