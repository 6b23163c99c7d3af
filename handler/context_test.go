package handler_test

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/handler/fakeclock"
	"github.com/gregorkafka/gregor/handler/goroutine"
)

const guard = 20 * time.Second

func waitDone(t *testing.T, ctx context.Context) {
	t.Helper()
	select {
	case <-ctx.Done():
	case <-time.After(guard):
		t.Fatal("context never ended")
	}
}

type key struct{}

func TestWithTimeoutEndsOnTheClock(t *testing.T) {
	fc := fakeclock.New(goroutine.New())
	defer fc.Close()
	parent := context.WithValue(context.Background(), key{}, "v")
	ctx, cancel := handler.WithTimeout(parent, fc, time.Minute)
	defer cancel()
	child, childCancel := context.WithCancel(ctx)
	defer childCancel()
	ran := make(chan struct{})
	context.AfterFunc(ctx, func() { close(ran) })

	assert.Equal(t, "v", ctx.Value(key{}))
	_, has := ctx.Deadline()
	assert.False(t, has, "no wall-clock deadline to report")
	fc.Advance(time.Minute - time.Nanosecond)
	assert.NoError(t, ctx.Err())
	assert.NoError(t, child.Err())

	fc.Advance(time.Nanosecond)
	waitDone(t, ctx)
	assert.ErrorIs(t, ctx.Err(), context.DeadlineExceeded)
	waitDone(t, child)
	assert.ErrorIs(t, child.Err(), context.DeadlineExceeded, "derived contexts see the deadline")
	assert.ErrorIs(t, context.Cause(child), context.DeadlineExceeded)
	<-ran
}

func TestWithTimeoutFollowsParentAndCancel(t *testing.T) {
	fc := fakeclock.New(goroutine.New())
	defer fc.Close()

	parent, cancelParent := context.WithCancelCause(context.Background())
	ctx, cancel := handler.WithTimeout(parent, fc, time.Hour)
	defer cancel()
	assert.Equal(t, 1, fc.Pending())
	why := errors.New("why")
	cancelParent(why)
	waitDone(t, ctx)
	assert.ErrorIs(t, ctx.Err(), context.Canceled)
	assert.Equal(t, 0, fc.Pending(), "the timer is released")

	ctx, cancel = handler.WithTimeout(context.Background(), fc, time.Hour)
	child, childCancel := context.WithCancel(ctx)
	defer childCancel()
	cancel()
	waitDone(t, child)
	assert.ErrorIs(t, ctx.Err(), context.Canceled)
	assert.ErrorIs(t, child.Err(), context.Canceled)
	assert.Equal(t, 0, fc.Pending())

	ctx, cancel = handler.WithTimeout(context.Background(), fc, 0)
	defer cancel()
	waitDone(t, ctx)
	assert.ErrorIs(t, ctx.Err(), context.DeadlineExceeded)

	ctx, cancel = handler.WithTimeout(parent, fc, time.Hour)
	defer cancel()
	assert.ErrorIs(t, ctx.Err(), context.Canceled, "an ended parent ends it at once")
}

// On a real handler it is a timeout like context.WithTimeout's, and
// derived contexts cost no goroutine while they wait.
func TestWithTimeoutOnRealClock(t *testing.T) {
	h := goroutine.New()
	defer h.Close()
	ctx, cancel := handler.WithTimeout(context.Background(), h, 10*time.Millisecond)
	defer cancel()
	before := runtime.NumGoroutine()
	var cancels []context.CancelFunc
	for range 100 {
		_, c := context.WithCancel(ctx)
		cancels = append(cancels, c)
	}
	assert.LessOrEqual(t, runtime.NumGoroutine(), before+2)
	waitDone(t, ctx)
	require.ErrorIs(t, ctx.Err(), context.DeadlineExceeded)
	for _, c := range cancels {
		c()
	}
}
