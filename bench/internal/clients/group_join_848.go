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
	return runGroupJoin(ctx, s, func(ctx context.Context, i int, cov *workload.Coverage, prog *workload.Progress) error {
		cl, done, err := g.client(ctx, s)
		if err != nil {
			return err
		}
		defer done()
		t, err := cl.Topic(ctx, s.Topic)
		if err != nil {
			return err
		}
		b, err := t.BalancedConsumer(s.Group, kafka.BalancedConsumerConfig{
			GroupProtocol:        kafka.GroupProtocolConsumer,
			ConsumerConfig:       kafka.ConsumerConfig{AutoOffsetReset: kafka.OffsetEarliest, AutoCommit: true},
			AfterAssignCallback:  func(_ context.Context, ps []int32) { cov.Gain(i, ps) },
			BeforeRevokeCallback: func(_ context.Context, ps []int32) { cov.Lose(i, ps) },
			LostCallback:         func(_ context.Context, ps []int32) { cov.Lose(i, ps) },
		})
		if err != nil {
			return err
		}
		defer b.Stop(context.Background())
		for !prog.Done() {
			m, err := b.Consume(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
			prog.Seen(m.Partition, m.Offset, len(m.Value))
		}
		<-ctx.Done()
		return nil
	})
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
