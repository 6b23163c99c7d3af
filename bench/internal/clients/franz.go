package clients

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"

	"github.com/gregorkafka/gregor/bench/internal/workload"
)

// franz-go (kgo): idempotence off (it is on by default and would force acks=all) but in the cells measuring it, no linger, round-robin per
// record, the shared buffer limit in records and bytes, 1 MiB per partition per fetch.
func init() {
	register(Contender{Name: "franz-go", Runs: map[string]Run{
		workload.Produce: franzProduce,
		workload.Latency: franzLatency,
		workload.Consume: franzConsume,
		workload.Group:   franzGroup,
		// cooperative-sticky, its default balancer
		workload.GroupJoin:    franzGroupJoin,
		workload.GroupJoin848: franzGroupJoin848,
		workload.Conns:        franzConns,
	}})
}

func franzBase(s *workload.Spec) []kgo.Opt {
	opts := []kgo.Opt{kgo.SeedBrokers(s.Bootstrap...), kgo.ClientID("bench-franz-go")}
	if tc := mustTLS(s); tc != nil {
		opts = append(opts, kgo.DialTLSConfig(tc))
	}
	if s.SASLUser != "" {
		opts = append(opts, kgo.SASL(plain.Auth{User: s.SASLUser, Pass: s.SASLPassword}.AsMechanism()))
	}
	return opts
}

func franzProducerOpts(s *workload.Spec) []kgo.Opt {
	acks := kgo.LeaderAck()
	if s.Acks == "all" {
		acks = kgo.AllISRAcks()
	}
	codec := kgo.NoCompression()
	switch s.Compression {
	case "lz4":
		codec = kgo.Lz4Compression()
	case "zstd":
		codec = kgo.ZstdCompression()
	}
	opts := franzBase(s)
	switch s.Delivery {
	case workload.Idempotent: // franz-go's default
		acks = kgo.AllISRAcks()
	case workload.Transactional:
		acks = kgo.AllISRAcks()
		opts = append(opts, kgo.TransactionalID(fmt.Sprintf("bench-franz-go-%d", time.Now().UnixNano())))
	default:
		opts = append(opts, kgo.DisableIdempotentWrite())
	}
	return append(opts,
		kgo.DefaultProduceTopic(s.Topic),
		kgo.RequiredAcks(acks),
		kgo.ProducerLinger(0),
		kgo.ProducerBatchCompression(codec),
		kgo.ProducerBatchMaxBytes(1<<20),
		kgo.MaxBufferedRecords(s.BufferMsgs),
		kgo.MaxBufferedBytes(s.BufferBytes),
		kgo.RecordPartitioner(kgo.RoundRobinPartitioner()),
	)
}

func franzProduce(ctx context.Context, s *workload.Spec) (workload.Result, error) {
	pool, err := payload(s)
	if err != nil {
		return workload.Result{}, err
	}
	cl, err := kgo.NewClient(franzProducerOpts(s)...)
	if err != nil {
		return workload.Result{}, err
	}
	defer cl.Close()
	var acked, bytes atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	wg.Add(s.Messages)
	start := time.Now()
	txn := s.Delivery == workload.Transactional
	for i := 0; i < s.Messages; i++ {
		if txn && i%txnRecords(s) == 0 {
			if err := cl.BeginTransaction(); err != nil {
				return workload.Result{}, err
			}
		}
		cl.Produce(ctx, &kgo.Record{Value: value(pool, i)}, func(r *kgo.Record, err error) {
			if err != nil {
				firstErr.CompareAndSwap(nil, err)
			} else {
				acked.Add(1)
				bytes.Add(int64(len(r.Value)))
			}
			wg.Done()
		})
		if txn && (i%txnRecords(s) == txnRecords(s)-1 || i == s.Messages-1) {
			// EndTransaction wants every record of the transaction acknowledged first.
			if err := cl.Flush(ctx); err != nil {
				return workload.Result{}, err
			}
			if err := cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
				return workload.Result{}, err
			}
		}
	}
	wg.Wait()
	res := workload.Result{Messages: acked.Load(), Bytes: bytes.Load(), Seconds: time.Since(start).Seconds()}
	if err, _ := firstErr.Load().(error); err != nil {
		return res, err
	}
	return res, nil
}

func franzLatency(ctx context.Context, s *workload.Spec) (workload.Result, error) {
	pool, err := payload(s)
	if err != nil {
		return workload.Result{}, err
	}
	cl, err := kgo.NewClient(franzProducerOpts(s)...)
	if err != nil {
		return workload.Result{}, err
	}
	defer cl.Close()
	var lat workload.Latencies
	var acked, bytes atomic.Int64
	var firstErr atomic.Value
	start := time.Now()
	pace := workload.NewPacer(s)
	for i := 0; pace.Next(); i++ {
		sent := time.Now()
		cl.Produce(ctx, &kgo.Record{Value: value(pool, i)}, func(r *kgo.Record, err error) {
			lat.Acked(sent)
			if err != nil {
				firstErr.CompareAndSwap(nil, err)
				return
			}
			acked.Add(1)
			bytes.Add(int64(len(r.Value)))
		})
	}
	if err := cl.Flush(ctx); err != nil {
		return workload.Result{}, err
	}
	res := workload.Result{Messages: acked.Load(), Bytes: bytes.Load(), Seconds: time.Since(start).Seconds()}
	lat.Fill(&res, pace.Counted())
	if err, _ := firstErr.Load().(error); err != nil {
		return res, err
	}
	return res, nil
}

