// Package frame splits a byte stream into Kafka frames (big-endian int32
// size, then that many bytes) for the handler implementations.
//
// A size prefix is checked against the connection's limit before anything is
// allocated. A body of up to 16 MiB then gets its whole buffer at once and
// is read straight into it; a larger one's buffer grows fourfold at a time
// with the bytes that actually arrive rather than with what the prefix
// announces, so a garbage or hostile prefix costs an error or at most
// 16 MiB, not the limit.
package frame
