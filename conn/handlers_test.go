package conn

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/handler/eventloop"
	"github.com/gregorkafka/gregor/handler/goroutine"
)

// handlerKind names a handler implementation and builds fresh instances.
type handlerKind struct {
	name string
	new  func(tb testing.TB) handler.Handler
}

var handlerKinds = []handlerKind{
	{"goroutine", func(testing.TB) handler.Handler { return goroutine.New() }},
	{"eventloop", func(tb testing.TB) handler.Handler {
		h, err := eventloop.New(eventloop.WithLoops(2))
		require.NoError(tb, err)
		return h
	}},
}

// eachHandler runs fn once per handler implementation, each with a fresh
// handler closed when the subtest ends.
func eachHandler(t *testing.T, fn func(t *testing.T, h handler.Handler)) {
	for _, k := range handlerKinds {
		t.Run(k.name, func(t *testing.T) {
			h := k.new(t)
			t.Cleanup(func() { require.NoError(t, h.Close()) })
			fn(t, h)
		})
	}
}

// guarded returns a context that ends after the hang guard.
func guarded(tb testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	tb.Cleanup(cancel)
	return ctx
}

// dialed returns a connected BrokerConnection to addr, closed at the end of
// the test.
func dialed(t testing.TB, h handler.Handler, addr string, cfg Config) *BrokerConnection {
	t.Helper()
	c, err := New(h, addr, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	require.NoError(t, c.Connect(guarded(t)))
	return c
}
