package kafka

// Subscribe returns a consumer of the topic for the consumer group, to
// range over, as samsa's topic.subscribe(group) did:
//
//	consumer, err := topic.Subscribe("billing")
//	...
//	defer consumer.Stop(ctx)
//	for msg, err := range consumer.Messages(ctx) {
//		...
//	}
//
// The consumer is a member of the group: a BalancedConsumer managed by the
// group's coordinator broker (BalancedConsumerConfig.Managed), so several
// subscribers of one group split the topic's partitions between them and
// take over each other's when one stops or dies. It starts from the
// group's committed offsets (new partitions at the earliest offset) and
// commits its position every DefaultAutoCommitInterval, before every
// rebalance and when stopped, so whoever consumes a partition next resumes
// where this one left off. For other settings, use Topic.BalancedConsumer.
func (t *Topic) Subscribe(group string) (Consumer, error) {
	if group == "" {
		return nil, &ConfigError{Field: "ConsumerConfig.ConsumerGroup", Reason: "Subscribe needs a group"}
	}
	c, err := t.BalancedConsumer(group, BalancedConsumerConfig{Managed: true, ConsumerConfig: ConsumerConfig{AutoCommit: true}})
	if err != nil {
		return nil, err
	}
	return c, nil
}
