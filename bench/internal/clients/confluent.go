package clients

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	ck "github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/gregorkafka/gregor/bench/internal/workload"
)

// confluent-kafka-go (librdkafka, bundled, through cgo): linger.ms=0, idempotence off, the shared buffer limit
// (queue.buffering.max.messages and .kbytes), batches up to 1 MiB, and a random partition per message
// (sticky.partitioning.linger.ms=0; librdkafka has no round-robin partitioner).
func init() {
	register(Contender{Name: "confluent", Runs: map[string]Run{
		workload.Produce: confluentProduce,
		workload.Latency: confluentLatency,
		workload.Consume: confluentConsume,
		workload.Group:   confluentGroup,
	}})
}

func confluentProducerConfig(s *workload.Spec) *ck.ConfigMap {
	acks := "1"
	if s.Acks == "all" {
		acks = "all"
	}
	codec := "none"
	if s.Compression == "lz4" {
		codec = "lz4"
	}
	cfg := ck.ConfigMap{
		"bootstrap.servers":             strings.Join(s.Bootstrap, ","),
		"client.id":                     "bench-confluent",
		"acks":                          acks,
		"compression.type":              codec,
		"linger.ms":                     0,
		"enable.idempotence":            false,
		"batch.size":                    1 << 20,
		"queue.buffering.max.messages":  s.BufferMsgs,
		"queue.buffering.max.kbytes":    max(1, s.BufferBytes>>10),
		"partitioner":                   "random",
		"sticky.partitioning.linger.ms": 0,
		"go.delivery.report.fields":     "key,value",
	}
	if s.Delivery != "" {
		cfg["enable.idempotence"], cfg["acks"] = true, "all"
	}
	if s.Delivery == workload.Transactional {
		cfg["transactional.id"] = fmt.Sprintf("bench-confluent-%d", time.Now().UnixNano())
	}
	return confluentSecurity(s, cfg)
}

// confluentSecurity adds the spec's TLS and SASL settings to cfg.
func confluentSecurity(s *workload.Spec, cfg ck.ConfigMap) *ck.ConfigMap {
	switch {
	case s.TLSCAFile != "" && s.SASLUser != "":
		cfg["security.protocol"] = "SASL_SSL"
	case s.TLSCAFile != "":
		cfg["security.protocol"] = "SSL"
	case s.SASLUser != "":
		cfg["security.protocol"] = "SASL_PLAINTEXT"
	}
	if s.TLSCAFile != "" {
		cfg["ssl.ca.location"] = s.TLSCAFile
	}
	if s.SASLUser != "" {
		cfg["sasl.mechanisms"] = "PLAIN"
		cfg["sasl.username"], cfg["sasl.password"] = s.SASLUser, s.SASLPassword
	}
	return &cfg
}

