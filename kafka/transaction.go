package kafka

import (
	"context"
	"errors"
	"sync"
	"time"
)

// TransactionConfig configures a Transaction. The zero value of a field
// means its documented default.
type TransactionConfig struct {
	// TransactionalID identifies the transactions across restarts of the
	// application: a new Transaction (or producer) with the same id fences
	// the old one. Required.
	TransactionalID string
	// TransactionTimeout is how long a transaction may stay open before the
	// coordinator aborts it. Default DefaultTransactionTimeout.
	TransactionTimeout time.Duration
}

// Transaction writes to several topics atomically: producers taken from it
// with Producer, one per topic, share its transactional id, producer id
// and epoch, and its transactions, which commit or abort everything they
// wrote on every topic together (with consumer offsets sent by
// SendOffsets). A producer with ProducerConfig.TransactionalID is the
// one-topic case.
//
//	tx, _ := client.Transaction(kafka.TransactionConfig{TransactionalID: "billing-1"})
//	invoices, _ := tx.Producer(invoicesTopic, kafka.ProducerConfig{})
//	audit, _ := tx.Producer(auditTopic, kafka.ProducerConfig{})
//	tx.Begin(ctx)
//	invoices.Produce(ctx, inv)
//	audit.Produce(ctx, entry)
//	err := tx.Commit(ctx) // both, or (tx.Abort) neither
//
// A producer's own transaction methods (BeginTransaction, ...) act on its
// Transaction. Producers are taken between transactions; Stop aborts one
// left open and stops them all.
type Transaction struct {
	s *txnSession

	mu        sync.Mutex
	producers []*Producer
	stopped   bool
}

// Transaction returns a Transaction for cfg.TransactionalID. Nothing is
// sent before the first Begin, which fences older producers of the id.
// An invalid cfg gives a *ConfigError.
func (c *Client) Transaction(cfg TransactionConfig) (*Transaction, error) {
	if c.cluster.closed.Load() {
		return nil, ErrClosed
	}
	switch {
	case cfg.TransactionalID == "":
		return nil, &ConfigError{Field: "TransactionalID", Reason: "a Transaction needs a transactional id"}
	case cfg.TransactionTimeout < 0:
		return nil, &ConfigError{Field: "TransactionTimeout", Reason: "negative"}
	}
	// The producers' validation bounds the timeout.
	pcfg := ProducerConfig{TransactionalID: cfg.TransactionalID, TransactionTimeout: cfg.TransactionTimeout}
	pcfg, err := pcfg.withDefaults(&c.cluster.cfg)
	if err != nil {
		return nil, err
	}
	cl := c.cluster
	return &Transaction{s: newTxnSession(cfg.TransactionalID, pcfg.TransactionTimeout, DefaultRetryBackoff, cl, cl.h,
		cl.log.With("transactional_id", cfg.TransactionalID))}, nil
}

// Producer returns a producer of topic writing in the Transaction's
// transactions. cfg is as for Topic.Producer, with TransactionalID and
// TransactionTimeout taken from the Transaction (a different
// TransactionalID is a *ConfigError). It fails with ErrTransactionOpen
// while a transaction is open, and with ErrProducerClosed after Stop.
func (tx *Transaction) Producer(topic *Topic, cfg ProducerConfig) (*Producer, error) {
	if cfg.TransactionalID != "" && cfg.TransactionalID != tx.s.id {
		return nil, &ConfigError{Field: "TransactionalID", Reason: "a Transaction's producers take its transactional id"}
	}
	cfg.TransactionalID, cfg.TransactionTimeout = tx.s.id, tx.s.timeout
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if tx.stopped {
		return nil, ErrProducerClosed
	}
	p, err := topic.producer(cfg, tx.s)
	if err != nil {
		return nil, err
	}
	tx.producers = append(tx.producers, p)
	return p, nil
}

// Begin opens a transaction; see Producer.BeginTransaction.
func (tx *Transaction) Begin(ctx context.Context) error {
	tx.mu.Lock()
	stopped := tx.stopped
	tx.mu.Unlock()
	if stopped {
		return ErrProducerClosed
	}
	return tx.s.begin(ctx)
}

// Commit sends what every producer of the Transaction holds and commits
// it, on every topic, with the offsets sent; see
// Producer.CommitTransaction.
func (tx *Transaction) Commit(ctx context.Context) error { return tx.s.end(ctx, true) }

// Abort drops what the producers have not sent and aborts the
// transaction on every topic; see Producer.AbortTransaction.
func (tx *Transaction) Abort(ctx context.Context) error { return tx.s.end(ctx, false) }

// SendOffsets commits consumer offsets within the open transaction; see
// Producer.SendOffsetsToTransaction.
func (tx *Transaction) SendOffsets(ctx context.Context, offsets map[string]map[int32]int64, group ConsumerGroupMetadata) error {
	return tx.s.sendOffsets(ctx, offsets, group)
}

// V2 reports whether the transactions use the KIP-890 protocol
// (transaction version 2); see Producer.TransactionV2.
func (tx *Transaction) V2() bool { return tx.s.v2.Load() }

// Stop aborts a transaction left open, then stops every producer of the
// Transaction (see Producer.Stop), bounded by ctx. The errors of the
// producers' Stop are joined.
func (tx *Transaction) Stop(ctx context.Context) error {
	tx.mu.Lock()
	tx.stopped = true
	producers := append([]*Producer(nil), tx.producers...)
	tx.mu.Unlock()
	var errs []error
	if st := tx.s.state(); st.open && st.fenced == nil {
		if err := tx.Abort(ctx); err != nil {
			tx.s.log.Warn("kafka: aborting the open transaction on stop", "error", err)
		}
	}
	for _, p := range producers {
		errs = append(errs, p.Stop(ctx))
	}
	return errors.Join(errs...)
}

// Close is Stop without a deadline.
func (tx *Transaction) Close() error { return tx.Stop(context.Background()) }
