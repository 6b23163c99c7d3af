package workload

import (
	"slices"
	"sync"
	"time"
)

// Latencies collects ack latencies from any goroutine.
type Latencies struct {
	mu   sync.Mutex
	sent []time.Time
	d    []time.Duration
}

// Acked records a message sent at sent and acknowledged now.
func (l *Latencies) Acked(sent time.Time) {
	d := time.Since(sent)
	l.mu.Lock()
	l.sent = append(l.sent, sent)
	l.d = append(l.d, d)
	l.mu.Unlock()
}

// Len is the number recorded.
func (l *Latencies) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.d)
}

// Fill sets r's percentiles, in milliseconds (nearest rank), from the messages sent at from or later. The ones
// sent before were the run's warm-up: they carry the client's start (connecting, metadata, the first request to
// each leader): 20-100 messages at 2,000 a second, which in a 1.5 s run were its whole p99.
func (l *Latencies) Fill(r *Result, from time.Time) {
	l.mu.Lock()
	var d []time.Duration
	for i, t := range l.sent {
		if !t.Before(from) {
			d = append(d, l.d[i])
		}
	}
	l.mu.Unlock()
	slices.Sort(d)
	r.Samples = d
	r.P50Ms = ms(Percentile(d, 50))
	r.P99Ms = ms(Percentile(d, 99))
	r.P999Ms = ms(Percentile(d, 99.9))
	r.Hist = NewHistogram(d)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Percentile returns the nearest-rank percentile q (0..100) of sorted; 0 when it is empty.
func Percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(q/100*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}

// Pacer spaces a latency run's sends to a fixed rate, for the run's warm-up and then its counted part. Sends that
// fall behind go out at once rather than being skipped, so a stall shows in the latencies of what follows it.
type Pacer struct {
	start  time.Time
	every  time.Duration
	warmup time.Duration
	end    time.Duration // warmup + the counted part
	n      int64
}

// NewPacer paces s.Rate sends per second from s.Start, or from now when that is unset or past, for s.Warmup and
// then s.Duration.
func NewPacer(s *Spec) *Pacer {
	start := time.Now()
	if s.Start.After(start) {
		start = s.Start
	}
	return &Pacer{start: start, every: time.Second / time.Duration(max(s.Rate, 1)), warmup: s.Warmup,
		end: s.Warmup + s.Duration}
}

// Next reports whether the run sends again and, if it does, sleeps until that send is due.
func (p *Pacer) Next() bool {
	if time.Since(p.start) >= p.end {
		return false
	}
	due := p.start.Add(time.Duration(p.n) * p.every)
	p.n++
	if d := time.Until(due); d > 0 {
		time.Sleep(d)
	}
	return true
}

// Counted is when the run's counted part begins, Latencies.Fill's from: what was sent before is the warm-up.
func (p *Pacer) Counted() time.Time { return p.start.Add(p.warmup) }
