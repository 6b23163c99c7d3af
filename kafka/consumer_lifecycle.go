package kafka

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/gregorkafka/gregor/handler"
)

// lifecycle is the start/stop state SimpleConsumer and BalancedConsumer
// share, embedded in each. A start runs one attempt at a time until one
// succeeds, and never after Stop; Stop runs once, and later calls wait for
// the first and return its result.
type lifecycle struct {
	mu        *sync.Mutex // the owner's: stopped is part of its state
	stopped   bool        // guarded by mu; set first thing by Stop
	startLock handler.Lock
	started   atomic.Bool

	stopOnce sync.Once
	stopDone handler.Event
	stopErr  error
}

func newLifecycle(h handler.Handler, mu *sync.Mutex) lifecycle {
	return lifecycle{mu: mu, startLock: h.NewLock(), stopDone: h.NewEvent()}
}

func (l *lifecycle) isStopped() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stopped
}

// runStart returns nil at once when started, and ErrConsumerStopped after
// Stop. Otherwise, holding the start lock, it runs prepare (which may fail:
// the next start tries again), then begin under the owner's mutex unless
// Stop came meanwhile, and counts the consumer started.
func (l *lifecycle) runStart(ctx context.Context, prepare func(context.Context) error, begin func()) error {
	if l.started.Load() {
		return nil
	}
	if err := l.startLock.LockContext(ctx); err != nil {
		return err
	}
	defer l.startLock.Unlock()
	if l.started.Load() {
		return nil
	}
	if l.isStopped() {
		return ErrConsumerStopped
	}
	if err := prepare(ctx); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopped {
		return ErrConsumerStopped
	}
	l.started.Store(true)
	begin()
	return nil
}

// runStop runs halt on the first call, which must set stopped under the
// owner's mutex before anything else; later calls wait for it, within ctx.
// Both return halt's error.
func (l *lifecycle) runStop(ctx context.Context, halt func(context.Context) error) error {
	first := false
	l.stopOnce.Do(func() {
		first = true
		l.stopErr = halt(ctx)
		l.stopDone.Set()
	})
	if !first {
		if err := l.stopDone.Wait(ctx); err != nil {
			return err
		}
	}
	return l.stopErr
}
