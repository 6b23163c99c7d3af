package sasl

import (
	"context"
	"errors"
	"strings"
)

// Plain is the PLAIN mechanism (RFC 4616): the password travels as is, so
// use it over TLS only.
type Plain struct {
	// Username and Password are the credentials; the broker's JAAS
	// configuration (or callback handler) checks them.
	Username string
	Password string
	// AuthzID, when set, asks to act as another identity. Kafka accepts
	// only an empty one or one equal to Username.
	AuthzID string
}

// Name returns "PLAIN".
func (p *Plain) Name() string { return "PLAIN" }

// Start returns the single message: authzid NUL username NUL password.
func (p *Plain) Start(context.Context, string) (Exchange, []byte, error) {
	if p.Username == "" {
		return nil, nil, errors.New("sasl: PLAIN needs a username")
	}
	if strings.ContainsRune(p.Username+p.Password+p.AuthzID, 0) {
		return nil, nil, errors.New("sasl: PLAIN credentials must not contain NUL")
	}
	msg := make([]byte, 0, len(p.AuthzID)+len(p.Username)+len(p.Password)+2)
	msg = append(msg, p.AuthzID...)
	msg = append(msg, 0)
	msg = append(msg, p.Username...)
	msg = append(msg, 0)
	msg = append(msg, p.Password...)
	return oneShot{}, msg, nil
}

// oneShot is an exchange of one message: whatever answer arrives without an
// error code ends it.
type oneShot struct{}

func (oneShot) Next(context.Context, []byte) ([]byte, bool, error) { return nil, true, nil }
