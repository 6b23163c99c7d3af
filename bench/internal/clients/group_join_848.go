package clients

import (
	"context"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gregorkafka/gregor/kafka"

	"github.com/gregorkafka/gregor/bench/internal/workload"
)

// groupJoin848 is groupJoin in a consumer-protocol (KIP-848) group: the broker assigns (its default, uniform,
// assignor) and heartbeats at the broker's interval.
func (g gregorClient) groupJoin848(ctx context.Context, s *workload.Spec) (workload.Result, error) {
	return g.joining(ctx, s, kafka.BalancedConsumerConfig{GroupProtocol: kafka.GroupProtocolConsumer})
}

// franzGroupJoin848 is franzGroupJoin with ServerSideBalancer: franz-go's KIP-848 group, the broker's uniform
// assignor behind its cooperative-sticky balancer.
func franzGroupJoin848(ctx context.Context, s *workload.Spec) (workload.Result, error) {
	return runGroupJoin(ctx, s, func(ctx context.Context, i int, cov *workload.Coverage, prog *workload.Progress) error {
		opts := append(franzConsumerOpts(s),
			kgo.ConsumerGroup(s.Group),
			kgo.ServerSideBalancer(),
			kgo.Balancers(kgo.CooperativeStickyBalancer()),
			kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, m map[string][]int32) { cov.Gain(i, m[s.Topic]) }),
			kgo.OnPartitionsRevoked(func(ctx context.Context, cl *kgo.Client, m map[string][]int32) {
				// What the default revoke does: commit what was consumed before the partitions go.
				_ = cl.CommitUncommittedOffsets(ctx)
				cov.Lose(i, m[s.Topic])
			}),
			kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, m map[string][]int32) { cov.Lose(i, m[s.Topic]) }),
		)
		cl, err := kgo.NewClient(opts...)
		if err != nil {
			return err
		}
		defer cl.Close()
		if err := franzDrain(ctx, cl, prog); err != nil && ctx.Err() == nil {
			return err
		}
		for ctx.Err() == nil {
			cl.PollFetches(ctx)
		}
		return nil
	})
}
