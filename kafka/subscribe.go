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
// The consumer starts from the group's committed offsets (new partitions
// at the earliest offset) and commits its position every
// DefaultAutoCommitInterval and when stopped, so a later subscriber of the
// group resumes where this one left off. For now it is a SimpleConsumer of
// every partition, in the group only for offset storage: two subscribers
// of one group both receive every message. Subscribe will return a
// balanced consumer, which splits the partitions among the group's
// members, once gregor has one; code that holds the result as a Consumer
// keeps working.
func (t *Topic) Subscribe(group string) (Consumer, error) {
	if group == "" {
		return nil, &ConfigError{Field: "ConsumerConfig.ConsumerGroup", Reason: "Subscribe needs a group"}
	}
	c, err := t.SimpleConsumer(ConsumerConfig{ConsumerGroup: group, AutoCommit: true})
	if err != nil {
		return nil, err
	}
	return c, nil
}
