package clients

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/handler/eventloop"
	"github.com/gregorkafka/gregor/handler/goroutine"
	"github.com/gregorkafka/gregor/kafka"
	"github.com/gregorkafka/gregor/sasl"

	"github.com/gregorkafka/gregor/bench/internal/workload"
)

// gregor runs with either runtime; everything else is its defaults except the shared buffer limit, the codec and
// the acks. Its producer has no linger by default: it sends at once and batches what piles up while a request
// is in flight.
func init() {
	for _, v := range []struct {
		name string
		newH func() (handler.Handler, error)
	}{
		{"gregor", func() (handler.Handler, error) { return goroutine.New(), nil }},
		{"gregor-eventloop", func() (handler.Handler, error) { return eventloop.New() }},
	} {
		g := gregorClient{newHandler: v.newH}
		register(Contender{Name: v.name, Runs: map[string]Run{
			workload.Produce: g.produce,
			workload.Consume: g.consume,
			workload.Latency: g.latency,
			workload.Conns:   g.conns,
			workload.Group:   g.group,
			// cooperative-sticky
			workload.GroupJoin:    g.groupJoin,
			workload.GroupJoin848: g.groupJoin848,
		}})
	}
}

type gregorClient struct {
	newHandler func() (handler.Handler, error)
}

var quiet = slog.New(slog.NewTextHandler(discard{}, &slog.HandlerOptions{Level: slog.LevelError}))

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// client opens a client on a fresh handler; the returned func closes both.
func (g gregorClient) client(ctx context.Context, s *workload.Spec) (*kafka.Client, func(), error) {
	h, err := g.newHandler()
	if err != nil {
		return nil, nil, err
	}
	cfg, err := gregorConfig(s, h)
	if err != nil {
		h.Close()
		return nil, nil, err
	}
	cl, err := kafka.NewClient(ctx, cfg)
	if err != nil {
		h.Close()
		return nil, nil, err
	}
	return cl, func() { cl.Close(); h.Close() }, nil
}

// gregorConfig is the client configuration every gregor run uses, over TLS when the spec asks for it.
func gregorConfig(s *workload.Spec, h handler.Handler) (kafka.Config, error) {
	cfg := kafka.Config{Hosts: s.Bootstrap, Handler: h, Logger: quiet, ClientID: "bench-gregor"}
	var err error
	if cfg.TLS, err = tlsConfig(s); err != nil {
		return cfg, err
	}
	if s.SASLUser != "" {
		cfg.SASL = &sasl.Plain{Username: s.SASLUser, Password: s.SASLPassword}
	}
	return cfg, nil
}

func gregorProducerConfig(s *workload.Spec) kafka.ProducerConfig {
	cfg := kafka.ProducerConfig{
		RequiredAcks:      kafka.AcksLeader,
		MaxQueuedMessages: s.BufferMsgs,
		DeliveryReports:   true,
		// The report compares every client with idempotence off, but in the cells that measure it.
		Idempotence: kafka.IdempotenceOff,
	}
	if s.Acks == "all" {
		cfg.RequiredAcks = kafka.AcksAll
	}
	switch s.Delivery {
	case workload.Idempotent:
		cfg.RequiredAcks, cfg.Idempotence = kafka.AcksAll, kafka.IdempotenceOn
	case workload.Transactional:
		cfg.RequiredAcks, cfg.Idempotence = kafka.AcksAll, kafka.IdempotenceOn
		cfg.TransactionalID = fmt.Sprintf("bench-gregor-%d", time.Now().UnixNano())
	}
	switch s.Compression {
	case "lz4":
		cfg.Compression = kafka.CompressionLZ4
	case "zstd":
		cfg.Compression = kafka.CompressionZstd
	}
	return cfg
}

