package zookeeper

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/handler/eventloop"
	"github.com/gregorkafka/gregor/handler/goroutine"
	"github.com/gregorkafka/gregor/internal/testcluster"
)

func TestMain(m *testing.M) { testcluster.Main(m) }

func testLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// forEachHandler runs fn as a subtest on each handler implementation.
func forEachHandler(t *testing.T, fn func(t *testing.T, h handler.Handler)) {
	t.Helper()
	t.Run("goroutine", func(t *testing.T) {
		h := goroutine.New()
		t.Cleanup(func() { h.Close() })
		fn(t, h)
	})
	t.Run("eventloop", func(t *testing.T) {
		h, err := eventloop.New(eventloop.WithLoops(2))
		require.NoError(t, err)
		t.Cleanup(func() { h.Close() })
		fn(t, h)
	})
}

// testCtx is bounded, so a hang fails the test instead of the whole run.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}
