package kafka

import (
	"strconv"
)

// SerializationError reports a key or value that its Serializer refused.
// The typed producer sent nothing: the message was not accepted.
type SerializationError struct {
	Topic string
	// Key is true when the key failed, false when the value did.
	Key bool
	Err error
}

func (e *SerializationError) Error() string {
	return "kafka: serializing the " + fieldName(e.Key) + " of a message to " + strconv.Quote(e.Topic) + ": " + e.Err.Error()
}

func (e *SerializationError) Unwrap() error { return e.Err }

// DeserializationError reports a record whose key or value its
// Deserializer refused: a poison record. The record counts as consumed
// (HeldOffsets includes it, so a commit moves past it) and the next Consume
// goes on with the records after it, so one bad record never stalls a
// consumer.
// Message is the record as fetched, for a dead-letter topic or a log.
type DeserializationError struct {
	Topic     string
	Partition int32
	Offset    int64
	// Key is true when the key failed, false when the value did.
	Key     bool
	Message *Message
	Err     error
}

func (e *DeserializationError) Error() string {
	return "kafka: deserializing the " + fieldName(e.Key) + " of record " + e.Topic + "/" +
		strconv.Itoa(int(e.Partition)) + "@" + strconv.FormatInt(e.Offset, 10) + ": " + e.Err.Error()
}

func (e *DeserializationError) Unwrap() error { return e.Err }

func fieldName(key bool) string {
	if key {
		return "key"
	}
	return "value"
}
