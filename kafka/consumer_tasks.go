package kafka

import (
	"context"
	"sync"

	"github.com/gregorkafka/gregor/handler"
)

// taskGroup tracks handler tasks so that Stop can wait for them through the
// handler (a sync.WaitGroup would block outside it).
type taskGroup struct {
	h    handler.Handler
	mu   sync.Mutex
	n    int
	idle handler.Event // set while no task runs
}

func newTaskGroup(h handler.Handler) *taskGroup {
	g := &taskGroup{h: h, idle: h.NewEvent()}
	g.idle.Set()
	return g
}

func (g *taskGroup) Go(name string, fn func()) {
	g.mu.Lock()
	g.n++
	g.idle.Clear()
	g.mu.Unlock()
	g.h.Go(name, func() {
		defer g.done()
		fn()
	})
}

func (g *taskGroup) done() {
	g.mu.Lock()
	g.n--
	if g.n == 0 {
		g.idle.Set()
	}
	g.mu.Unlock()
}

// Wait returns once no task runs, or ctx.Err().
func (g *taskGroup) Wait(ctx context.Context) error { return g.idle.Wait(ctx) }
