package eventloop

import (
	"log/slog"
	"runtime"
)

// Option configures New.
type Option func(*options)

type options struct {
	loops  int
	logger *slog.Logger
}

func defaultOptions() options {
	return options{
		loops:  min(runtime.GOMAXPROCS(0), 4),
		logger: slog.New(slog.DiscardHandler),
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
