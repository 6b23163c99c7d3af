package handlertest

import (
	"sync"
	"testing"
	"time"

	"github.com/gregorkafka/gregor/handler"
)

// recorder collects a connection's callbacks and checks their contract:
// OnClose exactly once, no frame after it, never two callbacks at a time.
type recorder struct {
	mu         sync.Mutex
	frames     [][]byte
	closeErr   error
	closes     int
	violations []string
	busy       bool
	changed    chan struct{} // one-slot; poked after every callback
}

func newRecorder() *recorder {
	return &recorder{changed: make(chan struct{}, 1)}
}

// config returns a DialConfig for addr wired to the recorder.
func (r *recorder) config(addr string) handler.DialConfig {
	return handler.DialConfig{Address: addr, OnFrame: r.onFrame, OnClose: r.onClose}
}

func (r *recorder) enter(what string) {
	r.mu.Lock()
	if r.busy {
		r.violations = append(r.violations, what+" ran concurrently with another callback")
	}
	r.busy = true
	r.mu.Unlock()
}

func (r *recorder) leave() {
	r.mu.Lock()
	r.busy = false
	r.mu.Unlock()
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

func (r *recorder) onFrame(b []byte) {
	r.enter("OnFrame")
	r.mu.Lock()
	if r.closes > 0 {
		r.violations = append(r.violations, "OnFrame after OnClose")
	}
	r.frames = append(r.frames, b)
	r.mu.Unlock()
	r.leave()
}

func (r *recorder) onClose(err error) {
	r.enter("OnClose")
	r.mu.Lock()
	r.closes++
	if r.closes > 1 {
		r.violations = append(r.violations, "OnClose called more than once")
	}
	r.closeErr = err
	r.mu.Unlock()
	r.leave()
}

// waitUntil blocks until cond (evaluated under the lock) holds.
func (r *recorder) waitUntil(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.After(guard)
	for {
		r.mu.Lock()
		ok := cond()
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-r.changed:
		case <-deadline:
			tb.Fatalf("timed out waiting for %s", what)
		}
	}
}

// waitFrames waits for n frames and returns a copy of the frame list.
func (r *recorder) waitFrames(tb testing.TB, n int) [][]byte {
	tb.Helper()
	r.waitUntil(tb, "frames", func() bool { return len(r.frames) >= n })
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.frames...)
}

// waitClosed waits for OnClose and returns its error.
func (r *recorder) waitClosed(tb testing.TB) error {
	tb.Helper()
	r.waitUntil(tb, "OnClose", func() bool { return r.closes > 0 })
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closeErr
}

// check fails tb if any callback rule was broken.
func (r *recorder) check(tb testing.TB) {
	tb.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range r.violations {
		tb.Error(v)
	}
}

func (r *recorder) snapshot() (frames int, closes int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.frames), r.closes
}