// producer opens a client and an asynchronous producer for s's topic;
// done closes both, the producer first.
func (g gregorClient) producer(ctx context.Context, s *workload.Spec) (*kafka.Producer, func(), error) {
	cl, closeClient, err := g.client(ctx, s)
	if err != nil {
		return nil, nil, err
	}
	t, err := cl.Topic(ctx, s.Topic)
	if err != nil {
		closeClient()
		return nil, nil, err
	}
	p, err := t.Producer(gregorProducerConfig(s))
	if err != nil {
		closeClient()
		return nil, nil, err
	}
	return p, func() {
		p.Close()
		closeClient()
	}, nil
}

func (g gregorClient) produce(ctx context.Context, s *workload.Spec) (workload.Result, error) {
	pool, err := payload(s)
	if err != nil {
		return workload.Result{}, err
	}
	p, done, err := g.producer(ctx, s)
	if err != nil {
		return workload.Result{}, err
	}
	defer done()

	var res workload.Result
	var firstErr error
	reported := make(chan struct{})
	go func() {
		defer close(reported)
		for n := 0; n < s.Messages; n++ {
			r, ok := <-p.Reports()
			if !ok {
				return
			}
			if r.Err != nil && firstErr == nil {
				firstErr = r.Err
			}
			res.Messages++
			res.Bytes += int64(len(r.Message.Value))
		}
	}()
	start := time.Now()
	txn := s.Delivery == workload.Transactional
	for i := 0; i < s.Messages; i++ {
		if txn && i%txnRecords(s) == 0 {
			if err := p.BeginTransaction(ctx); err != nil {
				return res, err
			}
		}
		if err := p.Produce(ctx, kafka.Message{Value: value(pool, i)}); err != nil {
			return res, err
		}
		if txn && (i%txnRecords(s) == txnRecords(s)-1 || i == s.Messages-1) {
			if err := p.CommitTransaction(ctx); err != nil {
				return res, err
			}
		}
	}
	select {
	case <-reported:
	case <-ctx.Done():
		return res, ctx.Err()
	}
	res.Seconds = time.Since(start).Seconds()
	return res, firstErr
}

func (g gregorClient) latency(ctx context.Context, s *workload.Spec) (workload.Result, error) {
	pool, err := payload(s)
	if err != nil {
		return workload.Result{}, err
	}
	p, done, err := g.producer(ctx, s)
	if err != nil {
		return workload.Result{}, err
	}
	defer done()

	var lat workload.Latencies
	var res workload.Result
	var firstErr error
	var mu sync.Mutex
	reports := make(chan struct{})
	go func() {
		defer close(reports)
		for r := range p.Reports() {
			lat.Acked(r.Message.Timestamp)
			mu.Lock()
			if r.Err != nil && firstErr == nil {
				firstErr = r.Err
			}
			res.Messages++
			res.Bytes += int64(len(r.Message.Value))
			mu.Unlock()
		}
	}()
	// The message's own Timestamp carries its send time to the report.
	start := time.Now()
	pace := workload.NewPacer(s)
	for i := 0; pace.Next(); i++ {
		if err := p.Produce(ctx, kafka.Message{Value: value(pool, i), Timestamp: time.Now()}); err != nil {
			return res, err
		}
	}
	if err := p.Close(); err != nil {
		return res, err
	}
	<-reports
	res.Seconds = time.Since(start).Seconds()
	lat.Fill(&res, pace.Counted())
	mu.Lock()
	defer mu.Unlock()
	return res, firstErr
}

func (g gregorClient) consume(ctx context.Context, s *workload.Spec) (workload.Result, error) {
	cl, done, err := g.client(ctx, s)
	if err != nil {
		return workload.Result{}, err
	}
	defer done()
	t, err := cl.Topic(ctx, s.Topic)
	if err != nil {
		return workload.Result{}, err
	}
	start := time.Now()
	c, err := t.SimpleConsumer(consumerConfig(s))
	if err != nil {
		return workload.Result{}, err
	}
	defer c.Stop(context.Background())
	prog := workload.NewProgress(s.Ends)
	tl := prog.Tally()
	for !tl.Done() {
		m, err := c.Consume(ctx)
		if err != nil {
			return workload.Result{}, err
		}
		tl.Seen(m.Partition, m.Offset, len(m.Value))
	}
	tl.Flush()
	return workload.Result{Messages: prog.Messages(), Bytes: prog.Bytes(), Seconds: time.Since(start).Seconds()}, nil
}

