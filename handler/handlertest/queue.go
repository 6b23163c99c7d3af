package handlertest

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
)

var queueTests = []test{
	{"BoundedFIFO", func(t *testing.T, h handler.Handler) { testFIFO(t, h, 8) }},
	{"UnboundedFIFO", func(t *testing.T, h handler.Handler) { testFIFO(t, h, 0) }},
	{"BoundedFull", testBoundedFull},
	{"UnboundedNeverFull", testUnboundedNeverFull},
	{"GetEmpty", func(t *testing.T, h handler.Handler) { testGetEmpty(t, h, 4) }},
	{"GetEmptyUnbounded", func(t *testing.T, h handler.Handler) { testGetEmpty(t, h, 0) }},
	{"CloseWakesGetters", func(t *testing.T, h handler.Handler) { testCloseWakesGetters(t, h, 4) }},
	{"CloseWakesGettersUnbounded", func(t *testing.T, h handler.Handler) { testCloseWakesGetters(t, h, 0) }},
	{"CloseWakesPutters", testCloseWakesPutters},
	{"CloseDrains", func(t *testing.T, h handler.Handler) { testCloseDrains(t, h, 4) }},
	{"CloseDrainsUnbounded", func(t *testing.T, h handler.Handler) { testCloseDrains(t, h, 0) }},
	{"ConcurrentBounded", func(t *testing.T, h handler.Handler) { testQueueConcurrent(t, h, 4) }},
	{"ConcurrentUnbounded", func(t *testing.T, h handler.Handler) { testQueueConcurrent(t, h, 0) }},
	{"ValueTypes", testQueueValueTypes},
}

func testFIFO(t *testing.T, h handler.Handler, capacity int) {
	ctx := guarded(t)
	q := handler.NewQueue[*int](h, capacity)
	items := make([]int, 8)
	for round := 0; round < 3; round++ { // rounds wrap a ring buffer around
		for i := range items {
			items[i] = round*100 + i
			require.NoError(t, q.Put(ctx, &items[i]))
		}
		assert.Equal(t, len(items), q.Len())
		for i := range items {
			v, err := q.Get(ctx)
			require.NoError(t, err)
			assert.Same(t, &items[i], v)
		}
		assert.Equal(t, 0, q.Len())
	}
}

func testBoundedFull(t *testing.T, h handler.Handler) {
	ctx := guarded(t)
	q := handler.NewQueue[int](h, 2)
	require.NoError(t, q.Put(ctx, 1))
	require.NoError(t, q.TryPut(2))
	assert.ErrorIs(t, q.TryPut(3), handler.ErrWouldBlock)
	assert.ErrorIs(t, q.Put(short(t), 3), context.DeadlineExceeded)
	assert.ErrorIs(t, q.Put(canceledSoon(t), 3), context.Canceled)
	assert.Equal(t, 2, q.Len(), "a Put that gave up must not have queued")

	// A blocked Put completes once a Get makes room.
	done := make(chan error, 1)
	go func() { done <- q.Put(ctx, 3) }()
	v, err := q.Get(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, v)
	require.NoError(t, waitChan(t, done, "blocked Put"))
	for _, want := range []int{2, 3} {
		v, err := q.TryGet()
		require.NoError(t, err)
		assert.Equal(t, want, v)
	}
}

func testUnboundedNeverFull(t *testing.T, h handler.Handler) {
	q := handler.NewQueue[int](h, 0)
	const n = 10000
	for i := 0; i < n; i++ {
		require.NoError(t, q.TryPut(i))
	}
	require.NoError(t, q.Put(short(t), n), "Put on an unbounded queue never waits")
	assert.Equal(t, n+1, q.Len())
	for i := 0; i <= n; i++ {
		v, err := q.TryGet()
		require.NoError(t, err)
		require.Equal(t, i, v)
	}
	_, err := q.TryGet()
	assert.ErrorIs(t, err, handler.ErrWouldBlock)
}

func testGetEmpty(t *testing.T, h handler.Handler, capacity int) {
	q := handler.NewQueue[int](h, capacity)
	_, err := q.TryGet()
	assert.ErrorIs(t, err, handler.ErrWouldBlock)
	_, err = q.Get(short(t))
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	_, err = q.Get(canceledSoon(t))
	assert.ErrorIs(t, err, context.Canceled)

	// A blocked Get completes when an item arrives.
	ctx := guarded(t)
	got := make(chan int, 1)
	go func() {
		v, err := q.Get(ctx)
		assert.NoError(t, err)
		got <- v
	}()
	require.NoError(t, q.Put(ctx, 42))
	assert.Equal(t, 42, waitChan(t, got, "blocked Get"))
}

