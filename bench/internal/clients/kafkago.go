package clients

import (
	"context"
	"errors"
	"sync"
	"time"

	kgo "github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/compress"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"

	"github.com/gregorkafka/gregor/bench/internal/workload"
)

// kafka-go: the Writer in async mode with a completion callback, round-robin balancing (its default), batches of
// up to 1 MiB and a 1 ms batch timeout: it has no "send when idle" mode, and its default timeout is one second.
// For latency runs the batch size is one message, which sends each at once. It has no buffer limit in async
// mode, so the adapter holds at most the shared limit in flight. Readers are one per partition (a Reader
// without a group reads one partition) or, for groups, its ConsumerGroup API.
func init() {
	register(Contender{Name: "kafka-go", Runs: map[string]Run{
		workload.Produce: kafkagoProduce,
		workload.Latency: kafkagoLatency,
		workload.Consume: kafkagoConsume,
		workload.Group:   kafkagoGroup,
	}})
}

func kafkagoWriter(s *workload.Spec, batchSize int, done func([]kgo.Message, error)) *kgo.Writer {
	w := &kgo.Writer{
		Addr:         kgo.TCP(s.Bootstrap...),
		Topic:        s.Topic,
		Balancer:     &kgo.RoundRobin{},
		RequiredAcks: kgo.RequireOne,
		Async:        true,
		BatchSize:    batchSize,
		BatchBytes:   1 << 20,
		BatchTimeout: time.Millisecond,
		Completion:   done,
	}
	if s.Acks == "all" {
		w.RequiredAcks = kgo.RequireAll
	}
	if s.Compression == "lz4" {
		w.Compression = compress.Lz4
	}
	if tc, mech := mustTLS(s), kafkagoSASL(s); tc != nil || mech != nil {
		w.Transport = &kgo.Transport{TLS: tc, SASL: mech}
	}
	return w
}

// kafkagoSASL is the spec's SASL mechanism, nil for none.
func kafkagoSASL(s *workload.Spec) sasl.Mechanism {
	if s.SASLUser == "" {
		return nil
	}
	return plain.Mechanism{Username: s.SASLUser, Password: s.SASLPassword}
}

// kafkagoDialer dials with the spec's TLS and SASL settings.
func kafkagoDialer(s *workload.Spec) *kgo.Dialer {
	return &kgo.Dialer{Timeout: 10 * time.Second, DualStack: true, TLS: mustTLS(s), SASLMechanism: kafkagoSASL(s)}
}

