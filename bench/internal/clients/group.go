package clients

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gregorkafka/gregor/bench/internal/workload"
)

// memberFunc runs group member i until ctx ends, reporting its assignments to own and its messages to prog.
type memberFunc func(ctx context.Context, i int, own *workload.Owners, prog *workload.Progress) error

// runGroup starts s.Members members at once and waits until they have together read every partition to its
// end. The result's Seconds is that whole time, joins and rebalances included; AssignSeconds is when the
// members first owned every partition between them.
func runGroup(ctx context.Context, s *workload.Spec, member memberFunc) (workload.Result, error) {
	own := workload.NewOwners(s.Members, len(s.Ends))
	prog := workload.NewProgress(s.Ends)
	mctx, cancel := context.WithCancel(ctx)
	errs := make(chan error, s.Members)
	start := time.Now()
	for i := 0; i < s.Members; i++ {
		go func() { errs <- member(mctx, i, own, prog) }()
	}
	var res workload.Result
	var err error
	select {
	case <-prog.Wait():
		res.Seconds = time.Since(start).Seconds()
		// The last member may still be joining when the others have read everything; give it the time a
		// rebalance takes to show up in the numbers rather than report an incomplete group.
		select {
		case <-own.Complete():
		case <-time.After(30 * time.Second):
		case <-ctx.Done():
		}
	case err = <-errs:
		if err == nil {
			err = errors.New("a member stopped early")
		}
	case <-ctx.Done():
		err = ctx.Err()
	}
	cancel()
	// Members leave the group on the way out; a client that hangs while leaving must not hang the run.
	deadline := time.After(15 * time.Second)
	for i := 0; i < s.Members; i++ {
		select {
		case <-errs:
		case <-deadline:
			i = s.Members
		}
	}
	res.Messages = workload.TotalEnds(s.Ends)
	res.Bytes = res.Messages * int64(s.Size)
	res.AssignSeconds = own.Elapsed().Seconds()
	if err == nil && res.AssignSeconds == 0 {
		err = fmt.Errorf("the %d members never owned all %d partitions together (last seen: %v)", s.Members, len(s.Ends), own)
	}
	return res, err
}

// joinMemberFunc runs group-join member i until ctx ends, reporting what it gains and gives up to cov and its
// messages to prog.
type joinMemberFunc func(ctx context.Context, i int, cov *workload.Coverage, prog *workload.Progress) error

// runGroupJoin starts s.Members members of a cooperative-sticky group, starts one more once half of the topic
// is read, and waits until every partition is read to its end. Seconds is the whole drain; UnownedSeconds the
// time some partition had no owner after the first members owned them all (the joiner's rebalance); Replayed
// the records delivered more than once (a partition moving without a commit, or consumed on both sides). Members
// heartbeat every 500 ms, so that the rebalance fits in a drain of seconds.
func runGroupJoin(ctx context.Context, s *workload.Spec, member joinMemberFunc) (workload.Result, error) {
	cov := workload.NewCoverage(len(s.Ends))
	prog := workload.NewProgress(s.Ends)
	total := workload.TotalEnds(s.Ends)
	mctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, s.Members+1)
	start := time.Now()
	for i := 0; i < s.Members; i++ {
		go func() { errs <- member(mctx, i, cov, prog) }()
	}
	joined := false
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	var res workload.Result
	var err error
wait:
	for {
		select {
		case <-prog.Wait():
			if res.Seconds == 0 {
				res.Seconds = time.Since(start).Seconds()
			}
			// The rebalance the joiner caused may outlast the drain: its numbers count only once it is over.
			if joined && cov.Settled(s.Members) || time.Since(start).Seconds() > res.Seconds+30 {
				break wait
			}
			select {
			case <-tick.C:
			case <-ctx.Done():
			}
		case <-tick.C:
			if !joined && prog.Messages() >= total/2 {
				joined = true
				go func() { errs <- member(mctx, s.Members, cov, prog) }()
			}
		case err = <-errs:
			if err == nil {
				err = errors.New("a member stopped early")
			}
			break wait
		case <-ctx.Done():
			err = ctx.Err()
			break wait
		}
	}
	res.UnownedSeconds = cov.Unowned().Seconds()
	res.Replayed = max(prog.Messages()-total, 0)
	cancel()
	deadline := time.After(15 * time.Second)
	for i := 0; i < s.Members+1 && joined || i < s.Members; i++ {
		select {
		case <-errs:
		case <-deadline:
			i = s.Members + 1
		}
	}
	if err == nil && !joined {
		err = errors.New("the topic was read before the fourth member could join")
	}
	res.Messages = total
	res.Bytes = res.Messages * int64(s.Size)
	return res, err
}
