package protocol

import (
	"encoding/base64"
	"fmt"
)

// UUID is a 16-byte Kafka UUID (topic ids, directory ids). The zero UUID means
// "no id" on the wire.
type UUID [16]byte

// String formats u the way Kafka's tools print it: URL-safe base64 without
// padding (22 characters), not the dashed hexadecimal form.
func (u UUID) String() string { return base64.RawURLEncoding.EncodeToString(u[:]) }

// IsZero reports whether u is the zero UUID.
func (u UUID) IsZero() bool { return u == UUID{} }

// ParseUUID parses the 22-character form String produces.
func ParseUUID(s string) (UUID, error) {
	var u UUID
	if base64.RawURLEncoding.DecodedLen(len(s)) != len(u) {
		return u, fmt.Errorf("protocol: uuid %q: want 22 base64 characters", s)
	}
	if _, err := base64.RawURLEncoding.Decode(u[:], []byte(s)); err != nil {
		return UUID{}, fmt.Errorf("protocol: uuid %q: %w", s, err)
	}
	return u, nil
}
