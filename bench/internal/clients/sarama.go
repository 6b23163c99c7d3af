package clients

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"

	"github.com/gregorkafka/gregor/bench/internal/workload"
)

// sarama: the AsyncProducer with successes returned (to count acknowledgements), no flush thresholds (it sends
// as soon as it can), round-robin partitioning, idempotence off (its default). It has no total buffer limit, so
// the adapter holds at most the shared limit of messages in flight, as the other clients do by configuration.
func init() {
	register(Contender{Name: "sarama", Runs: map[string]Run{
		workload.Produce: saramaProduce,
		workload.Latency: saramaLatency,
		workload.Consume: saramaConsume,
		workload.Group:   saramaGroup,
		workload.Conns:   saramaConns,
	}})
}

func saramaConfig(s *workload.Spec) *sarama.Config {
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V3_9_0_0
	cfg.ClientID = "bench-sarama"
	cfg.Producer.RequiredAcks = sarama.WaitForLocal
	if s.Acks == "all" {
		cfg.Producer.RequiredAcks = sarama.WaitForAll
	}
	if s.Compression == "lz4" {
		cfg.Producer.Compression = sarama.CompressionLZ4
	}
	if s.Delivery != "" {
		// Sarama's idempotent producer allows one request in flight per broker.
		cfg.Producer.Idempotent, cfg.Net.MaxOpenRequests = true, 1
		cfg.Producer.RequiredAcks = sarama.WaitForAll
	}
	if s.Delivery == workload.Transactional {
		cfg.Producer.Transaction.ID = fmt.Sprintf("bench-sarama-%d", time.Now().UnixNano())
	}
	cfg.Producer.Return.Successes = true
	cfg.Producer.Return.Errors = true
	cfg.Producer.Partitioner = sarama.NewRoundRobinPartitioner
	cfg.Producer.MaxMessageBytes = 1 << 20
	cfg.Consumer.Fetch.Default = 1 << 20
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	cfg.Consumer.Offsets.AutoCommit.Enable = false
	if tc := mustTLS(s); tc != nil {
		cfg.Net.TLS.Enable, cfg.Net.TLS.Config = true, tc
	}
	if s.SASLUser != "" {
		cfg.Net.SASL.Enable = true
		cfg.Net.SASL.Mechanism = sarama.SASLTypePlaintext
		cfg.Net.SASL.User, cfg.Net.SASL.Password = s.SASLUser, s.SASLPassword
	}
	return cfg
}

// saramaPump sends messages produced by next (nil ends) through an AsyncProducer, at most limit in flight, and
// calls done for each outcome.
func saramaPump(p sarama.AsyncProducer, limit int, next func(i int) *sarama.ProducerMessage,
	done func(m *sarama.ProducerMessage, err error)) {
	slots := make(chan struct{}, limit)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for m := range p.Successes() {
			done(m, nil)
			<-slots
		}
	}()
	go func() {
		defer wg.Done()
		for e := range p.Errors() {
			done(e.Msg, e.Err)
			<-slots
		}
	}()
	for i := 0; ; i++ {
		m := next(i)
		if m == nil {
			break
		}
		slots <- struct{}{}
		p.Input() <- m
	}
	p.AsyncClose()
	wg.Wait()
}

func saramaProduce(ctx context.Context, s *workload.Spec) (workload.Result, error) {
	pool, err := payload(s)
	if err != nil {
		return workload.Result{}, err
	}
	p, err := sarama.NewAsyncProducer(s.Bootstrap, saramaConfig(s))
	if err != nil {
		return workload.Result{}, err
	}
	var res workload.Result
	var firstErr error
	start := time.Now()
	txn := s.Delivery == workload.Transactional
	saramaPump(p, s.BufferMsgs, func(i int) *sarama.ProducerMessage {
		if txn && i > 0 && (i%txnRecords(s) == 0 || i >= s.Messages) && firstErr == nil {
			// CommitTxn flushes what the transaction holds first.
			firstErr = p.CommitTxn()
		}
		if i >= s.Messages || ctx.Err() != nil || txn && firstErr != nil {
			return nil
		}
		if txn && i%txnRecords(s) == 0 {
			if err := p.BeginTxn(); err != nil {
				firstErr = err
				return nil
			}
		}
		return &sarama.ProducerMessage{Topic: s.Topic, Value: sarama.ByteEncoder(value(pool, i))}
	}, func(m *sarama.ProducerMessage, err error) {
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			return
		}
		atomic.AddInt64(&res.Messages, 1)
		atomic.AddInt64(&res.Bytes, int64(m.Value.Length()))
	})
	res.Seconds = time.Since(start).Seconds()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return res, firstErr
}

