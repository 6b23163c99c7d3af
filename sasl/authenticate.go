package sasl

import (
	"context"
	"fmt"
	"time"

	"github.com/gregorkafka/gregor/protocol"
)

// RoundTripper sends a request on a connection and returns the decoded
// response, at the version negotiated with the broker.
// *conn.BrokerConnection is one.
type RoundTripper interface {
	RoundTrip(ctx context.Context, req protocol.Request) (protocol.Message, error)
	Versions() *protocol.Versions
}

// maxRounds bounds the messages of one exchange, so a broker that keeps
// challenging cannot hold a connection forever. Every mechanism here needs
// at most three.
const maxRounds = 16

// Authenticate authenticates the connection rt to the broker at addr with
// m: SaslHandshake v1, then SaslAuthenticate until the exchange is done. It
// returns the session lifetime the broker granted (SaslAuthenticate v1+),
// zero when it set none. Failures of the exchange are *Error values;
// transport failures are returned as they are.
func Authenticate(ctx context.Context, rt RoundTripper, addr string, m Mechanism) (time.Duration, error) {
	name := m.Name()
	fail := func(err error, msg *string) error {
		e := &Error{Mechanism: name, Err: err}
		if msg != nil {
			e.Message = *msg
		}
		return e
	}
	if !handshakeV1(rt.Versions()) {
		return 0, fail(ErrUnsupportedHandshake, nil)
	}

	// The first message is ready before the first request: on a live
	// connection (re-authentication) other requests wait from that request
	// on, and fetching a token may take a while.
	ex, msg, err := m.Start(ctx, addr)
	if err != nil {
		return 0, fail(err, nil)
	}

	m1, err := rt.RoundTrip(ctx, &protocol.SaslHandshakeRequest{Mechanism: name})
	if err != nil {
		return 0, err
	}
	hs, ok := m1.(*protocol.SaslHandshakeResponse)
	if !ok {
		return 0, fmt.Errorf("sasl: unexpected %T answering SaslHandshake", m1)
	}
	if hs.ErrorCode != 0 {
		e := &Error{Mechanism: name, Err: protocol.ErrorForCode(hs.ErrorCode)}
		if hs.ErrorCode == protocol.ErrUnsupportedSASLMechanism.Code {
			e.Enabled = append([]string{}, hs.Mechanisms...)
		}
		return 0, e
	}

	for range maxRounds {
		m2, err := rt.RoundTrip(ctx, &protocol.SaslAuthenticateRequest{AuthBytes: msg})
		if err != nil {
			return 0, err
		}
		resp, ok := m2.(*protocol.SaslAuthenticateResponse)
		if !ok {
			return 0, fmt.Errorf("sasl: unexpected %T answering SaslAuthenticate", m2)
		}
		if resp.ErrorCode != 0 {
			return 0, fail(protocol.ErrorForCode(resp.ErrorCode), resp.ErrorMessage)
		}
		next, done, err := ex.Next(ctx, resp.AuthBytes)
		if err != nil {
			return 0, fail(err, nil)
		}
		if done {
			return time.Duration(max(resp.SessionLifetimeMs, 0)) * time.Millisecond, nil
		}
		msg = next
	}
	return 0, fail(fmt.Errorf("%w: more than %d rounds", ErrBadChallenge, maxRounds), nil)
}

// handshakeV1 reports whether the broker speaks the KIP-152 flow: SaslHandshake
// v1 followed by SaslAuthenticate requests. Older brokers expect raw SASL
// tokens after the handshake, which gregor does not send.
func handshakeV1(v *protocol.Versions) bool {
	if v == nil {
		return false
	}
	hs, ok := v.Version(protocol.APIKeySaslHandshake)
	_, auth := v.Version(protocol.APIKeySaslAuthenticate)
	return ok && hs >= 1 && auth
}
