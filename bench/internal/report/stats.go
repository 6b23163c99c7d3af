package report

import (
	"math"
	"slices"

	"github.com/gregorkafka/gregor/bench/internal/workload"
)

// Stat is the median of a metric over a cell's runs and their spread.
type Stat struct {
	Median float64
	// Spread is (max-min)/median: how far apart the runs were, as a fraction of the median.
	Spread float64
	Runs   int
	// Err is the first failure when no run succeeded.
	Err string
	// Pooled is set when Median is a percentile of every run's samples together (SummarizeLatency).
	Pooled bool
}

// OK reports whether at least one run succeeded.
func (s Stat) OK() bool { return s.Runs > 0 }

// NoisySpread is the spread above which a cell's median cannot rank contenders close to each other: the report
// marks such cells.
const NoisySpread = 0.25

// Noisy reports whether the runs were further apart than NoisySpread (one run has no spread to judge).
func (s Stat) Noisy() bool { return s.Runs > 1 && s.Spread > NoisySpread }

// Metric extracts one number from a successful result.
type Metric func(workload.Result) float64

// Metrics shown by the report.
var (
	MBps = func(r workload.Result) float64 {
		if r.Seconds <= 0 {
			return 0
		}
		return float64(r.Bytes) / r.Seconds / 1e6
	}
	MsgsPerSec = func(r workload.Result) float64 {
		if r.Seconds <= 0 {
			return 0
		}
		return float64(r.Messages) / r.Seconds
	}
	CPU = func(r workload.Result) float64 { return r.CPUSeconds }
	// CPUPerRecord is the client's user+system CPU time per message, in microseconds: steadier than
	// throughput on a loaded machine, since time spent waiting for the brokers does not count.
	CPUPerRecord = func(r workload.Result) float64 {
		if r.Messages <= 0 {
			return 0
		}
		return r.CPUSeconds / float64(r.Messages) * 1e6
	}
	P50        = func(r workload.Result) float64 { return r.P50Ms }
	P99        = func(r workload.Result) float64 { return r.P99Ms }
	P999       = func(r workload.Result) float64 { return r.P999Ms }
	Assign     = func(r workload.Result) float64 { return r.AssignSeconds }
	Unowned    = func(r workload.Result) float64 { return r.UnownedSeconds }
	Replayed   = func(r workload.Result) float64 { return float64(r.Replayed) }
	Goroutines = func(r workload.Result) float64 { return float64(r.Goroutines) }
	Threads    = func(r workload.Result) float64 { return float64(r.Threads) }
	RSSMiB     = func(r workload.Result) float64 { return float64(r.RSSBytes) / (1 << 20) }
	Sockets    = func(r workload.Result) float64 { return float64(r.Sockets) }
)

// Summarize computes m's median and spread over the successful results; failed ones only count when all failed.
func Summarize(results []workload.Result, m Metric) Stat {
	var vals []float64
	var firstErr string
	for _, r := range results {
		if r.Error != "" {
			if firstErr == "" {
				firstErr = r.Error
			}
			continue
		}
		vals = append(vals, m(r))
	}
	if len(vals) == 0 {
		return Stat{Err: firstErr}
	}
	slices.Sort(vals)
	med := Median(vals)
	st := Stat{Median: med, Runs: len(vals)}
	if med != 0 {
		st.Spread = (vals[len(vals)-1] - vals[0]) / math.Abs(med)
	}
	return st
}

// Median of sorted values (the mean of the middle two for an even count).
func Median(sorted []float64) float64 {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

// Ratio is a/b, or NaN when either is missing.
func Ratio(a, b Stat) float64 {
	if !a.OK() || !b.OK() || b.Median == 0 {
		return math.NaN()
	}
	return a.Median / b.Median
}

// SummarizeLatency is Summarize for a latency percentile q (m its per-run value): when every successful run
// shipped its histogram, the median is replaced by q of all their acknowledgements pooled, which reads a tail
// percentile from five times the samples; the spread stays that of the runs' own values, so a cell whose runs
// disagree is still marked. Contenders that print percentiles only (java-perf, pykafka) keep the median.
func SummarizeLatency(results []workload.Result, q float64, m Metric) Stat {
	st := Summarize(results, m)
	if !st.OK() {
		return st
	}
	pooled := workload.Histogram{}
	for _, r := range results {
		if r.Error != "" {
			continue
		}
		if len(r.Hist) == 0 {
			return st
		}
		pooled.Add(r.Hist)
	}
	st.Median = float64(pooled.Percentile(q)) / 1e6
	st.Pooled = true
	return st
}
