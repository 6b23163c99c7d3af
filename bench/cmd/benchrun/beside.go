package main

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/gregorkafka/gregor/bench/internal/report"
	"github.com/gregorkafka/gregor/bench/internal/workload"
)

// Latency cells run every other contender beside gregor rather than after it: the two processes send to the same
// topic at the same time, over the same counted window, so that whatever the brokers and the machine do meanwhile
// (a broker's pause, a compaction, a neighbour's burst) falls on both. Taking turns, the p99 of one client's run
// differed 2-4x from the next run's and the cells that missed the goal changed from run to run; beside each other,
// the two runs' p99 differed by 6% at the median (three runs of 84 pairs each) while a cell's repetitions moved
// 1.2-11x.
//
// The pair shares the cell's rate: each sends at half of it, in alternate slots (one at the start of each period of
// the cell's rate, the other a period later), so the brokers receive the cell's rate as when the clients take
// turns, and the two never ask for the client's CPU at the same moment. Which of them goes first alternates over
// the repetitions. Java's and pykafka's tools take no start time: they start when gregor's process does.

// besideLead is how far ahead a pair's first sends are due: time for both processes to start and build their
// clients (tens of milliseconds) before either sends.
const besideLead = 500 * time.Millisecond

// besideBaseline reports whether c's runs go beside gregor's: latency cells, when the plan says so and gregor and
// another contender run the cell.
func (cr *clusterRun) besideBaseline(c report.Cell, contenders []string) bool {
	return c.Workload == workload.Latency && cr.p.latBeside && len(contenders) > 1 &&
		slices.Contains(contenders, report.Baseline)
}

// besideRuns runs each contender but gregor beside gregor, p.reps times, the partners in runOrder's order.
func (cr *clusterRun) besideRuns(ctx context.Context, c report.Cell, topic string, contenders []string) {
	partners := slices.DeleteFunc(slices.Clone(contenders), func(n string) bool { return n == report.Baseline })
	for i, t := range runOrder(partners, cr.p.reps, len(cr.r.Cells)) {
		if ctx.Err() != nil {
			continue
		}
		if t.first {
			cr.probe(ctx, c)
		}
		if cr.skips(t.name, c) {
			continue
		}
		names := [2]string{report.Baseline, t.name}
		cr.e.prepare(ctx, job{cell: c, cl: cr.cl}) // a sync and the brokers' collections: up to seconds
		starts := besideStarts(time.Now().Add(besideLead), c.Rate, i%2 == 0)
		var res [2]workload.Result
		var ran [2]bool
		var wg sync.WaitGroup
		for k := range names {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res[k], ran[k] = cr.runOne(ctx, names[k], c, topic, nil, t.rep, "", func(j *job) {
					j.start, j.prepared, j.cell.Rate = starts[k], true, besideRate(c.Rate)
				})
			}()
		}
		wg.Wait()
		for k := range names {
			if ran[k] {
				cr.r.Samples = append(cr.r.Samples, report.Sample{Cell: c.Key, Contender: names[k], Rep: t.rep,
					Beside: names[1-k], Result: res[k]})
			}
		}
	}
}

// besideRate is the rate each of a pair sends at in a cell of the given rate: half of it.
func besideRate(rate int) int { return max(rate/2, 1) }

// besideStarts is when gregor's first send and its partner's are due, in a cell of the given rate: at, and one
// period of that rate after at (half of each one's own period), gregor first when baselineFirst.
func besideStarts(at time.Time, rate int, baselineFirst bool) [2]time.Time {
	slot := time.Second / time.Duration(max(rate, 1))
	if baselineFirst {
		return [2]time.Time{at, at.Add(slot)}
	}
	return [2]time.Time{at.Add(slot), at}
}
