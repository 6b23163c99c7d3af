package kafka

import (
	"context"
	"time"
)

// TypedMessage is a Message whose key and value are Go values of types K
// and V rather than bytes. Producing, Key, Value, Headers and Timestamp are
// sent and Partition is read by ManualPartitioner only, as with Message;
// consuming, every field is the record's.
type TypedMessage[K, V any] struct {
	Topic     string
	Partition int32
	Offset    int64
	Key       K
	Value     V
	Headers   []Header
	Timestamp time.Time
}

// serializers holds a typed producer's two serializers.
type serializers[K, V any] struct {
	key   Serializer[K]
	value Serializer[V]
}

func newSerializers[K, V any](key Serializer[K], value Serializer[V]) serializers[K, V] {
	if key == nil {
		key = DefaultSerde[K]()
	}
	if value == nil {
		value = DefaultSerde[V]()
	}
	return serializers[K, V]{key: key, value: value}
}

// message serializes m into a Message for topic, key first.
func (s serializers[K, V]) message(topic string, m *TypedMessage[K, V]) (Message, error) {
	key, err := s.key.Serialize(topic, m.Key)
	if err != nil {
		return Message{}, &SerializationError{Topic: topic, Key: true, Err: err}
	}
	value, err := s.value.Serialize(topic, m.Value)
	if err != nil {
		return Message{}, &SerializationError{Topic: topic, Err: err}
	}
	return Message{Partition: m.Partition, Key: key, Value: value, Headers: m.Headers, Timestamp: m.Timestamp}, nil
}

// TypedProducer produces keys of type K and values of type V through a
// Producer, serializing each with the Serializers it was made with:
// pykafka's Producer with a serializer. It is safe for concurrent use when
// its serializers are.
type TypedProducer[K, V any] struct {
	p   *Producer
	ser serializers[K, V]
}

// NewTypedProducer returns a typed producer over p. A nil serializer means
// DefaultSerde of its type (StringSerde, BytesSerde or JSONSerde). They
// are one producer: closing either closes both.
//
// Go methods cannot have type parameters, so this is a function over
// p rather than a method of Topic.
func NewTypedProducer[K, V any](p *Producer, key Serializer[K], value Serializer[V]) *TypedProducer[K, V] {
	return &TypedProducer[K, V]{p: p, ser: newSerializers(key, value)}
}

// Produce serializes key and value and produces them; see ProduceMessage.
func (t *TypedProducer[K, V]) Produce(ctx context.Context, key K, value V) error {
	return t.ProduceMessage(ctx, TypedMessage[K, V]{Key: key, Value: value})
}

// ProduceMessage serializes m's key and value and queues the message, as
// Producer.Produce does. A serializer's error comes back as a
// *SerializationError and nothing is queued; other errors are
// Producer.Produce's. Delivery reports (Reports) carry the serialized
// bytes.
func (t *TypedProducer[K, V]) ProduceMessage(ctx context.Context, m TypedMessage[K, V]) error {
	msg, err := t.ser.message(t.p.t.name, &m)
	if err != nil {
		return err
	}
	return t.p.Produce(ctx, msg)
}

// Reports returns the producer's delivery reports; see Producer.Reports.
// Their messages hold the serialized key and value.
func (t *TypedProducer[K, V]) Reports() <-chan DeliveryReport { return t.p.Reports() }

// Flush waits until every message produced so far is reported; see
// Producer.Flush.
func (t *TypedProducer[K, V]) Flush(ctx context.Context) error { return t.p.Flush(ctx) }

// Close delivers what the producer holds and stops it; see Producer.Close.
func (t *TypedProducer[K, V]) Close() error { return t.p.Close() }

// Stop stops the producer, giving up on what is undelivered when ctx ends;
// see Producer.Stop.
func (t *TypedProducer[K, V]) Stop(ctx context.Context) error { return t.p.Stop(ctx) }

// Topic returns the producer's topic.
func (t *TypedProducer[K, V]) Topic() *Topic { return t.p.t }

// Producer returns the untyped producer underneath, to produce bytes as
// they are.
func (t *TypedProducer[K, V]) Producer() *Producer { return t.p }

// TypedSyncProducer produces keys of type K and values of type V through a
// SyncProducer, waiting for each to be acknowledged: pykafka's sync
// Producer with a serializer. It is safe for concurrent use when its
// serializers are.
type TypedSyncProducer[K, V any] struct {
	p   *SyncProducer
	ser serializers[K, V]
}

// NewTypedSyncProducer returns a typed producer over p. A nil serializer
// means DefaultSerde of its type. They are one producer: closing either
// closes both.
func NewTypedSyncProducer[K, V any](p *SyncProducer, key Serializer[K], value Serializer[V]) *TypedSyncProducer[K, V] {
	return &TypedSyncProducer[K, V]{p: p, ser: newSerializers(key, value)}
}

// Produce serializes key and value, produces them and waits for the
// acknowledgement; see ProduceMessage.
func (t *TypedSyncProducer[K, V]) Produce(ctx context.Context, key K, value V) (partition int32, offset int64, err error) {
	return t.ProduceMessage(ctx, TypedMessage[K, V]{Key: key, Value: value})
}

// ProduceMessage serializes m's key and value, sends the message and waits
// until it is acknowledged, as SyncProducer.Produce does. A serializer's
// error comes back as a *SerializationError, with partition and offset -1,
// and nothing is sent.
func (t *TypedSyncProducer[K, V]) ProduceMessage(ctx context.Context, m TypedMessage[K, V]) (partition int32, offset int64, err error) {
	msg, err := t.ser.message(t.p.p.t.name, &m)
	if err != nil {
		return -1, -1, err
	}
	return t.p.Produce(ctx, msg)
}

// Close stops the producer; see SyncProducer.Close.
func (t *TypedSyncProducer[K, V]) Close() error { return t.p.Close() }

// Topic returns the producer's topic.
func (t *TypedSyncProducer[K, V]) Topic() *Topic { return t.p.Topic() }

// SyncProducer returns the untyped producer underneath.
func (t *TypedSyncProducer[K, V]) SyncProducer() *SyncProducer { return t.p }
