// Package sample breaks every rule the runtime test checks, so that the
// test can show it catches each one.
package sample

import (
	"context"
	stdnet "net"
	clock "time"
)

type worker struct{}

func (w *worker) run(ctx context.Context) {
	go func() {}()
	clock.Sleep(clock.Second)
	<-clock.After(clock.Second)
	ctx, cancel := context.WithDeadline(ctx, clock.Now())
	defer cancel()
	var d stdnet.Dialer
	_, _ = d.DialContext(ctx, "tcp", "127.0.0.1:1")
}

func dial() { _, _ = stdnet.DialTimeout("tcp", "127.0.0.1:1", clock.Second) }
