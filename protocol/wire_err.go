package protocol

import (
	"errors"
	"strconv"
)

// Sentinel errors of the wire layer; test for them with errors.Is.
var (
	// ErrTruncated means the input ended before the value being read, or a
	// length or count promised more bytes than remain.
	ErrTruncated = errors.New("protocol: truncated input")
	// ErrMalformed means the bytes cannot be a valid encoding: a negative
	// length, null where null is not allowed, an over-long varint, a tagged
	// field whose size does not match its content.
	ErrMalformed = errors.New("protocol: malformed input")
	// ErrStringTooLong is returned when encoding a string longer than
	// MaxStringLen.
	ErrStringTooLong = errors.New("protocol: string longer than 32767 bytes")
)

// decodeError gives a wire error its position. It is allocated only on the
// failure path, so decoding valid input never pays for it.
type decodeError struct {
	kind    error // ErrTruncated or ErrMalformed
	offset  int
	detail  string
	message string // set by the generated DecodeFrom: "MetadataResponse v12"
}

func (e *decodeError) Error() string {
	s := e.kind.Error()
	if e.message != "" {
		s += " decoding " + e.message
	}
	s += " at offset " + strconv.Itoa(e.offset)
	if e.detail != "" {
		s += ": " + e.detail
	}
	return s
}

func (e *decodeError) Unwrap() error { return e.kind }

// VersionError is returned when a message is encoded or decoded at a version
// outside the range the schema defines for it. Min > Max means the API is not
// implemented at all.
type VersionError struct {
	Message  string // e.g. "FetchRequest"
	Version  int16
	Min, Max int16
}

func (e *VersionError) Error() string {
	if e.Min > e.Max {
		return "protocol: " + e.Message + " is not implemented (version " + strconv.Itoa(int(e.Version)) + ")"
	}
	return "protocol: " + e.Message + " has no version " + strconv.Itoa(int(e.Version)) +
		" (valid " + strconv.Itoa(int(e.Min)) + "-" + strconv.Itoa(int(e.Max)) + ")"
}

// stringTooLong wraps ErrStringTooLong with the offending length.
func stringTooLong(n int) error {
	return &encodeError{kind: ErrStringTooLong, detail: "length " + strconv.Itoa(n)}
}

type encodeError struct {
	kind   error
	detail string
}

func (e *encodeError) Error() string { return e.kind.Error() + ": " + e.detail }
func (e *encodeError) Unwrap() error { return e.kind }
