package workload

import (
	"math"
	"slices"
	"time"
)

// Histogram counts latencies in buckets a 64th of a power of two wide (1.1%), keyed by bucket. A run ships its
// histogram rather than its samples, and the report adds several runs' histograms together: a tail
// percentile of the pooled acknowledgements is read from many more samples than any one run has (at 2,000
// messages a second for 4 s, one run's p99.9 is its eighth-slowest acknowledgement; five runs pooled, the
// fortieth), which is what makes the tail comparable between contenders.
type Histogram map[int]int64

// histStepsPerOctave is the buckets per doubling of latency.
const histStepsPerOctave = 64

// histBucket returns the bucket of d; zero and negative durations fall in bucket 0 (1 ns).
func histBucket(d time.Duration) int {
	if d <= 1 {
		return 0
	}
	return int(math.Floor(math.Log2(float64(d)) * histStepsPerOctave))
}

// histValue is the middle of bucket k (geometrically), so any sample of the bucket is within 0.55% of it.
func histValue(k int) time.Duration {
	return time.Duration(math.Round(math.Exp2((float64(k) + 0.5) / histStepsPerOctave)))
}

// NewHistogram counts the durations d.
func NewHistogram(d []time.Duration) Histogram {
	h := Histogram{}
	for _, v := range d {
		h[histBucket(v)]++
	}
	return h
}

// Add adds o's counts to h.
func (h Histogram) Add(o Histogram) {
	for k, n := range o {
		h[k] += n
	}
}

// Count is the number of latencies counted.
func (h Histogram) Count() int64 {
	var n int64
	for _, c := range h {
		n += c
	}
	return n
}

// Percentile returns the nearest-rank percentile q (0..100), as the middle of its bucket; 0 when empty.
func (h Histogram) Percentile(q float64) time.Duration {
	total := h.Count()
	if total == 0 {
		return 0
	}
	rank := max(int64(q/100*float64(total)+0.999999), 1) // as Percentile ranks
	keys := make([]int, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var seen int64
	for _, k := range keys {
		seen += h[k]
		if seen >= rank {
			return histValue(k)
		}
	}
	return histValue(keys[len(keys)-1])
}
