package handlertest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
)

var eventTests = []test{
	{"SetClearWait", testEventSetClearWait},
	{"SetReleasesAllWaiters", testEventReleasesAll},
}

var semaphoreTests = []test{
	{"LimitsConcurrency", testSemaphoreLimits},
	{"TryAcquireAndTimeout", testSemaphoreTry},
}

var lockTests = []test{
	{"MutualExclusion", testLockExclusion},
	{"TryLockAndContext", testLockTry},
}

func testEventSetClearWait(t *testing.T, h handler.Handler) {
	e := h.NewEvent()
	assert.False(t, e.IsSet())
	assert.ErrorIs(t, e.Wait(short(t)), context.DeadlineExceeded)
	assert.ErrorIs(t, e.Wait(canceledSoon(t)), context.Canceled)

	e.Set()
	e.Set() // idempotent
	assert.True(t, e.IsSet())
	require.NoError(t, e.Wait(guarded(t)))
	require.NoError(t, e.Wait(short(t)), "a set event does not wait")

	e.Clear()
	e.Clear()
	assert.False(t, e.IsSet())
	assert.ErrorIs(t, e.Wait(short(t)), context.DeadlineExceeded)
	e.Set()
	require.NoError(t, e.Wait(guarded(t)))
}

func testEventReleasesAll(t *testing.T, h handler.Handler) {
	ctx := guarded(t)
	e := h.NewEvent()
	const waiters = 200
	errs := make(chan error, waiters)
	for i := 0; i < waiters; i++ {
		h.Go("waiter", func() { errs <- e.Wait(ctx) })
	}
	e.Set()
	for i := 0; i < waiters; i++ {
		require.NoError(t, waitChan(t, errs, "released waiter"))
	}
}

func testSemaphoreLimits(t *testing.T, h handler.Handler) {
	ctx := guarded(t)
	const limit, workers = 3, 50
	s := h.NewSemaphore(limit)
	var cur, peak atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		h.Go("worker", func() {
			defer wg.Done()
			if err := s.Acquire(ctx, 1); err != nil {
				t.Errorf("Acquire: %v", err)
				return
			}
			n := cur.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			_ = h.Sleep(ctx, 100*time.Microsecond)
			cur.Add(-1)
			s.Release(1)
		})
	}
	wg.Wait()
	assert.LessOrEqual(t, peak.Load(), int64(limit))
	assert.GreaterOrEqual(t, peak.Load(), int64(1))
	require.True(t, s.TryAcquire(limit), "every unit was released")
}

func testSemaphoreTry(t *testing.T, h handler.Handler) {
	s := h.NewSemaphore(2)
	require.True(t, s.TryAcquire(2))
	assert.False(t, s.TryAcquire(1))
	assert.ErrorIs(t, s.Acquire(short(t), 1), context.DeadlineExceeded)
	assert.ErrorIs(t, s.Acquire(canceledSoon(t), 1), context.Canceled)

	// A blocked Acquire proceeds on Release.
	ctx := guarded(t)
	done := make(chan error, 1)
	h.Go("acquirer", func() { done <- s.Acquire(ctx, 2) })
	s.Release(2)
	require.NoError(t, waitChan(t, done, "blocked Acquire"))
	s.Release(2)

	assert.ErrorIs(t, s.Acquire(short(t), 3), context.DeadlineExceeded, "more than the semaphore holds")
	require.True(t, s.TryAcquire(2), "failed acquisitions took nothing")
	s.Release(2)
	assert.Panics(t, func() { s.Release(1) }, "releasing more than held")
}

func testLockExclusion(t *testing.T, h handler.Handler) {
	ctx := guarded(t)
	l := h.NewLock()
	counter := 0 // unsynchronised except by l: the race detector checks it
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		h.Go("locker", func() {
			defer wg.Done()
			for j := 0; j < 200; j++ {
				if j%2 == 0 {
					l.Lock()
				} else if err := l.LockContext(ctx); err != nil {
					t.Errorf("LockContext: %v", err)
					return
				}
				counter++
				l.Unlock()
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 20*200, counter)
}

func testLockTry(t *testing.T, h handler.Handler) {
	l := h.NewLock()
	require.True(t, l.TryLock())
	assert.False(t, l.TryLock())
	assert.ErrorIs(t, l.LockContext(short(t)), context.DeadlineExceeded)
	assert.ErrorIs(t, l.LockContext(canceledSoon(t)), context.Canceled)

	ctx := guarded(t)
	done := make(chan error, 1)
	h.Go("locker", func() { done <- l.LockContext(ctx) })
	l.Unlock()
	require.NoError(t, waitChan(t, done, "blocked LockContext"))
	l.Unlock()
	assert.Panics(t, func() { l.Unlock() }, "unlock of unlocked lock")
}
