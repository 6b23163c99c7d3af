package handler

import (
	"context"
	"time"
)

// Handler is the runtime a client runs on. Implementations are safe for
// concurrent use.
type Handler interface {
	Spawner
	Clock
	Primitives
	Dialer

	// Close releases the handler's resources. Every connection it dialed is
	// closed (OnClose receives ErrClosed unless the connection had already
	// closed) and Close returns after their OnClose callbacks have returned,
	// so it must not be called from OnFrame or OnClose. Later Dials fail with
	// ErrClosed. Tasks already spawned keep running; Close does not wait for
	// them. Close is idempotent.
	Close() error
}

// Spawner starts tasks.
type Spawner interface {
	// Go runs fn as a new task. Tasks never run on an event loop, so a task
	// may block. name identifies the task in diagnostics: the task runs
	// under the pprof labels TaskLabels(name) ("task" plus any key=value
	// pairs built with TaskName), so profiles can be split by task.
	Go(name string, fn func())
}

// Clock is the handler's source of time. Code above the handler uses it
// instead of package time so that tests can substitute a fake clock.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// Sleep pauses the calling task for d, returning ctx.Err() early if ctx
	// ends first. A non-positive d returns ctx.Err() at once.
	Sleep(ctx context.Context, d time.Duration) error
	// AfterFunc runs fn as a task once d has elapsed, unless the returned
	// Timer is stopped first. The task's name is "timer".
	AfterFunc(d time.Duration, fn func()) Timer
}

// Timer is a pending AfterFunc. *time.Timer satisfies it.
type Timer interface {
	// Stop prevents fn from running. It reports whether it did so (false
	// when fn already started or the timer was already stopped).
	Stop() bool
	// Reset schedules fn to run after d from now. It reports whether the
	// timer had been active.
	Reset(d time.Duration) bool
}

// Primitives creates synchronisation primitives.
type Primitives interface {
	// NewEvent returns a cleared Event.
	NewEvent() Event
	// NewLock returns an unlocked Lock.
	NewLock() Lock
	// NewSemaphore returns a semaphore holding n units.
	NewSemaphore(n int64) Semaphore
	// NewQueue returns an empty FIFO queue holding at most capacity items,
	// or any number of items when capacity <= 0. Use the typed NewQueue
	// function rather than calling this directly.
	NewQueue(capacity int) UntypedQueue
}

// Event is a flag tasks can wait on.
type Event interface {
	// Set sets the flag and releases every waiter.
	Set()
	// Clear resets the flag; later Waits block until the next Set.
	Clear()
	// IsSet reports whether the flag is set.
	IsSet() bool
	// Wait blocks until the flag is set or ctx ends (returning ctx.Err()).
	Wait(ctx context.Context) error
}

// Lock is a mutual-exclusion lock whose acquisition can be abandoned.
type Lock interface {
	// Lock blocks until the lock is held.
	Lock()
	// Unlock releases the lock. Unlocking an unlocked Lock panics, as with
	// sync.Mutex.
	Unlock()
	// TryLock takes the lock if it is free and reports whether it did.
	TryLock() bool
	// LockContext blocks until the lock is held (nil) or ctx ends (ctx.Err(),
	// lock not held).
	LockContext(ctx context.Context) error
}

// Semaphore is a weighted counting semaphore. Waiters are served in FIFO
// order: a large Acquire is not starved by a stream of small ones.
type Semaphore interface {
	// Acquire takes n units, blocking until they are available or ctx ends
	// (ctx.Err(), nothing taken).
	Acquire(ctx context.Context, n int64) error
	// TryAcquire takes n units if they are available now and reports whether
	// it did.
	TryAcquire(n int64) bool
	// Release returns n units. Releasing more than is held panics.
	Release(n int64)
}

// UntypedQueue is the handler's queue primitive; Queue[T] wraps it with
// types. A pointer item passes through without allocating.
type UntypedQueue interface {
	Put(ctx context.Context, v any) error
	TryPut(v any) error
	Get(ctx context.Context) (any, error)
	TryGet() (any, error)
	Len() int
	Close()
}

// Dialer opens framed connections.
type Dialer interface {
	// Dial connects to cfg.Address and returns once the connection is ready
	// for Write. Dial errors are *DialError. Both ctx and cfg.Timeout bound
	// the connection set-up (including a TLS handshake).
	Dial(ctx context.Context, cfg DialConfig) (Conn, error)
}
