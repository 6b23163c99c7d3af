package fakeclock_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/handler/eventloop"
	"github.com/gregorkafka/gregor/handler/fakeclock"
	"github.com/gregorkafka/gregor/handler/goroutine"
	"github.com/gregorkafka/gregor/handler/handlertest"
)

// guard bounds waits on other goroutines; it never fires on a working clock.
const guard = 20 * time.Second

func guarded(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	t.Cleanup(cancel)
	return ctx
}

func newClock(t *testing.T) *fakeclock.Handler {
	h := fakeclock.New(goroutine.New())
	t.Cleanup(func() { _ = h.Close() })
	return h
}

func recv[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(guard):
		t.Fatal("timed out")
		var zero T
		return zero
	}
}

// Everything but the clock is the wrapped handler's: queues, tasks and real
// sockets pass the conformance suite on both handlers. Left out: Time, and
// Semaphore, whose workers hold their units across a Sleep on the handler.
func TestConformanceWithoutTime(t *testing.T) {
	groups := []string{"Queue", "Event", "Lock", "Tasks", "Dial", "Framing", "Conn", "TLS", "Vector"}
	t.Run("goroutine", func(t *testing.T) {
		handlertest.RunGroups(t, func(*testing.T) handler.Handler { return fakeclock.New(goroutine.New()) }, groups...)
	})
	t.Run("eventloop", func(t *testing.T) {
		handlertest.RunGroups(t, func(t *testing.T) handler.Handler {
			h, err := eventloop.New(eventloop.WithLoops(2))
			require.NoError(t, err)
			return fakeclock.New(h)
		}, groups...)
	})
}

func TestNowMovesOnlyWithAdvance(t *testing.T) {
	h := newClock(t)
	assert.Equal(t, fakeclock.Epoch, h.Now())
	h.Advance(90 * time.Minute)
	assert.Equal(t, fakeclock.Epoch.Add(90*time.Minute), h.Now())
	_, ok := h.AdvanceToNext()
	assert.False(t, ok, "nothing pending")
}

func TestSleepReturnsWhenAdvancedPastIt(t *testing.T) {
	h := newClock(t)
	ctx := guarded(t)
	done := make(chan error, 1)
	go func() { done <- h.Sleep(ctx, time.Hour) }()
	require.NoError(t, h.BlockUntil(ctx, 1))

	h.Advance(time.Hour - time.Nanosecond)
	select {
	case err := <-done:
		t.Fatalf("Sleep returned %v before its hour", err)
	default:
	}
	assert.Equal(t, 1, h.Pending())
	h.Advance(time.Nanosecond)
	require.NoError(t, recv(t, done))
	assert.Equal(t, 0, h.Pending())

	assert.NoError(t, h.Sleep(ctx, 0))
}

func TestSleepHonoursContext(t *testing.T) {
	h := newClock(t)
	ctx, cancel := context.WithCancel(guarded(t))
	done := make(chan error, 1)
	go func() { done <- h.Sleep(ctx, time.Hour) }()
	require.NoError(t, h.BlockUntil(guarded(t), 1))
	cancel()
	assert.ErrorIs(t, recv(t, done), context.Canceled)
	assert.Equal(t, 0, h.Pending(), "a canceled sleep leaves the clock")
	assert.ErrorIs(t, h.Sleep(ctx, time.Second), context.Canceled)
}

func TestAfterFuncFiresInDeadlineOrder(t *testing.T) {
	h := newClock(t)
	var mu sync.Mutex
	var order []string
	fired := make(chan string, 3)
	at := func(name string) func() {
		return func() {
			mu.Lock()
			order = append(order, name)
			mu.Unlock()
			fired <- name
		}
	}
	h.AfterFunc(3*time.Second, at("c"))
	h.AfterFunc(time.Second, at("a"))
	h.AfterFunc(2*time.Second, at("b"))
	assert.Equal(t, 3, h.Pending())

	d, ok := h.AdvanceToNext()
	require.True(t, ok)
	assert.Equal(t, time.Second, d)
	assert.Equal(t, "a", recv(t, fired))
	assert.Equal(t, fakeclock.Epoch.Add(time.Second), h.Now())

	h.Advance(10 * time.Second)
	got := []string{recv(t, fired), recv(t, fired)}
	assert.ElementsMatch(t, []string{"b", "c"}, got)
	assert.Equal(t, fakeclock.Epoch.Add(11*time.Second), h.Now())
}

func TestAfterFuncStopAndReset(t *testing.T) {
	h := newClock(t)
	fired := make(chan time.Time, 2)
	tm := h.AfterFunc(time.Minute, func() { fired <- h.Now() })
	assert.True(t, tm.Stop())
	assert.False(t, tm.Stop(), "second Stop")
	h.Advance(time.Hour)
	assert.Equal(t, 0, h.Pending())

	assert.False(t, tm.Reset(time.Minute), "Reset of a stopped timer")
	assert.True(t, tm.Reset(2*time.Minute), "Reset of an active timer")
	h.Advance(time.Minute)
	assert.Equal(t, 1, h.Pending(), "moved to two minutes")
	h.Advance(time.Minute)
	assert.Equal(t, fakeclock.Epoch.Add(time.Hour+2*time.Minute), recv(t, fired))
	assert.False(t, tm.Stop(), "Stop after fn ran")

	h.AfterFunc(0, func() { fired <- h.Now() })
	assert.Equal(t, h.Now(), recv(t, fired), "a zero delay runs at once")
}

func TestNextAndBlockUntilHonoursContext(t *testing.T) {
	h := newClock(t)
	_, ok := h.Next()
	assert.False(t, ok)
	h.AfterFunc(5*time.Second, func() {})
	d, ok := h.Next()
	assert.True(t, ok)
	assert.Equal(t, 5*time.Second, d)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, h.BlockUntil(ctx, 2), context.Canceled)
	assert.NoError(t, h.BlockUntil(ctx, 1))
	assert.ErrorIs(t, h.BlockUntilDue(ctx, time.Second), context.Canceled)
	assert.NoError(t, h.BlockUntilDue(ctx, 5*time.Second))

	// A later timer does not satisfy a wait for an earlier one.
	due := make(chan error, 1)
	go func() { due <- h.BlockUntilDue(guarded(t), time.Second) }()
	h.AfterFunc(time.Second, func() {})
	require.NoError(t, recv(t, due))
}
