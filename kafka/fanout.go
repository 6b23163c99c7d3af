package kafka

import (
	"context"

	"github.com/gregorkafka/gregor/handler"
)

// fanOut runs fn(0) ... fn(n-1) as concurrent handler tasks and returns
// their results in index order, or ctx.Err() if ctx ends first (the tasks
// then finish on their own; fn should honour the same ctx). A single call
// runs inline.
func fanOut[T any](ctx context.Context, h handler.Handler, name string, n int, fn func(i int) T) ([]T, error) {
	out := make([]T, n)
	if n == 1 {
		out[0] = fn(0)
		return out, nil
	}
	type result struct {
		i int
		v T
	}
	// Room for every result, so a task never blocks handing one in, even
	// after the caller stopped waiting.
	q := handler.NewQueue[*result](h, n)
	for i := range n {
		h.Go(name, func() { _ = q.TryPut(&result{i: i, v: fn(i)}) })
	}
	for range n {
		r, err := q.Get(ctx)
		if err != nil {
			return nil, err
		}
		out[r.i] = r.v
	}
	return out, nil
}
