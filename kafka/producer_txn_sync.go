package kafka

import "context"

// BeginTransaction opens a transaction; see Producer.BeginTransaction.
func (s *SyncProducer) BeginTransaction(ctx context.Context) error { return s.p.BeginTransaction(ctx) }

// CommitTransaction commits the open transaction; see
// Producer.CommitTransaction.
func (s *SyncProducer) CommitTransaction(ctx context.Context) error {
	return s.p.CommitTransaction(ctx)
}

// AbortTransaction aborts the open transaction; see
// Producer.AbortTransaction.
func (s *SyncProducer) AbortTransaction(ctx context.Context) error { return s.p.AbortTransaction(ctx) }

// SendOffsetsToTransaction commits consumer offsets in the open
// transaction; see Producer.SendOffsetsToTransaction.
func (s *SyncProducer) SendOffsetsToTransaction(ctx context.Context, offsets map[string]map[int32]int64, group ConsumerGroupMetadata) error {
	return s.p.SendOffsetsToTransaction(ctx, offsets, group)
}
