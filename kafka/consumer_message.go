package kafka

import (
	"time"

	"github.com/gregorkafka/gregor/protocol"
)

// Message is one record delivered by a consumer.
//
// Key, Value and header values share memory with the fetch response they
// came in (or, for a compressed batch, with its decompressed bytes); they
// are never overwritten, so a Message may be kept as long as needed, but
// keeping one keeps that response's memory alive.
//
// The ownership rule behind that promise: a response's buffer is reused for
// a later response only when no delivered Message points into it, that is
// when every batch it brought was compressed (its messages then point into
// decompressed buffers of their own) or delivered nothing. A response with
// an uncompressed batch is left to the garbage collector, which frees it
// once the last Message from it is gone.
type Message struct {
	Topic     string
	Partition int32
	Offset    int64
	Key       []byte // nil when the record has no key
	Value     []byte // nil when the record's value is null (a tombstone)
	Headers   []Header
	// Timestamp is the record's timestamp (the producer's, or the broker's
	// append time where the topic says so); zero for records without one
	// (the oldest message format).
	Timestamp time.Time
}

// Header is a record header.
type Header = protocol.RecordHeader