// conns opens s.Clients clients and has each produce one message to every partition, so that each holds its
// connections to every leader, then reports the process's goroutines, threads, memory and sockets. The clients
// share one handler, as a service running many clients would (an event loop serves any number of connections).
func (g gregorClient) conns(ctx context.Context, s *workload.Spec) (workload.Result, error) {
	var closers []func()
	defer func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}()
	h, err := g.newHandler()
	if err != nil {
		return workload.Result{}, err
	}
	closers = append(closers, func() { h.Close() })
	fetches := &fetchesInFlight{}
	topics := make([]*kafka.Topic, 0, s.Clients)
	start := time.Now()
	for i := 0; i < s.Clients; i++ {
		ccfg, err := gregorConfig(s, h)
		if err != nil {
			return workload.Result{}, err
		}
		if s.InFlight > 0 {
			ccfg.Hooks = append(ccfg.Hooks, fetches)
		}
		cl, err := kafka.NewClient(ctx, ccfg)
		if err != nil {
			return workload.Result{}, err
		}
		closers = append(closers, func() { cl.Close() })
		t, err := cl.Topic(ctx, s.Topic)
		if err != nil {
			return workload.Result{}, err
		}
		cfg := gregorProducerConfig(s)
		cfg.DeliveryReports = false
		cfg.Sync = true
		cfg.Partitioner = kafka.ManualPartitioner()
		p, err := t.Producer(cfg)
		if err != nil {
			return workload.Result{}, err
		}
		closers = append(closers, func() { p.Close() })
		for _, part := range t.Partitions() {
			if err := p.Produce(ctx, kafka.Message{Value: []byte("x"), Partition: part.ID()}); err != nil {
				return workload.Result{}, fmt.Errorf("client %d partition %d: %w", i, part.ID(), err)
			}
		}
		topics = append(topics, t)
	}
	if s.InFlight > 0 {
		stop, err := holdFetches(ctx, s, topics, fetches)
		closers = append(closers, stop)
		if err != nil {
			return workload.Result{}, err
		}
	}
	res := workload.Result{Messages: int64(s.Clients * s.Partitions), Seconds: time.Since(start).Seconds()}
	workload.FillProcStats(&res)
	return res, nil
}

