package prim

import "context"

// Lock is a mutex made of a one-slot channel, which is what lets an
// acquisition wait on a context as well.
type Lock struct {
	ch chan struct{}
}

// NewLock returns an unlocked lock.
func NewLock() *Lock {
	return &Lock{ch: make(chan struct{}, 1)}
}

func (l *Lock) Lock() { l.ch <- struct{}{} }

func (l *Lock) Unlock() {
	select {
	case <-l.ch:
	default:
		panic("handler: unlock of unlocked Lock")
	}
}

func (l *Lock) TryLock() bool {
	select {
	case l.ch <- struct{}{}:
		return true
	default:
		return false
	}
}

func (l *Lock) LockContext(ctx context.Context) error {
	select {
	case l.ch <- struct{}{}:
		return nil
	default:
	}
	select {
	case l.ch <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
