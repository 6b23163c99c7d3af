package handlertest

import (
	"flag"
	"syscall"
	"testing"
	"time"
)

// reps is how many times SideBySide repeats its comparison.
var reps = flag.Int("reps", 1, "side-by-side benchmarks: repetitions of each comparison, the contenders taking turns")

// SideBySide runs fn as a sub-benchmark named after each kind, the kinds
// taking turns (A B A B …) for -reps repetitions. -count repeats each
// sub-benchmark in place instead, so a change in the machine's load
// during the run would favour one contender.
func SideBySide(b *testing.B, kinds []string, fn func(b *testing.B, kind string)) {
	for range *reps {
		for _, k := range kinds {
			b.Run(k, func(b *testing.B) { fn(b, k) })
		}
	}
}

// CPUTime is the process's CPU time so far (user and system, GC included):
// on a machine shared with other work, and with the peer in another
// process, it measures the client's cost better than the wall clock.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
