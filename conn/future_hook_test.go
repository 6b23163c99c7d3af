package conn

import (
	"errors"
	"fmt"
	"io"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
)

// OnDone hooks run once per future, in order, when its response arrives,
// without a task waiting on it; a hook added after completion runs at once.
func TestOnDoneRunsWhenTheResponseArrives(t *testing.T) {
	eachHandler(t, func(t *testing.T, h handler.Handler) {
		b := newFakeBroker(t)
		reqs := holdRequests(b)
		c := dialed(t, h, b.addr(), Config{})
		ctx := guarded(t)

		// The hook hands the future over, as a kafka/ sink would: the
		// receiving goroutine decodes it with Get.
		done := handler.NewQueue[*ResponseFuture](h, 0)
		const n = 50
		futures := make([]*ResponseFuture, n)
		order := make(chan string, 2*n)
		for i := range n {
			f, err := c.Request(ctx, metadataFor(fmt.Sprint("t", i)))
			require.NoError(t, err)
			futures[i] = f
			f.OnDone(func(g *ResponseFuture) {
				order <- fmt.Sprint("first ", i)
				assert.Same(t, f, g)
				assert.True(t, g.Done(), "a hook sees a completed future")
				assert.NoError(t, done.TryPut(g))
			})
			f.OnDone(func(*ResponseFuture) { order <- fmt.Sprint("second ", i) })
		}
		assert.Equal(t, 0, done.Len(), "hooks ran before any answer")
		for range n {
			r := recv(t, reqs)
			b.answer(r.fc, r.r)
		}
		for i := range n {
			f, err := done.Get(ctx)
			require.NoError(t, err)
			assert.Same(t, futures[i], f, "responses complete in request order")
			resp, err := f.Get(ctx)
			require.NoError(t, err)
			assert.Equal(t, fmt.Sprint("t", i), topicOf(t, resp))
			assert.Equal(t, fmt.Sprint("first ", i), recv(t, order))
			assert.Equal(t, fmt.Sprint("second ", i), recv(t, order))
		}

		// Added after completion: runs at once, on this goroutine.
		ran := false
		futures[0].OnDone(func(*ResponseFuture) { ran = true })
		assert.True(t, ran)

		// A future with no response (acks 0) calls its hook at once with nil.
		var nilFuture *ResponseFuture
		called := false
		nilFuture.OnDone(func(g *ResponseFuture) { called = g == nil })
		assert.True(t, called)
	})
}

// A connection that breaks completes every pending future's hooks with the
// one disconnection error.
func TestOnDoneRunsOnDisconnect(t *testing.T) {
	eachHandler(t, func(t *testing.T, h handler.Handler) {
		b := newFakeBroker(t)
		reqs := holdRequests(b)
		c := dialed(t, h, b.addr(), Config{})
		ctx := guarded(t)
		errs := make(chan error, 3)
		for i := range 3 {
			f, err := c.Request(ctx, metadataFor(fmt.Sprint("t", i)))
			require.NoError(t, err)
			f.OnDone(func(g *ResponseFuture) { errs <- g.err })
		}
		recv(t, reqs).fc.close()
		for range 3 {
			err := recv(t, errs)
			requireDisconnected(t, err, b.addr())
			// The peer's close reads as EOF, or as a reset when it closed
			// with our request unread.
			assert.True(t, errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET), "cause: %v", err)
		}
	})
}
