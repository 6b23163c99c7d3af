package eventloop

import (
	"log/slog"
	"runtime"
)

// Option configures New.
type Option func(*options)

type options struct {
	loops   int
	logger  *slog.Logger
	netpoll bool
}

func defaultOptions() options {
	procs := runtime.GOMAXPROCS(0)
	return options{
		loops:   min(procs, 4),
		logger:  slog.New(slog.DiscardHandler),
		netpoll: procs == 1,
	}
}

// WithLoops sets the number of event loops (default min(GOMAXPROCS, 4)).
// Each loop is one goroutine serving its share of the connections; more
// loops than cores only adds scheduling.
func WithLoops(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.loops = n
		}
	}
}

// WithLogger routes gnet's own log messages to l. By default they are
// discarded.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.logger = l
		}
	}
}

// WithNetpollWait sets whether a loop with nothing to do waits for its
// sockets in Go's netpoller, holding no P, rather than in gnet's own
// epoll_wait, which holds one (see "One CPU" in the package documentation).
// The default is on when GOMAXPROCS is 1 when New runs, and off otherwise:
// with a P to spare, gnet's wait answers a lone request sooner. Linux only;
// elsewhere it has no effect.
func WithNetpollWait(on bool) Option {
	return func(o *options) { o.netpoll = on }
}
