package kafka

import "context"

// SyncProducer produces one message at a time and waits for each to be
// acknowledged, as pykafka's Producer with sync=True. Concurrent calls
// share requests, so many goroutines producing through one SyncProducer
// still get batching. It is safe for concurrent use.
type SyncProducer struct {
	p *Producer
}

// SyncProducer returns a started synchronous producer for the topic.
// cfg.Sync is implied; cfg.DeliveryReports and cfg.ManualStart are
// ignored. An invalid cfg gives a *ConfigError.
func (t *Topic) SyncProducer(cfg ProducerConfig) (*SyncProducer, error) {
	cfg.Sync, cfg.ManualStart = true, false
	p, err := t.Producer(cfg)
	if err != nil {
		return nil, err
	}
	return &SyncProducer{p: p}, nil
}

// Produce sends msg and waits until it is acknowledged, returning its
// partition and offset (-1 with AcksNone). A failed delivery returns the
// error a DeliveryReport would carry; a refused message, the error
// Producer.Produce returns. If ctx ends first, Produce returns ctx.Err()
// and the message may still be delivered.
func (s *SyncProducer) Produce(ctx context.Context, msg Message) (partition int32, offset int64, err error) {
	m, err := s.p.produceWait(ctx, msg)
	if err != nil {
		return m.Partition, -1, err
	}
	return m.Partition, m.Offset, nil
}

// Topic returns the producer's topic.
func (s *SyncProducer) Topic() *Topic { return s.p.t }

// Close stops the producer; see Producer.Close.
func (s *SyncProducer) Close() error { return s.p.Close() }
