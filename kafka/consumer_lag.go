package kafka

// Lag returns, for each partition the consumer has fetched from, how many
// messages it is behind: the partition's high watermark in the latest Fetch
// answer less the offset of the next message Consume will return. It does
// no I/O, so it is as current as the last fetch (one long poll at most);
// Cluster.GroupLag asks the brokers instead. Partitions not fetched yet are
// absent.
func (c *SimpleConsumer) Lag() map[int32]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[int32]int64, len(c.parts))
	for _, op := range c.parts {
		if op.highWatermark >= 0 && op.position >= 0 {
			out[op.id] = max(0, op.highWatermark-op.position)
		}
	}
	return out
}

// Lag returns the lag of the partitions the consumer owns now; see
// SimpleConsumer.Lag. It is empty between rebalances' revocation and
// assignment. It serves a consumer of one topic.
func (b *BalancedConsumer) Lag() map[int32]int64 {
	if inner := b.singleInner(); inner != nil {
		return inner.Lag()
	}
	return map[int32]int64{}
}

// TopicLag is Lag by topic, for consumers of several topics: topic →
// partition → lag.
func (b *BalancedConsumer) TopicLag() map[string]map[int32]int64 {
	out := map[string]map[int32]int64{}
	for _, inner := range b.currentInners() {
		out[inner.topic.name] = inner.Lag()
	}
	return out
}
