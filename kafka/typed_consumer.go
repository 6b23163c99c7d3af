package kafka

import (
	"context"
	"iter"
)

// TypedConsumer reads keys of type K and values of type V from a Consumer
// (a *SimpleConsumer, a *BalancedConsumer, or what Topic.Subscribe
// returns), deserializing each record with the Deserializers it was made
// with: pykafka's consumers with a deserializer.
//
// A record that does not deserialize is a poison record: Consume returns a
// *DeserializationError naming its topic, partition and offset (errors.As
// finds it) and holding the raw record, and the next Consume goes on with
// the records after it. The poison record counts as consumed, so a commit moves
// past it; nothing stalls on it. What to do with it (log it, send it to a
// dead-letter topic, stop) is the caller's choice.
//
// It is safe for concurrent use when its deserializers are.
type TypedConsumer[K, V any] struct {
	c     Consumer
	key   Deserializer[K]
	value Deserializer[V]
}

// NewTypedConsumer returns a typed consumer over c. A nil deserializer
// means DefaultSerde of its type (StringSerde, BytesSerde or JSONSerde).
// They are one consumer: stopping either stops both.
func NewTypedConsumer[K, V any](c Consumer, key Deserializer[K], value Deserializer[V]) *TypedConsumer[K, V] {
	if key == nil {
		key = DefaultSerde[K]()
	}
	if value == nil {
		value = DefaultSerde[V]()
	}
	return &TypedConsumer[K, V]{c: c, key: key, value: value}
}

// Consume returns the next record, deserialized. Its errors are those of
// the Consumer's Consume, plus a *DeserializationError for a record that
// does not deserialize, after which Consume goes on with the next record.
func (t *TypedConsumer[K, V]) Consume(ctx context.Context) (*TypedMessage[K, V], error) {
	msg, err := t.c.Consume(ctx)
	if err != nil {
		return nil, err
	}
	return t.decode(msg)
}

// Messages ranges over the records, deserialized, as the Consumer's
// Messages does: it ends quietly when ctx ends, the consumer times out or
// stops. A *DeserializationError, like a *PartitionError, is yielded and
// the iteration goes on with the next record; any other error is yielded
// and ends it.
func (t *TypedConsumer[K, V]) Messages(ctx context.Context) iter.Seq2[*TypedMessage[K, V], error] {
	return func(yield func(*TypedMessage[K, V], error) bool) {
		for msg, err := range t.c.Messages(ctx) {
			if err != nil {
				if !yield(nil, err) {
					return
				}
				continue
			}
			if !yield(t.decode(msg)) {
				return
			}
		}
	}
}

// decode deserializes msg, the key first.
func (t *TypedConsumer[K, V]) decode(msg *Message) (*TypedMessage[K, V], error) {
	key, err := t.key.Deserialize(msg.Topic, msg.Key)
	if err != nil {
		return nil, &DeserializationError{Topic: msg.Topic, Partition: msg.Partition, Offset: msg.Offset, Key: true, Message: msg, Err: err}
	}
	value, err := t.value.Deserialize(msg.Topic, msg.Value)
	if err != nil {
		return nil, &DeserializationError{Topic: msg.Topic, Partition: msg.Partition, Offset: msg.Offset, Message: msg, Err: err}
	}
	return &TypedMessage[K, V]{
		Topic: msg.Topic, Partition: msg.Partition, Offset: msg.Offset,
		Key: key, Value: value, Headers: msg.Headers, Timestamp: msg.Timestamp,
	}, nil
}

// CommitOffsets stores the consumer's positions in its group; see
// Consumer.
func (t *TypedConsumer[K, V]) CommitOffsets(ctx context.Context) error { return t.c.CommitOffsets(ctx) }

// HeldOffsets returns, per partition, the offset delivered last, poison
// records included.
func (t *TypedConsumer[K, V]) HeldOffsets() map[int32]int64 { return t.c.HeldOffsets() }

// Stop stops the consumer; see SimpleConsumer.Stop.
func (t *TypedConsumer[K, V]) Stop(ctx context.Context) error { return t.c.Stop(ctx) }

// Consumer returns the untyped consumer underneath.
func (t *TypedConsumer[K, V]) Consumer() Consumer { return t.c }
