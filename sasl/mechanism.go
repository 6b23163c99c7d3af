package sasl

import "context"

// Mechanism is a SASL mechanism. Implementations must be safe for concurrent
// use: the client authenticates many connections at once, each with its own
// Exchange.
type Mechanism interface {
	// Name is the mechanism's registered name, as the broker's
	// sasl.enabled.mechanisms lists it ("PLAIN", "SCRAM-SHA-256").
	Name() string

	// Start begins one authentication of a connection to the broker at addr
	// ("host:port"; GSSAPI and AWS IAM sign for the host). It returns the
	// exchange and the client's first message. ctx bounds the work, such as
	// fetching a token.
	Start(ctx context.Context, addr string) (Exchange, []byte, error)
}

// Exchange is one authentication in progress.
type Exchange interface {
	// Next takes the broker's answer to the last message and returns the
	// next message to send, or done when the exchange is complete and the
	// broker's answer verified. A mechanism whose last message gets an empty
	// answer (PLAIN) returns done on that answer.
	Next(ctx context.Context, challenge []byte) (msg []byte, done bool, err error)
}