func kafkagoProduce(ctx context.Context, s *workload.Spec) (workload.Result, error) {
	pool, err := payload(s)
	if err != nil {
		return workload.Result{}, err
	}
	slots := make(chan struct{}, s.BufferMsgs)
	var mu sync.Mutex
	var res workload.Result
	var firstErr error
	var wg sync.WaitGroup
	wg.Add(s.Messages)
	w := kafkagoWriter(s, max(1, (1<<20)/(s.Size+64)), func(ms []kgo.Message, err error) {
		mu.Lock()
		if err != nil && firstErr == nil {
			firstErr = err
		}
		if err == nil {
			res.Messages += int64(len(ms))
			for _, m := range ms {
				res.Bytes += int64(len(m.Value))
			}
		}
		mu.Unlock()
		for range ms {
			<-slots
			wg.Done()
		}
	})
	defer w.Close()
	start := time.Now()
	for i := 0; i < s.Messages; i++ {
		slots <- struct{}{}
		if err := w.WriteMessages(ctx, kgo.Message{Value: value(pool, i)}); err != nil {
			return res, err
		}
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	res.Seconds = time.Since(start).Seconds()
	return res, firstErr
}

func kafkagoLatency(ctx context.Context, s *workload.Spec) (workload.Result, error) {
	pool, err := payload(s)
	if err != nil {
		return workload.Result{}, err
	}
	var lat workload.Latencies
	var mu sync.Mutex
	var res workload.Result
	var firstErr error
	w := kafkagoWriter(s, 1, func(ms []kgo.Message, err error) {
		mu.Lock()
		defer mu.Unlock()
		for _, m := range ms {
			lat.Acked(m.WriterData.(time.Time))
			if err == nil {
				res.Messages++
				res.Bytes += int64(len(m.Value))
			}
		}
		if err != nil && firstErr == nil {
			firstErr = err
		}
	})
	start := time.Now()
	pace := workload.NewPacer(s)
	for i := 0; pace.Next(); i++ {
		if err := w.WriteMessages(ctx, kgo.Message{Value: value(pool, i), WriterData: time.Now()}); err != nil {
			return res, err
		}
	}
	if err := w.Close(); err != nil {
		return res, err
	}
	mu.Lock()
	defer mu.Unlock()
	res.Seconds = time.Since(start).Seconds()
	lat.Fill(&res, pace.Counted())
	return res, firstErr
}

func kafkagoReader(s *workload.Spec, partition int32) *kgo.Reader {
	return kgo.NewReader(kgo.ReaderConfig{
		Brokers:   s.Bootstrap,
		Topic:     s.Topic,
		Partition: int(partition),
		MinBytes:  1,
		MaxBytes:  1 << 20,
		MaxWait:   100 * time.Millisecond,
		Dialer:    kafkagoDialer(s),
	})
}

// kafkagoRead reads one partition from offset until ctx ends or prog is done.
func kafkagoRead(ctx context.Context, s *workload.Spec, partition int32, offset int64, prog workload.Seer) error {
	r := kafkagoReader(s, partition)
	defer r.Close()
	if err := r.SetOffset(offset); err != nil {
		return err
	}
	for !prog.Done() {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, context.Canceled) {
				return nil
			}
			return err
		}
		prog.Seen(int32(m.Partition), m.Offset, len(m.Value))
	}
	return nil
}

func kafkagoConsume(ctx context.Context, s *workload.Spec) (workload.Result, error) {
	start := time.Now()
	prog := workload.NewProgress(s.Ends)
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, len(s.Ends))
	for p := range s.Ends {
		// A Tally per reader: each flushes as its partition reaches its end, before the Progress can finish.
		go func() { errs <- kafkagoRead(rctx, s, p, kgo.FirstOffset, prog.Tally()) }()
	}
	select {
	case <-prog.Wait():
	case err := <-errs:
		if err != nil {
			return workload.Result{}, err
		}
		<-prog.Wait()
	case <-ctx.Done():
		return workload.Result{}, ctx.Err()
	}
	return workload.Result{Messages: prog.Messages(), Bytes: prog.Bytes(), Seconds: time.Since(start).Seconds()}, nil
}

func kafkagoGroup(ctx context.Context, s *workload.Spec) (workload.Result, error) {
	return runGroup(ctx, s, func(ctx context.Context, i int, own *workload.Owners, prog *workload.Progress) error {
		g, err := kgo.NewConsumerGroup(kgo.ConsumerGroupConfig{
			ID: s.Group, Brokers: s.Bootstrap, Topics: []string{s.Topic}, StartOffset: kgo.FirstOffset,
		})
		if err != nil {
			return err
		}
		defer g.Close()
		failures := 0
		for {
			gen, err := g.Next(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				// Next surfaces a rebalance that began while it joined (REBALANCE_IN_PROGRESS) as an error;
				// joining again is the expected response.
				if failures++; failures > 20 {
					return err
				}
				time.Sleep(50 * time.Millisecond)
				continue
			}
			var ids []int32
			for _, a := range gen.Assignments[s.Topic] {
				ids = append(ids, int32(a.ID))
				gen.Start(func(gctx context.Context) {
					_ = kafkagoRead(gctx, s, int32(a.ID), a.Offset, prog)
				})
			}
			own.Set(i, ids)
		}
	})
}