func testCloseWakesGetters(t *testing.T, h handler.Handler, capacity int) {
	ctx := guarded(t)
	q := handler.NewQueue[int](h, capacity)
	const waiters = 20
	errs := make(chan error, waiters)
	for i := 0; i < waiters; i++ {
		go func() {
			_, err := q.Get(ctx)
			errs <- err
		}()
	}
	q.Close()
	q.Close() // idempotent
	for i := 0; i < waiters; i++ {
		assert.ErrorIs(t, waitChan(t, errs, "woken Get"), handler.ErrClosed)
	}
	assert.ErrorIs(t, q.Put(ctx, 1), handler.ErrClosed)
	assert.ErrorIs(t, q.TryPut(1), handler.ErrClosed)
	_, err := q.TryGet()
	assert.ErrorIs(t, err, handler.ErrClosed)
}

func testCloseWakesPutters(t *testing.T, h handler.Handler) {
	ctx := guarded(t)
	q := handler.NewQueue[int](h, 1)
	require.NoError(t, q.Put(ctx, 0))
	const waiters = 20
	errs := make(chan error, waiters)
	for i := 0; i < waiters; i++ {
		go func() { errs <- q.Put(ctx, i) }()
	}
	q.Close()
	for i := 0; i < waiters; i++ {
		assert.ErrorIs(t, waitChan(t, errs, "woken Put"), handler.ErrClosed)
	}
}

func testCloseDrains(t *testing.T, h handler.Handler, capacity int) {
	ctx := guarded(t)
	q := handler.NewQueue[int](h, capacity)
	for i := 0; i < 3; i++ {
		require.NoError(t, q.Put(ctx, i))
	}
	q.Close()
	assert.Equal(t, 3, q.Len())
	for i := 0; i < 3; i++ {
		v, err := q.Get(ctx)
		require.NoError(t, err, "items queued before Close are still handed out")
		assert.Equal(t, i, v)
	}
	_, err := q.Get(ctx)
	assert.ErrorIs(t, err, handler.ErrClosed)
}

// testQueueConcurrent checks that with many producers and consumers every
// item arrives exactly once and each producer's items keep their order.
func testQueueConcurrent(t *testing.T, h handler.Handler, capacity int) {
	ctx := guarded(t)
	type item struct{ producer, seq int }
	q := handler.NewQueue[*item](h, capacity)
	const producers, consumers, perProducer = 8, 8, 2000

	var wg sync.WaitGroup
	for p := 0; p < producers; p++ {
		wg.Add(1)
		h.Go("producer", func() {
			defer wg.Done()
			for s := 0; s < perProducer; s++ {
				if err := q.Put(ctx, &item{p, s}); err != nil {
					t.Errorf("Put: %v", err)
					return
				}
			}
		})
	}
	results := make(chan []*item, consumers)
	for c := 0; c < consumers; c++ {
		h.Go("consumer", func() {
			var got []*item
			for {
				it, err := q.Get(ctx)
				if err != nil {
					results <- got
					return
				}
				got = append(got, it)
			}
		})
	}
	wg.Wait()
	q.Close()

	seen := make(map[item]bool)
	for c := 0; c < consumers; c++ {
		last := make(map[int]int)
		for _, it := range waitChan(t, results, "consumer") {
			require.False(t, seen[*it], "item %v delivered twice", *it)
			seen[*it] = true
			if prev, ok := last[it.producer]; ok {
				require.Greater(t, it.seq, prev, "producer order broken within one consumer")
			}
			last[it.producer] = it.seq
		}
	}
	assert.Len(t, seen, producers*perProducer)
}

func testQueueValueTypes(t *testing.T, h handler.Handler) {
	ctx := guarded(t)
	type pair struct {
		a int
		b string
	}
	q := handler.NewQueue[pair](h, 0)
	require.NoError(t, q.Put(ctx, pair{1, "x"}))
	v, err := q.Get(ctx)
	require.NoError(t, err)
	assert.Equal(t, pair{1, "x"}, v)

	qs := handler.NewQueue[[]byte](h, 1)
	require.NoError(t, qs.Put(ctx, []byte("abc")))
	b, err := qs.Get(ctx)
	require.NoError(t, err)
	assert.Equal(t, []byte("abc"), b)
	_, err = qs.Get(short(t))
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	_, err = qs.TryGet()
	assert.ErrorIs(t, err, handler.ErrWouldBlock)
}
