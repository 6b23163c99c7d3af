package handlertest_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/handler/eventloop"
	"github.com/gregorkafka/gregor/handler/goroutine"
	"github.com/gregorkafka/gregor/handler/handlertest"
)

func TestMain(m *testing.M) {
	handlertest.ServeEchoProcess()
	os.Exit(m.Run())
}

// newHandler makes the runtime named kind: "goroutine", "eventloop" or
// "eventloop-netpoll" (the loops waiting in Go's netpoller whatever
// GOMAXPROCS is).
func newHandler(b *testing.B, kind string) handler.Handler {
	if kind == "goroutine" {
		return goroutine.New()
	}
	opts := []eventloop.Option{eventloop.WithLoops(2)}
	if kind == "eventloop-netpoll" {
		opts = append(opts, eventloop.WithNetpollWait(true))
	}
	h, err := eventloop.New(opts...)
	if err != nil {
		b.Fatal(err)
	}
	return h
}

// BenchmarkRoundTripSideBySide compares the handlers' round trips against
// an echo peer in another process, the way a broker is reached. Compare the
// handlers' ns/op within one run, e.g.
//
//	go test -run '^$' -bench SideBySide ./handler/handlertest -args -reps 6
func BenchmarkRoundTripSideBySide(b *testing.B) {
	for _, inflight := range []int{1, 16, 256} {
		b.Run(fmt.Sprintf("inflight=%d", inflight), func(b *testing.B) {
			handlertest.SideBySide(b, []string{"goroutine", "eventloop", "eventloop-netpoll"}, func(b *testing.B, kind string) {
				h := newHandler(b, kind)
				defer h.Close()
				handlertest.BenchmarkRoundTripProcess(b, h, inflight, 100)
			})
		})
	}
}
