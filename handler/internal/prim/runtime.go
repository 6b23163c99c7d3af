package prim

import (
	"context"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/gregorkafka/gregor/handler"
)

// Runtime implements every handler.Handler method except Dial and Close.
// Its zero value is ready to use.
type Runtime struct{}

// Go runs fn on a new goroutine labelled for the profiler with the task's
// name (see handler.TaskName).
func (Runtime) Go(name string, fn func()) { go Labeled(name, fn) }

// Now returns time.Now().
func (Runtime) Now() time.Time { return time.Now() }

// Sleep waits for d or until ctx ends.
func (Runtime) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// AfterFunc runs fn on its own goroutine after d, labelled as the task
// "timer" for the profiler.
func (Runtime) AfterFunc(d time.Duration, fn func()) handler.Timer {
	return time.AfterFunc(d, func() { Labeled(TimerTask, fn) })
}

// TimerTask is the task name AfterFunc callbacks run under.
const TimerTask = "timer"

// NewEvent returns a cleared event.
func (Runtime) NewEvent() handler.Event { return NewEvent() }

// NewLock returns an unlocked lock.
func (Runtime) NewLock() handler.Lock { return NewLock() }

// NewSemaphore returns a FIFO weighted semaphore of n units.
func (Runtime) NewSemaphore(n int64) handler.Semaphore { return semaphore.NewWeighted(n) }

// NewQueue returns a bounded queue, or an unbounded one for capacity <= 0.
func (Runtime) NewQueue(capacity int) handler.UntypedQueue {
	if capacity <= 0 {
		return NewUnbounded()
	}
	return NewBounded(capacity)
}
