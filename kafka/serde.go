package kafka

import (
	"encoding/json"
	"reflect"
)

// Serializer turns a key or value of type T into a record's bytes: the
// producing half of pykafka's serializer hook, one per field as in the
// Java client. Returning nil means a null key (no key) or a null value (a
// tombstone). topic is the topic being produced to, for serializers whose
// format depends on it (a schema registry's subject, say).
//
// The producer calls it on the goroutine of Produce, before the partition
// is chosen, so a hashing partitioner hashes the serialized key, as every
// other Kafka client does. It must be safe for concurrent use.
type Serializer[T any] interface {
	Serialize(topic string, v T) ([]byte, error)
}

// Deserializer turns a record's key or value bytes into a T: the consuming
// half of pykafka's deserializer hook. data is nil for a null key or value
// and shares memory with the fetched record (see Message): copy what the
// result keeps if it must outlive the Message. An error makes the typed
// consumer report a *DeserializationError for that record. It must be safe
// for concurrent use.
type Deserializer[T any] interface {
	Deserialize(topic string, data []byte) (T, error)
}

// Serde is a Serializer and a Deserializer of the same type, the usual
// way to describe one format for both directions.
type Serde[T any] interface {
	Serializer[T]
	Deserializer[T]
}

// SerializerFunc adapts a function to a Serializer.
type SerializerFunc[T any] func(topic string, v T) ([]byte, error)

// Serialize calls f(topic, v).
func (f SerializerFunc[T]) Serialize(topic string, v T) ([]byte, error) { return f(topic, v) }

// DeserializerFunc adapts a function to a Deserializer.
type DeserializerFunc[T any] func(topic string, data []byte) (T, error)

// Deserialize calls f(topic, data).
func (f DeserializerFunc[T]) Deserialize(topic string, data []byte) (T, error) { return f(topic, data) }

// BytesSerde passes bytes through unchanged: nil stays nil (no key, or a
// tombstone). Deserialize returns the record's own slice, without a copy.
type BytesSerde struct{}

// Serialize returns v.
func (BytesSerde) Serialize(_ string, v []byte) ([]byte, error) { return v, nil }

// Deserialize returns data.
func (BytesSerde) Deserialize(_ string, data []byte) ([]byte, error) { return data, nil }

// StringSerde writes a string's bytes as they are (UTF-8 for Go source
// strings), as the Java client's StringSerializer does: "" is an empty
// key or value, not a null one. A null key or value reads as "". It never
// fails: like Go strings, it carries any bytes.
type StringSerde struct{}

// Serialize returns the bytes of v.
func (StringSerde) Serialize(_ string, v string) ([]byte, error) { return []byte(v), nil }

// Deserialize returns data as a string (a copy).
func (StringSerde) Deserialize(_ string, data []byte) (string, error) { return string(data), nil }

// JSONSerde encodes and decodes T with encoding/json. A nil pointer, map,
// slice or interface serializes to a null record field (a tombstone when
// it is the value), not to the four bytes "null", and a null field
// deserializes to T's zero value: use a pointer T to tell tombstones
// apart. Anything encoding/json refuses (a channel, invalid JSON, JSON of
// the wrong shape, trailing data) is an error.
type JSONSerde[T any] struct{}

// Serialize returns the JSON encoding of v, or nil when v is nil.
func (JSONSerde[T]) Serialize(_ string, v T) ([]byte, error) {
	if isNil(v) {
		return nil, nil
	}
	return json.Marshal(v)
}

// Deserialize decodes data into a new T; nil data gives T's zero value.
func (JSONSerde[T]) Deserialize(_ string, data []byte) (T, error) {
	var v T
	if data == nil {
		return v, nil
	}
	err := json.Unmarshal(data, &v)
	return v, err
}

// isNil reports whether v is a nil pointer, map, slice, interface, func or
// channel.
func isNil[T any](v T) bool {
	a := any(v)
	if a == nil {
		return true
	}
	switch rv := reflect.ValueOf(a); rv.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface, reflect.Func, reflect.Chan:
		return rv.IsNil()
	}
	return false
}

// DefaultSerde is the Serde typed producers and consumers use for T when
// given none: StringSerde for string, BytesSerde for []byte, JSONSerde[T]
// for every other type.
func DefaultSerde[T any]() Serde[T] {
	var s any
	switch any((*T)(nil)).(type) {
	case *string:
		s = StringSerde{}
	case *[]byte:
		s = BytesSerde{}
	default:
		s = JSONSerde[T]{}
	}
	return s.(Serde[T])
}