// holdFetches has every client keep s.InFlight requests in flight: as many consumers at the end of the
// topic's partitions, each long-polling its leader (brokers answer a connection's requests one at a time, so
// those queued behind a held Fetch wait too). It returns once they all are in flight; stop stops the consumers.
func holdFetches(ctx context.Context, s *workload.Spec, topics []*kafka.Topic, fetches *fetchesInFlight) (stop func(), err error) {
	var mu sync.Mutex
	var consumers []*kafka.SimpleConsumer
	stop = func() {
		for _, c := range consumers {
			c.Stop(context.Background())
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(topics))
	for _, t := range topics {
		wg.Add(1)
		go func() {
			defer wg.Done()
			parts := t.Partitions()
			for j := range s.InFlight {
				c, err := t.SimpleConsumer(kafka.ConsumerConfig{
					Partitions:      []int32{parts[j%len(parts)].ID()},
					AutoOffsetReset: kafka.OffsetLatest,
					FetchWaitMax:    time.Minute,
				})
				if err == nil {
					err = c.Start(ctx)
				}
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				consumers = append(consumers, c)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return stop, err
	}
	want := int64(len(topics) * s.InFlight)
	for fetches.n.Load() < want {
		select {
		case <-ctx.Done():
			return stop, fmt.Errorf("%d of %d fetches in flight: %w", fetches.n.Load(), want, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
	return stop, nil
}

// fetchesInFlight counts the Fetch requests written and not yet answered.
type fetchesInFlight struct{ n atomic.Int64 }

func (f *fetchesInFlight) OnBrokerWrite(e kafka.BrokerWriteEvent) {
	if e.API() == "Fetch" && e.Err == nil {
		f.n.Add(1)
	}
}

func (f *fetchesInFlight) OnBrokerRead(e kafka.BrokerReadEvent) {
	if e.API() == "Fetch" {
		f.n.Add(-1)
	}
}

// consumerConfig is what every gregor consumer here starts from: from the earliest offset, and able to fetch the
// 1 MiB per partition (its default FetchMessageMaxBytes) that every client's consumer here may. QueuedMaxMessages
// (pykafka's default, 2,000) bounds a fetch in records, which for 100 B records is about 220 KB a partition; so it
// is raised to a fetch's worth of the cell's values, never below the default.
func consumerConfig(s *workload.Spec) kafka.ConsumerConfig {
	return kafka.ConsumerConfig{
		AutoOffsetReset:   kafka.OffsetEarliest,
		QueuedMaxMessages: max(kafka.DefaultQueuedMaxMessages, kafka.DefaultFetchMessageMaxBytes/max(s.Size, 1)),
	}
}

// group runs managed balanced consumers (the group coordinator's classic protocol, as the other clients use),
// one client each. gregor has no assignment callback that fires on the first assignment, so ownership is read
// from Partitions every millisecond.
func (g gregorClient) group(ctx context.Context, s *workload.Spec) (workload.Result, error) {
	return runGroup(ctx, s, func(ctx context.Context, i int, own *workload.Owners, prog *workload.Progress) error {
		return g.member(ctx, s, kafka.BalancedConsumerConfig{
			ConsumerConfig: consumerConfig(s),
		}, prog, func(b *kafka.BalancedConsumer) {
			go func() {
				tick := time.NewTicker(time.Millisecond)
				defer tick.Stop()
				for {
					select {
					case <-ctx.Done():
						return
					case <-tick.C:
						own.Set(i, b.Partitions())
					}
				}
			}()
		})
	})
}

// groupJoin runs cooperative-sticky balanced consumers, one client each, reporting ownership from the
// assignment callbacks, which under cooperative rebalancing name only what changes.
func (g gregorClient) groupJoin(ctx context.Context, s *workload.Spec) (workload.Result, error) {
	return g.joining(ctx, s, kafka.BalancedConsumerConfig{
		Assignor:          kafka.CooperativeStickyAssignor(),
		HeartbeatInterval: 500 * time.Millisecond,
	})
}

// joining runs groupJoin's members with cfg: AutoCommit on (it commits what was consumed before partitions are
// revoked, as franz-go's default does) and ownership reported from the callbacks.
func (g gregorClient) joining(ctx context.Context, s *workload.Spec, cfg kafka.BalancedConsumerConfig) (workload.Result, error) {
	return runGroupJoin(ctx, s, func(ctx context.Context, i int, cov *workload.Coverage, prog *workload.Progress) error {
		cfg := cfg
		cfg.ConsumerConfig = consumerConfig(s)
		cfg.ConsumerConfig.AutoCommit = true
		cfg.AfterAssignCallback = func(_ context.Context, ps []int32) { cov.Gain(i, ps) }
		cfg.BeforeRevokeCallback = func(_ context.Context, ps []int32) { cov.Lose(i, ps) }
		cfg.LostCallback = func(_ context.Context, ps []int32) { cov.Lose(i, ps) }
		return g.member(ctx, s, cfg, prog, nil)
	})
}

// member runs one balanced consumer on a client of its own until the workload has seen every record, then
// waits for the run to end. started, when set, is given the consumer before it consumes.
func (g gregorClient) member(ctx context.Context, s *workload.Spec, cfg kafka.BalancedConsumerConfig, prog *workload.Progress, started func(*kafka.BalancedConsumer)) error {
	cl, done, err := g.client(ctx, s)
	if err != nil {
		return err
	}
	defer done()
	t, err := cl.Topic(ctx, s.Topic)
	if err != nil {
		return err
	}
	b, err := t.BalancedConsumer(s.Group, cfg)
	if err != nil {
		return err
	}
	defer b.Stop(context.Background())
	if started != nil {
		started(b)
	}
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
}
