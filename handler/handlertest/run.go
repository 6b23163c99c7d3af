package handlertest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/gregorkafka/gregor/handler"
)

type test struct {
	name string
	fn   func(t *testing.T, h handler.Handler)
}

// Run runs the conformance suite. newHandler must return a fresh, ready
// handler; Run closes it at the end of each subtest and requires Close to
// succeed.
func Run(t *testing.T, newHandler func(t *testing.T) handler.Handler) {
	RunGroups(t, newHandler)
}

// RunGroups runs the named groups of the conformance suite ("Queue",
// "Event", "Semaphore", "Lock", "Time", "Tasks", "Dial", "Framing", "Conn",
// "TLS", "Vector"), or all of them when none is named. A handler whose clock is not
// the wall clock runs every group but "Time".
func RunGroups(t *testing.T, newHandler func(t *testing.T) handler.Handler, names ...string) {
	groups := []struct {
		name  string
		tests []test
	}{
		{"Queue", queueTests},
		{"Event", eventTests},
		{"Semaphore", semaphoreTests},
		{"Lock", lockTests},
		{"Time", timeTests},
		{"Tasks", taskTests},
		{"Dial", dialTests},
		{"Framing", framingTests},
		{"Conn", connTests},
		{"TLS", tlsTests},
		{"Vector", vectorTests},
	}
	for _, g := range groups {
		if len(names) > 0 && !slices.Contains(names, g.name) {
			continue
		}
		t.Run(g.name, func(t *testing.T) {
			for _, tc := range g.tests {
				t.Run(tc.name, func(t *testing.T) {
					h := newHandler(t)
					t.Cleanup(func() {
						if err := h.Close(); err != nil {
							t.Errorf("Handler.Close: %v", err)
						}
					})
					tc.fn(t, h)
				})
			}
		})
	}
}

// guarded returns a context that ends after the suite's hang guard.
func guarded(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	t.Cleanup(cancel)
	return ctx
}

// short returns a context that expires almost at once, for operations that
// must give up.
func short(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	t.Cleanup(cancel)
	return ctx
}

// canceledSoon returns a context canceled from another goroutine shortly
// after the call, to cancel an operation while it waits.
func canceledSoon(t testing.TB) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go func() {
		time.Sleep(5 * time.Millisecond)
		cancel()
	}()
	return ctx
}

// waitChan waits for ch to be closed or to yield a value.
func waitChan[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(guard):
		t.Fatalf("timed out waiting for %s", what)
		var zero T
		return zero
	}
}