func franzConsumerOpts(s *workload.Spec) []kgo.Opt {
	return append(franzBase(s),
		kgo.ConsumeTopics(s.Topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxPartitionBytes(1<<20),
	)
}

func franzConsume(ctx context.Context, s *workload.Spec) (workload.Result, error) {
	start := time.Now()
	cl, err := kgo.NewClient(franzConsumerOpts(s)...)
	if err != nil {
		return workload.Result{}, err
	}
	defer cl.Close()
	prog := workload.NewProgress(s.Ends)
	tl := prog.Tally()
	err = franzDrain(ctx, cl, tl)
	tl.Flush()
	if err != nil {
		return workload.Result{}, err
	}
	return workload.Result{Messages: prog.Messages(), Bytes: prog.Bytes(), Seconds: time.Since(start).Seconds()}, nil
}

// franzDrain polls until prog is done or ctx ends.
func franzDrain(ctx context.Context, cl *kgo.Client, prog workload.Seer) error {
	for !prog.Done() {
		fs := cl.PollFetches(ctx)
		if fs.IsClientClosed() {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		fs.EachRecord(func(r *kgo.Record) { prog.Seen(r.Partition, r.Offset, len(r.Value)) })
	}
	return nil
}

func franzGroup(ctx context.Context, s *workload.Spec) (workload.Result, error) {
	return runGroup(ctx, s, func(ctx context.Context, i int, own *workload.Owners, prog *workload.Progress) error {
		opts := append(franzConsumerOpts(s),
			kgo.ConsumerGroup(s.Group),
			// The eager range assignor, as the other clients use by default; franz-go's cooperative-sticky
			// default moves partitions in two rounds, which is a different thing to time.
			kgo.Balancers(kgo.RangeBalancer()),
			kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, m map[string][]int32) { own.Add(i, m[s.Topic]) }),
			kgo.OnPartitionsRevoked(func(_ context.Context, _ *kgo.Client, m map[string][]int32) { own.Remove(i, m[s.Topic]) }),
			kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, m map[string][]int32) { own.Remove(i, m[s.Topic]) }),
			kgo.DisableAutoCommit(),
		)
		cl, err := kgo.NewClient(opts...)
		if err != nil {
			return err
		}
		defer cl.Close()
		if err := franzDrain(ctx, cl, prog); err != nil && ctx.Err() == nil {
			return err
		}
		// Stay in the group, polling, until every member is done: the group may still be rebalancing.
		for ctx.Err() == nil {
			cl.PollFetches(ctx)
		}
		return nil
	})
}

func franzGroupJoin(ctx context.Context, s *workload.Spec) (workload.Result, error) {
	return runGroupJoin(ctx, s, func(ctx context.Context, i int, cov *workload.Coverage, prog *workload.Progress) error {
		opts := append(franzConsumerOpts(s),
			kgo.ConsumerGroup(s.Group),
			kgo.Balancers(kgo.CooperativeStickyBalancer()),
			kgo.HeartbeatInterval(500*time.Millisecond),
			kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, m map[string][]int32) { cov.Gain(i, m[s.Topic]) }),
			kgo.OnPartitionsRevoked(func(_ context.Context, _ *kgo.Client, m map[string][]int32) { cov.Lose(i, m[s.Topic]) }),
			kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, m map[string][]int32) { cov.Lose(i, m[s.Topic]) }),
			// Autocommit (the default) commits what was consumed before partitions are revoked.
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

func franzConns(ctx context.Context, s *workload.Spec) (workload.Result, error) {
	start := time.Now()
	var cls []*kgo.Client
	defer func() {
		for _, cl := range cls {
			cl.Close()
		}
	}()
	for i := 0; i < s.Clients; i++ {
		cl, err := kgo.NewClient(append(franzProducerOpts(s), kgo.RecordPartitioner(kgo.ManualPartitioner()))...)
		if err != nil {
			return workload.Result{}, err
		}
		cls = append(cls, cl)
		for p := 0; p < s.Partitions; p++ {
			if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte("x"), Partition: int32(p)}).FirstErr(); err != nil {
				return workload.Result{}, err
			}
		}
	}
	res := workload.Result{Messages: int64(s.Clients * s.Partitions), Seconds: time.Since(start).Seconds()}
	workload.FillProcStats(&res)
	return res, nil
}
