package kafka

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler/goroutine"
)

// TestOnDemandRunsOnceMorePerKickDuringARun: a kick during a run is not
// lost (fn runs again after it), runs never overlap, and kicks while idle
// start a run each.
func TestOnDemandRunsOnceMorePerKickDuringARun(t *testing.T) {
	h := goroutine.New()
	defer h.Close()
	ctx := testCtx(t)
	inRun := h.NewEvent()
	release := h.NewEvent()
	ran := h.NewEvent()
	var runs, overlapping, active atomic.Int32
	var d *onDemand
	d = newOnDemand(h.Go, "test", func() {
		if active.Add(1) > 1 {
			overlapping.Add(1)
		}
		defer active.Add(-1)
		if runs.Add(1) == 1 {
			inRun.Set()
			require.NoError(t, release.Wait(ctx))
		}
		ran.Set()
	})

	d.kick()
	require.NoError(t, inRun.Wait(ctx))
	d.kick() // during the first run: one more run, after it
	d.kick() // folded into the same one
	ran.Clear()
	release.Set()
	require.NoError(t, ran.Wait(ctx))
	waitIdle(t, ctx, d)
	assert.Equal(t, int32(2), runs.Load())

	ran.Clear()
	d.kick() // idle: a new run
	require.NoError(t, ran.Wait(ctx))
	waitIdle(t, ctx, d)
	assert.Equal(t, int32(3), runs.Load())
	assert.Zero(t, overlapping.Load())
}

func waitIdle(t *testing.T, ctx context.Context, d *onDemand) {
	t.Helper()
	for {
		d.mu.Lock()
		running := d.running
		d.mu.Unlock()
		if !running {
			return
		}
		require.NoError(t, ctx.Err())
		runtime.Gosched()
	}
}
