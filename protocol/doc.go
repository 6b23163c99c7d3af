// Package protocol is gregor's Kafka wire format: primitives, request and
// response headers, framing, every request and response body gregor speaks,
// version negotiation, the consumer group's embedded protocol, record batches,
// message sets, compression codecs and error codes.
//
// # Rules
//
// The package does no I/O and imports nothing else from gregor; connections
// and clients build on it. Every length or count read from the wire is checked
// against the bytes that remain before anything is allocated, so corrupt or
// hostile input costs an error (ErrTruncated or ErrMalformed, test with
// errors.Is), never a panic or a huge allocation. Encoding never fails except
// for a version outside a message's range (*VersionError) or a string longer
// than MaxStringLen (ErrStringTooLong).
//
// # Layout
//
//   - wire*.go: the primitives. Append* functions encode one value at the end
//     of a caller's buffer; Decoder reads them back with a sticky error.
//   - api_*.gen.go, consumer_protocol_*.gen.go: generated from Kafka's JSON
//     message schemas by internal/protogen (go generate ./protocol). One file
//     per API holds XxxRequest and XxxResponse; api_registry.gen.go holds the
//     APIKeyXxx constants and a table indexed by key. To add an API, add its
//     name to internal/protogen/apis.go and regenerate.
//   - message.go: the Message and Request interfaces and lookups by key.
//   - header.go, frame.go: request/response headers and size-prefixed frames.
//   - versions.go: picking the highest version both gregor and a broker
//     support, from the broker's ApiVersions response.
//   - consumer_protocol.go: subscriptions and assignments carried in
//     JoinGroup and SyncGroup bytes fields.
//   - record*.go, batch*.go, messageset*.go: record batches (magic 2) and
//     legacy message sets (magic 0 and 1); RecordDecoder walks the records of
//     a Fetch response, mixed formats and a partial tail included.
//   - compress*.go: the codecs, with bounded decompression.
//   - errors*.go: every Kafka error code as an *Error sentinel, generated
//     from Kafka's error table by internal/errorsgen.
//
// # Generated messages
//
// Each struct holds the fields of every version. A field's kafka struct tag
// gives the versions it is encoded in ("3+", "0-2"), where it may be null
// (nullable=) and, for tagged fields, its tag; fields outside the version
// being encoded are skipped, and decoding sets them to their defaults.
// NewXxx and Default apply the schema's defaults (often -1).
//
// Null is represented by Go's nil: *string for nullable strings, a nil []byte
// for null bytes, a nil slice for a null array. A nullable field defaults to
// null unless the schema says otherwise. At a version where a field may not
// be null, nil is written as empty, and empty decodes as nil. Fields of type
// records are raw []byte, left for the record batch decoder.
//
// Flexible versions use compact lengths and carry tagged fields: known ones
// are written only when they differ from their default, unknown ones are kept
// in UnknownTags and written back, so messages from newer brokers pass
// through unchanged.
//
// AppendTo appends into the caller's buffer with no reflection and no
// per-field allocation: encoding into a reused buffer does not allocate.
// DecodeFrom replaces the whole message. Decoded []byte fields alias the
// input, so the input must not be modified while the message is in use;
// strings are copied. Slices already in the message are reused when large
// enough, so decoding into the same message repeatedly allocates little but
// overwrites what the previous decode returned. Bytes after a complete body
// are ignored, as Kafka's own clients do.
//
// # Headers
//
// Requests use header v2 when the request version is flexible and v1
// otherwise; responses use v1 when flexible and v0 otherwise, except
// ApiVersions responses, which always use v0 so that a client can read the
// answer before it knows the broker's versions.
package protocol
