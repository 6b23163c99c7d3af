package sasl

import (
	"errors"
	"strings"
)

var (
	// ErrServerProof reports a SCRAM server whose final message did not
	// prove knowledge of the password: a wrong signature, or none. The
	// connection may be talking to an impostor.
	ErrServerProof = errors.New("sasl: server signature does not verify")

	// ErrBadChallenge reports a broker message the mechanism cannot accept:
	// malformed, a nonce that does not extend the client's, too few or too
	// many iterations.
	ErrBadChallenge = errors.New("sasl: invalid server message")

	// ErrUnsupportedHandshake reports a broker that does not offer
	// SaslHandshake v1 and SaslAuthenticate (Kafka before 1.0).
	ErrUnsupportedHandshake = errors.New("sasl: broker does not support SaslHandshake v1 and SaslAuthenticate")
)

// Error is a failed authentication. Err says why: a protocol error code the
// broker answered (protocol.ErrSASLAuthenticationFailed,
// protocol.ErrUnsupportedSASLMechanism, protocol.ErrIllegalSASLState), or one
// of this package's sentinels, or what the Mechanism returned.
type Error struct {
	// Mechanism is the name of the mechanism tried.
	Mechanism string
	// Message is the broker's explanation, if it gave one.
	Message string
	// Enabled lists the broker's enabled mechanisms when it refused this
	// one.
	Enabled []string
	Err     error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("sasl: ")
	b.WriteString(e.Mechanism)
	b.WriteString(" authentication failed: ")
	b.WriteString(e.Err.Error())
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Enabled != nil {
		b.WriteString(" (the broker enables ")
		if len(e.Enabled) == 0 {
			b.WriteString("none")
		}
		b.WriteString(strings.Join(e.Enabled, ", "))
		b.WriteString(")")
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }
