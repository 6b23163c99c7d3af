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
