package workload

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// Pooling runs' histograms gives the percentiles of all their samples together, to the bucket's precision,
// and survives the JSON a client process prints.
func TestHistogramPoolsRuns(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var all []time.Duration
	pooled := Histogram{}
	for run := 0; run < 5; run++ {
		var d []time.Duration
		for i := 0; i < 3000; i++ {
			// Log-normal around 200 µs with a tail into tens of milliseconds.
			d = append(d, time.Duration(200e3*math.Exp(rng.NormFloat64()*1.2)))
		}
		b, err := json.Marshal(Result{Hist: NewHistogram(d)})
		if err != nil {
			t.Fatal(err)
		}
		var back Result
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		pooled.Add(back.Hist)
		all = append(all, d...)
	}
	slices.Sort(all)
	if got := pooled.Count(); got != int64(len(all)) {
		t.Fatalf("pooled count %d, want %d", got, len(all))
	}
	for _, q := range []float64{0, 1, 50, 90, 99, 99.9, 100} {
		want, got := Percentile(all, q), pooled.Percentile(q)
		if rel := math.Abs(float64(got-want)) / float64(want); rel > 0.0055 {
			t.Errorf("p%v: pooled %v, samples %v (%.2f%% off)", q, got, want, rel*100)
		}
	}
}

func TestHistogramEdges(t *testing.T) {
	if got := (Histogram{}).Percentile(99); got != 0 {
		t.Errorf("empty histogram's p99 = %v, want 0", got)
	}
	h := NewHistogram([]time.Duration{0, -5, time.Nanosecond})
	if h.Count() != 3 || h.Percentile(100) != histValue(0) {
		t.Errorf("zero and negative latencies: %v", h)
	}
	// A bucket's middle is within 0.55% of every duration in it.
	for _, d := range []time.Duration{2, 999, time.Microsecond, 37 * time.Millisecond, 9 * time.Second} {
		v := histValue(histBucket(d))
		if rel := math.Abs(float64(v-d)) / float64(d); rel > 0.0055 && d > 100 {
			t.Errorf("%v lands in a bucket whose middle is %v", d, v)
		}
	}
}
