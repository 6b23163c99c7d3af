package handlertest_test

import (
	"flag"
	"fmt"
	"os"
	"testing"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/handler/eventloop"
	"github.com/gregorkafka/gregor/handler/goroutine"
	"github.com/gregorkafka/gregor/handler/handlertest"
)

// reps repeats each comparison inside one run, interleaving the handlers
// (A B A B …), which `-count` does not: it repeats each sub-benchmark in place.
var reps = flag.Int("reps", 1, "repetitions of each side-by-side comparison, interleaved")

func TestMain(m *testing.M) {
	handlertest.ServeEchoProcess()
	os.Exit(m.Run())
}

// handlers are the two runtimes, in the order each benchmark runs them, so
// that `-count N` interleaves them (A B A B …).
var handlers = []struct {
	name string
	new  func(b *testing.B) handler.Handler
}{
	{"goroutine", func(*testing.B) handler.Handler { return goroutine.New() }},
	{"eventloop", func(b *testing.B) handler.Handler {
		h, err := eventloop.New(eventloop.WithLoops(2))
		if err != nil {
			b.Fatal(err)
		}
		return h
	}},
}

// BenchmarkRoundTripSideBySide compares the handlers' round trips against
// an echo peer in another process, the way a broker is reached. Compare the
// handlers' ns/op within one run, e.g.
//
//	go test -run '^$' -bench SideBySide ./handler/handlertest -args -reps 6
func BenchmarkRoundTripSideBySide(b *testing.B) {
	for _, inflight := range []int{1, 16, 256} {
		for rep := 0; rep < *reps; rep++ {
			for _, k := range handlers {
				b.Run(fmt.Sprintf("inflight=%d/%s", inflight, k.name), func(b *testing.B) {
					h := k.new(b)
					defer h.Close()
					handlertest.BenchmarkRoundTripProcess(b, h, inflight, 100)
				})
			}
		}
	}
}
