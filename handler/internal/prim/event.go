package prim

import (
	"context"
	"sync"
)

// Event is a settable flag. Set closes the current channel, releasing every
// waiter at once; Clear installs a fresh one.
type Event struct {
	mu  sync.Mutex
	ch  chan struct{}
	set bool
}

// NewEvent returns a cleared event.
func NewEvent() *Event {
	return &Event{ch: make(chan struct{})}
}

func (e *Event) Set() {
	e.mu.Lock()
	if !e.set {
		e.set = true
		close(e.ch)
	}
	e.mu.Unlock()
}

func (e *Event) Clear() {
	e.mu.Lock()
	if e.set {
		e.set = false
		e.ch = make(chan struct{})
	}
	e.mu.Unlock()
}

func (e *Event) IsSet() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.set
}

func (e *Event) Wait(ctx context.Context) error {
	e.mu.Lock()
	ch := e.ch
	e.mu.Unlock()
	select {
	case <-ch:
		return nil
	default:
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