func saramaLatency(ctx context.Context, s *workload.Spec) (workload.Result, error) {
	pool, err := payload(s)
	if err != nil {
		return workload.Result{}, err
	}
	p, err := sarama.NewAsyncProducer(s.Bootstrap, saramaConfig(s))
	if err != nil {
		return workload.Result{}, err
	}
	var lat workload.Latencies
	var res workload.Result
	var firstErr error
	var mu sync.Mutex
	start := time.Now()
	pace := workload.NewPacer(s)
	saramaPump(p, s.BufferMsgs, func(i int) *sarama.ProducerMessage {
		if ctx.Err() != nil || !pace.Next() {
			return nil
		}
		return &sarama.ProducerMessage{Topic: s.Topic, Value: sarama.ByteEncoder(value(pool, i)), Metadata: time.Now()}
	}, func(m *sarama.ProducerMessage, err error) {
		lat.Acked(m.Metadata.(time.Time))
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			return
		}
		res.Messages++
		res.Bytes += int64(m.Value.Length())
	})
	res.Seconds = time.Since(start).Seconds()
	lat.Fill(&res, pace.Counted())
	return res, firstErr
}

func saramaConsume(ctx context.Context, s *workload.Spec) (workload.Result, error) {
	start := time.Now()
	c, err := sarama.NewConsumer(s.Bootstrap, saramaConfig(s))
	if err != nil {
		return workload.Result{}, err
	}
	defer c.Close()
	prog := workload.NewProgress(s.Ends)
	for p := range s.Ends {
		pc, err := c.ConsumePartition(s.Topic, p, sarama.OffsetOldest)
		if err != nil {
			return workload.Result{}, err
		}
		defer pc.AsyncClose()
		go func() {
			// A Tally per partition: it flushes as the partition reaches its end, before the Progress can finish.
			tl := prog.Tally()
			for m := range pc.Messages() {
				tl.Seen(m.Partition, m.Offset, len(m.Value))
			}
		}()
	}
	select {
	case <-prog.Wait():
	case <-ctx.Done():
		return workload.Result{}, ctx.Err()
	}
	return workload.Result{Messages: prog.Messages(), Bytes: prog.Bytes(), Seconds: time.Since(start).Seconds()}, nil
}

type saramaMember struct {
	i    int
	s    *workload.Spec
	own  *workload.Owners
	prog *workload.Progress
}

func (h saramaMember) Setup(sess sarama.ConsumerGroupSession) error {
	h.own.Set(h.i, sess.Claims()[h.s.Topic])
	return nil
}

func (h saramaMember) Cleanup(sarama.ConsumerGroupSession) error {
	h.own.Remove(h.i, nil)
	return nil
}

func (h saramaMember) ConsumeClaim(sess sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	for m := range claim.Messages() {
		h.prog.Seen(m.Partition, m.Offset, len(m.Value))
	}
	return nil
}

func saramaGroup(ctx context.Context, s *workload.Spec) (workload.Result, error) {
	return runGroup(ctx, s, func(ctx context.Context, i int, own *workload.Owners, prog *workload.Progress) error {
		g, err := sarama.NewConsumerGroup(s.Bootstrap, s.Group, saramaConfig(s))
		if err != nil {
			return err
		}
		defer g.Close()
		h := saramaMember{i: i, s: s, own: own, prog: prog}
		for ctx.Err() == nil {
			if err := g.Consume(ctx, []string{s.Topic}, h); err != nil && !errors.Is(err, sarama.ErrClosedConsumerGroup) {
				return err
			}
		}
		return nil
	})
}

func saramaConns(ctx context.Context, s *workload.Spec) (workload.Result, error) {
	start := time.Now()
	var ps []sarama.SyncProducer
	defer func() {
		for _, p := range ps {
			p.Close()
		}
	}()
	cfg := saramaConfig(s)
	cfg.Producer.Partitioner = sarama.NewManualPartitioner
	for i := 0; i < s.Clients; i++ {
		p, err := sarama.NewSyncProducer(s.Bootstrap, cfg)
		if err != nil {
			return workload.Result{}, err
		}
		ps = append(ps, p)
		for part := 0; part < s.Partitions; part++ {
			if _, _, err := p.SendMessage(&sarama.ProducerMessage{Topic: s.Topic, Partition: int32(part), Value: sarama.StringEncoder("x")}); err != nil {
				return workload.Result{}, err
			}
		}
	}
	res := workload.Result{Messages: int64(s.Clients * s.Partitions), Seconds: time.Since(start).Seconds()}
	workload.FillProcStats(&res)
	return res, nil
}
