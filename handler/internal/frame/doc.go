// Package frame splits a byte stream into Kafka frames (big-endian int32
// size, then that many bytes) for the handler implementations.
//
// A size prefix is checked against the connection's limit before anything is
// allocated, and a large frame's buffer grows with the bytes that actually
// arrive rather than with what the prefix announces, so a garbage or hostile
// prefix costs an error, not memory.
package frame
