package sasl

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gregorkafka/gregor/protocol"
)

// scriptedBroker answers SaslHandshake and SaslAuthenticate from a script
// and records what it was sent.
type scriptedBroker struct {
	versions  *protocol.Versions
	handshake *protocol.SaslHandshakeResponse
	answers   []*protocol.SaslAuthenticateResponse
	sent      [][]byte
	mechanism string
	transport error
}

func brokerVersions(handshakeMax, authMax int16) *protocol.Versions {
	resp := &protocol.APIVersionsResponse{APIKeys: []protocol.APIVersionsResponseAPIKey{
		{APIKey: protocol.APIKeySaslHandshake, MaxVersion: handshakeMax},
	}}
	if authMax >= 0 {
		resp.APIKeys = append(resp.APIKeys, protocol.APIVersionsResponseAPIKey{APIKey: protocol.APIKeySaslAuthenticate, MaxVersion: authMax})
	}
	return protocol.NewVersions(resp)
}

func (b *scriptedBroker) Versions() *protocol.Versions { return b.versions }

func (b *scriptedBroker) RoundTrip(_ context.Context, req protocol.Request) (protocol.Message, error) {
	if b.transport != nil {
		return nil, b.transport
	}
	switch r := req.(type) {
	case *protocol.SaslHandshakeRequest:
		b.mechanism = r.Mechanism
		return b.handshake, nil
	case *protocol.SaslAuthenticateRequest:
		b.sent = append(b.sent, r.AuthBytes)
		if len(b.answers) == 0 {
			return &protocol.SaslAuthenticateResponse{ErrorCode: protocol.ErrIllegalSASLState.Code}, nil
		}
		a := b.answers[0]
		b.answers = b.answers[1:]
		return a, nil
	}
	return nil, errors.New("unexpected request")
}

func TestAuthenticatePlain(t *testing.T) {
	b := &scriptedBroker{
		versions:  brokerVersions(1, 2),
		handshake: &protocol.SaslHandshakeResponse{Mechanisms: []string{"PLAIN"}},
		answers:   []*protocol.SaslAuthenticateResponse{{SessionLifetimeMs: 5000}},
	}
	life, err := Authenticate(context.Background(), b, "b:9092", &Plain{Username: "u", Password: "p"})
	if err != nil || life != 5*time.Second {
		t.Fatalf("lifetime %v, err %v", life, err)
	}
	if b.mechanism != "PLAIN" || len(b.sent) != 1 || string(b.sent[0]) != "\x00u\x00p" {
		t.Fatalf("broker saw mechanism %q, messages %q", b.mechanism, b.sent)
	}
}

func TestAuthenticateFailures(t *testing.T) {
	msg := "Authentication failed: Invalid username or password"
	cases := map[string]struct {
		b      *scriptedBroker
		is     error
		enable []string
		text   string
	}{
		"bad credentials": {
			b: &scriptedBroker{versions: brokerVersions(1, 2), handshake: &protocol.SaslHandshakeResponse{},
				answers: []*protocol.SaslAuthenticateResponse{{ErrorCode: protocol.ErrSASLAuthenticationFailed.Code, ErrorMessage: &msg}}},
			is: protocol.ErrSASLAuthenticationFailed, text: msg,
		},
		"mechanism not enabled": {
			b: &scriptedBroker{versions: brokerVersions(1, 2), handshake: &protocol.SaslHandshakeResponse{
				ErrorCode: protocol.ErrUnsupportedSASLMechanism.Code, Mechanisms: []string{"SCRAM-SHA-512", "OAUTHBEARER"}}},
			is: protocol.ErrUnsupportedSASLMechanism, enable: []string{"SCRAM-SHA-512", "OAUTHBEARER"}, text: "SCRAM-SHA-512, OAUTHBEARER",
		},
		"handshake v0 only": {
			b:  &scriptedBroker{versions: brokerVersions(0, 0), handshake: &protocol.SaslHandshakeResponse{}},
			is: ErrUnsupportedHandshake,
		},
		"no SaslAuthenticate": {
			b:  &scriptedBroker{versions: brokerVersions(1, -1), handshake: &protocol.SaslHandshakeResponse{}},
			is: ErrUnsupportedHandshake,
		},
		"endless challenges": {
			b: &scriptedBroker{versions: brokerVersions(1, 2), handshake: &protocol.SaslHandshakeResponse{},
				answers: endless(20)},
			is: ErrBadChallenge,
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Authenticate(context.Background(), c.b, "b:9092", &challenged{})
			var se *Error
			if !errors.As(err, &se) || !errors.Is(err, c.is) {
				t.Fatalf("err %v; want a *sasl.Error matching %v", err, c.is)
			}
			if se.Mechanism != "TEST" || !strings.Contains(err.Error(), c.text) {
				t.Fatalf("error %q does not name the mechanism or say %q", err, c.text)
			}
			if strings.Join(se.Enabled, ",") != strings.Join(c.enable, ",") {
				t.Fatalf("Enabled %q, want %q", se.Enabled, c.enable)
			}
		})
	}
	// A transport error is not an authentication failure.
	boom := errors.New("broken pipe")
	_, err := Authenticate(context.Background(), &scriptedBroker{versions: brokerVersions(1, 2), transport: boom}, "", &Plain{Username: "u"})
	var se *Error
	if !errors.Is(err, boom) || errors.As(err, &se) {
		t.Fatalf("transport failure reported as %v", err)
	}
}

// challenged is a mechanism that always wants another round.
type challenged struct{}

func (*challenged) Name() string { return "TEST" }
func (*challenged) Start(context.Context, string) (Exchange, []byte, error) {
	return &challenged{}, []byte("hi"), nil
}
func (*challenged) Next(context.Context, []byte) ([]byte, bool, error) {
	return []byte("more"), false, nil
}

func endless(n int) []*protocol.SaslAuthenticateResponse {
	out := make([]*protocol.SaslAuthenticateResponse, n)
	for i := range out {
		out[i] = &protocol.SaslAuthenticateResponse{AuthBytes: []byte("again")}
	}
	return out
}
