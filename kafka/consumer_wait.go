package kafka

import (
	"context"
	"time"

	"github.com/gregorkafka/gregor/handler"
)

// waitBound is one Consume call's context bounded by ConsumerTimeout, timed
// by the handler's clock. It is made when the call first has to wait, so a
// message already at hand costs no context and no timer.
type waitBound struct {
	h     handler.Handler
	after time.Duration // ConsumerTimeout; zero or less: no bound

	c      context.Context
	timer  handler.Timer
	cancel context.CancelFunc
}

// ctx returns the bounded context, making it on the first call.
func (w *waitBound) ctx(ctx context.Context) context.Context {
	if w.c == nil {
		w.c = ctx
		if w.after > 0 {
			w.c, w.cancel = context.WithCancel(ctx)
			w.timer = w.h.AfterFunc(w.after, w.cancel)
		}
	}
	return w.c
}

// end releases the timer and context, if any were made.
func (w *waitBound) end() {
	if w.cancel != nil {
		w.timer.Stop()
		w.cancel()
	}
}