// confluentSend produces m, waiting while librdkafka's queue is full.
func confluentSend(ctx context.Context, p *ck.Producer, m *ck.Message) error {
	for {
		err := p.Produce(m, nil)
		var kerr ck.Error
		if err == nil || !errors.As(err, &kerr) || kerr.Code() != ck.ErrQueueFull {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		time.Sleep(50 * time.Microsecond)
	}
}

// confluentReports counts delivery reports from p.Events until want have arrived (want < 0: until the channel
// closes), calling each for every message.
func confluentReports(p *ck.Producer, want int, each func(m *ck.Message)) (res workload.Result, firstErr error) {
	for ev := range p.Events() {
		m, ok := ev.(*ck.Message)
		if !ok {
			continue
		}
		if each != nil {
			each(m)
		}
		if err := m.TopicPartition.Error; err != nil {
			if firstErr == nil {
				firstErr = err
			}
		} else {
			res.Messages++
			res.Bytes += int64(len(m.Value))
		}
		if want--; want == 0 {
			break
		}
	}
	return res, firstErr
}

func confluentProduce(ctx context.Context, s *workload.Spec) (workload.Result, error) {
	pool, err := payload(s)
	if err != nil {
		return workload.Result{}, err
	}
	p, err := ck.NewProducer(confluentProducerConfig(s))
	if err != nil {
		return workload.Result{}, err
	}
	defer p.Close()
	type outcome struct {
		res workload.Result
		err error
	}
	out := make(chan outcome, 1)
	go func() {
		r, err := confluentReports(p, s.Messages, nil)
		out <- outcome{r, err}
	}()
	topic := s.Topic
	txn := s.Delivery == workload.Transactional
	if txn {
		if err := p.InitTransactions(ctx); err != nil {
			return workload.Result{}, err
		}
	}
	start := time.Now()
	for i := 0; i < s.Messages; i++ {
		if txn && i%txnRecords(s) == 0 {
			if err := p.BeginTransaction(); err != nil {
				return workload.Result{}, err
			}
		}
		m := &ck.Message{TopicPartition: ck.TopicPartition{Topic: &topic, Partition: ck.PartitionAny}, Value: value(pool, i)}
		if err := confluentSend(ctx, p, m); err != nil {
			return workload.Result{}, err
		}
		if txn && (i%txnRecords(s) == txnRecords(s)-1 || i == s.Messages-1) {
			// CommitTransaction flushes the transaction's messages first.
			if err := p.CommitTransaction(ctx); err != nil {
				return workload.Result{}, err
			}
		}
	}
	o := <-out
	o.res.Seconds = time.Since(start).Seconds()
	return o.res, o.err
}

func confluentLatency(ctx context.Context, s *workload.Spec) (workload.Result, error) {
	pool, err := payload(s)
	if err != nil {
		return workload.Result{}, err
	}
	p, err := ck.NewProducer(confluentProducerConfig(s))
	if err != nil {
		return workload.Result{}, err
	}
	var lat workload.Latencies
	var mu sync.Mutex
	sent := 0
	type outcome struct {
		res workload.Result
		err error
	}
	out := make(chan outcome, 1)
	go func() {
		r, err := confluentReports(p, -1, func(m *ck.Message) { lat.Acked(m.Opaque.(time.Time)) })
		out <- outcome{r, err}
	}()
	topic := s.Topic
	start := time.Now()
	pace := workload.NewPacer(s)
	for i := 0; pace.Next(); i++ {
		m := &ck.Message{TopicPartition: ck.TopicPartition{Topic: &topic, Partition: ck.PartitionAny},
			Value: value(pool, i), Opaque: time.Now()}
		if err := confluentSend(ctx, p, m); err != nil {
			p.Close()
			return workload.Result{}, err
		}
		mu.Lock()
		sent++
		mu.Unlock()
	}
	for p.Flush(1000) > 0 && ctx.Err() == nil {
	}
	p.Close() // closes Events, which ends the report reader
	o := <-out
	o.res.Seconds = time.Since(start).Seconds()
	lat.Fill(&o.res, pace.Counted())
	return o.res, o.err
}

func confluentConsumerConfig(s *workload.Spec, group string) *ck.ConfigMap {
	cfg := ck.ConfigMap{
		"bootstrap.servers":         strings.Join(s.Bootstrap, ","),
		"client.id":                 "bench-confluent",
		"group.id":                  group,
		"enable.auto.commit":        false,
		"auto.offset.reset":         "earliest",
		"max.partition.fetch.bytes": 1 << 20,
		"fetch.wait.max.ms":         100,
		// librdkafka pauses a partition's fetching for this long whenever its local queue is over the
		// queued.min.messages threshold; the 1 s default stalls a reader that drains in milliseconds.
		"fetch.queue.backoff.ms": 10,
	}
	if d := os.Getenv("BENCH_RDKAFKA_DEBUG"); d != "" {
		cfg["debug"] = d
	}
	return confluentSecurity(s, cfg)
}

// confluentDrain polls c until prog is done or ctx ends.
func confluentDrain(ctx context.Context, c *ck.Consumer, prog workload.Seer) error {
	for !prog.Done() && ctx.Err() == nil {
		switch e := c.Poll(100).(type) {
		case *ck.Message:
			if e.TopicPartition.Error != nil {
				return e.TopicPartition.Error
			}
			prog.Seen(e.TopicPartition.Partition, int64(e.TopicPartition.Offset), len(e.Value))
		case ck.Error:
			if e.IsFatal() {
				return e
			}
		}
	}
	return nil
}

func confluentConsume(ctx context.Context, s *workload.Spec) (workload.Result, error) {
	start := time.Now()
	c, err := ck.NewConsumer(confluentConsumerConfig(s, "bench-assign-"+s.Topic))
	if err != nil {
		return workload.Result{}, err
	}
	defer c.Close()
	topic := s.Topic
	var tps []ck.TopicPartition
	for p := range s.Ends {
		tps = append(tps, ck.TopicPartition{Topic: &topic, Partition: p, Offset: ck.OffsetBeginning})
	}
	if err := c.Assign(tps); err != nil {
		return workload.Result{}, err
	}
	prog := workload.NewProgress(s.Ends)
	tl := prog.Tally()
	err = confluentDrain(ctx, c, tl)
	tl.Flush()
	if err != nil {
		return workload.Result{}, err
	}
	if !prog.Done() {
		return workload.Result{}, ctx.Err()
	}
	return workload.Result{Messages: prog.Messages(), Bytes: prog.Bytes(), Seconds: time.Since(start).Seconds()}, nil
}

func confluentGroup(ctx context.Context, s *workload.Spec) (workload.Result, error) {
	return runGroup(ctx, s, func(ctx context.Context, i int, own *workload.Owners, prog *workload.Progress) error {
		c, err := ck.NewConsumer(confluentConsumerConfig(s, s.Group))
		if err != nil {
			return err
		}
		defer c.Close()
		err = c.Subscribe(s.Topic, func(c *ck.Consumer, ev ck.Event) error {
			switch e := ev.(type) {
			case ck.AssignedPartitions:
				var ids []int32
				for _, tp := range e.Partitions {
					ids = append(ids, tp.Partition)
				}
				own.Set(i, ids)
				return c.Assign(e.Partitions)
			case ck.RevokedPartitions:
				own.Remove(i, nil)
				return c.Unassign()
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("subscribe: %w", err)
		}
		if err := confluentDrain(ctx, c, prog); err != nil {
			return err
		}
		// Keep serving the group (rebalance callbacks run inside Poll) until every member is done.
		for ctx.Err() == nil {
			c.Poll(100)
		}
		return nil
	})
}
