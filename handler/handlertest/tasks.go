package handlertest

import (
	"bytes"
	"context"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
)

var timeTests = []test{
	{"Now", testNow},
	{"Sleep", testSleep},
	{"AfterFunc", testAfterFunc},
	{"AfterFuncStopReset", testAfterFuncStop},
}

var taskTests = []test{
	{"ManyTasks", testManyTasks},
	{"TasksMayWaitOnLaterTasks", testTasksWaitOnTasks},
	{"ProfilerLabels", testTaskLabels},
}

func testNow(t *testing.T, h handler.Handler) {
	before := time.Now()
	now := h.Now()
	after := time.Now()
	assert.False(t, now.Before(before), "Now before time.Now")
	assert.False(t, now.After(after), "Now after time.Now")
}

func testSleep(t *testing.T, h handler.Handler) {
	require.NoError(t, h.Sleep(guarded(t), time.Millisecond))
	require.NoError(t, h.Sleep(guarded(t), 0))
	assert.ErrorIs(t, h.Sleep(short(t), time.Hour), context.DeadlineExceeded)
	assert.ErrorIs(t, h.Sleep(canceledSoon(t), time.Hour), context.Canceled)

	done, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, h.Sleep(done, time.Hour), context.Canceled)
	assert.ErrorIs(t, h.Sleep(done, 0), context.Canceled)
}

func testAfterFunc(t *testing.T, h handler.Handler) {
	fired := make(chan struct{})
	tm := h.AfterFunc(time.Millisecond, func() { close(fired) })
	waitChan(t, fired, "AfterFunc")
	assert.False(t, tm.Stop(), "Stop after fn ran")

	// fn runs as a task: it may block without holding anything up.
	ctx := guarded(t)
	e := h.NewEvent()
	released := make(chan error, 1)
	h.AfterFunc(0, func() { released <- e.Wait(ctx) })
	e.Set()
	require.NoError(t, waitChan(t, released, "blocking AfterFunc"))
}

func testAfterFuncStop(t *testing.T, h handler.Handler) {
	var ran atomic.Bool
	tm := h.AfterFunc(time.Hour, func() { ran.Store(true) })
	assert.True(t, tm.Stop())
	assert.False(t, tm.Stop(), "second Stop")
	assert.False(t, ran.Load())

	fired := make(chan struct{})
	tm = h.AfterFunc(time.Hour, func() { close(fired) })
	assert.True(t, tm.Reset(time.Millisecond), "Reset of an active timer")
	waitChan(t, fired, "reset AfterFunc")
}

func testManyTasks(t *testing.T, h handler.Handler) {
	const n = 10000
	var wg sync.WaitGroup
	var count atomic.Int64
	wg.Add(n)
	for i := 0; i < n; i++ {
		h.Go("task", func() {
			count.Add(1)
			wg.Done()
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	waitChan(t, done, "10k tasks")
	assert.Equal(t, int64(n), count.Load())
}

// testTasksWaitOnTasks spawns many tasks that block until a task spawned
// after them runs: a bounded worker pool would deadlock here.
func testTasksWaitOnTasks(t *testing.T, h handler.Handler) {
	ctx := guarded(t)
	const n = 2000
	e := h.NewEvent()
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		h.Go("waiter", func() { errs <- e.Wait(ctx) })
	}
	h.Go("setter", e.Set)
	for i := 0; i < n; i++ {
		require.NoError(t, waitChan(t, errs, "waiting task"))
	}
}

// testTaskLabels checks that a task runs under pprof labels derived from its
// name, by finding them in a goroutine profile taken while the task blocks.
func testTaskLabels(t *testing.T, h handler.Handler) {
	ctx := guarded(t)
	release := h.NewEvent()
	defer release.Set()
	started := make(chan struct{})
	name := handler.TaskName("conformance-labelled", "broker", "7", "topic", "orders")
	h.Go(name, func() {
		close(started)
		_ = release.Wait(ctx)
	})
	waitChan(t, started, "labelled task")
	want := `{"broker":"7", "task":"conformance-labelled", "topic":"orders"}`
	assert.Contains(t, goroutineLabels(t), want)

	// A plain name labels the task alone.
	h.Go("conformance plain", func() { _ = release.Wait(ctx) })
	assert.Eventually(t, func() bool {
		return strings.Contains(goroutineLabels(t), `{"task":"conformance plain"}`)
	}, guard, time.Millisecond)
}

// goroutineLabels returns the label lines of a goroutine profile.
func goroutineLabels(t *testing.T) string {
	var buf bytes.Buffer
	require.NoError(t, pprof.Lookup("goroutine").WriteTo(&buf, 1))
	var out []string
	for _, line := range strings.Split(buf.String(), "\n") {
		if strings.HasPrefix(line, "# labels: ") {
			out = append(out, strings.TrimPrefix(line, "# labels: "))
		}
	}
	return strings.Join(out, "\n")
}
