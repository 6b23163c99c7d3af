package kafka

// GroupMetadata returns what a transactional producer needs to commit this
// consumer's offsets in a transaction (Producer.SendOffsetsToTransaction):
// its group and, when it belongs to a group generation (as the consumer
// inside a BalancedConsumer does), the generation and member id.
func (c *SimpleConsumer) GroupMetadata() ConsumerGroupMetadata {
	md := ConsumerGroupMetadata{GroupID: c.cfg.ConsumerGroup, GenerationID: -1}
	if c.cfg.generation != nil {
		md.GenerationID, md.MemberID = c.cfg.generation()
	}
	return md
}

// GroupMetadata returns what a transactional producer needs to commit this
// consumer's offsets in a transaction (Producer.SendOffsetsToTransaction):
// its group, and for a managed consumer the current generation and member
// id, so that the coordinator refuses offsets from a member that lost its
// partitions in a rebalance. A ZooKeeper-balanced consumer has no
// generation (-1).
func (b *BalancedConsumer) GroupMetadata() ConsumerGroupMetadata {
	md := ConsumerGroupMetadata{GroupID: b.group, GenerationID: -1}
	if gen := b.member.generation(); gen != nil {
		md.GenerationID, md.MemberID = gen()
	}
	return md
}
