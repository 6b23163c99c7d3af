package prim

import (
	"context"
	"runtime/pprof"
	"sync"

	"github.com/gregorkafka/gregor/handler"
)

// labelCtxs caches, per task name, a context carrying its pprof labels, so
// spawning a task with a name seen before allocates nothing for its labels.
// Names are few (one per kind of task, times brokers and topics), but the
// cache is capped so that a caller minting unique names cannot grow it.
var labelCtxs struct {
	m  sync.Map // string -> context.Context
	n  int64
	mu sync.Mutex
}

const maxLabelCtxs = 4096

func labelCtx(name string) context.Context {
	if v, ok := labelCtxs.m.Load(name); ok {
		return v.(context.Context)
	}
	ctx := pprof.WithLabels(context.Background(), pprof.Labels(handler.TaskLabels(name)...))
	labelCtxs.mu.Lock()
	if labelCtxs.n < maxLabelCtxs {
		if _, loaded := labelCtxs.m.LoadOrStore(name, ctx); !loaded {
			labelCtxs.n++
		}
	}
	labelCtxs.mu.Unlock()
	return ctx
}

// Labeled runs fn on the calling goroutine under the pprof labels of the
// task name. It is meant as the first thing a new goroutine does: the
// labels stay set until the goroutine ends, and goroutines it starts
// inherit them.
func Labeled(name string, fn func()) {
	pprof.SetGoroutineLabels(labelCtx(name))
	fn()
}
