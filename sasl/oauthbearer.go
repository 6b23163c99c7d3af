package sasl

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Token is an OAuth 2 bearer token with the SASL extensions to send with
// it (KIP-342), such as a Confluent Cloud logical cluster id.
type Token struct {
	// Value is the token itself, typically a JWT.
	Value string
	// Extensions are key/value pairs the broker's callback handler can
	// read. Keys are letters only and must not be "auth"; values are
	// printable ASCII, spaces, tabs and line breaks.
	Extensions map[string]string
}

// OAuthBearer is the OAUTHBEARER mechanism (RFC 7628, KIP-255). Token is
// called for every authentication, that is every new connection and every
// re-authentication, so it may hand out a fresh token each time; caching
// and refreshing it is the provider's business.
type OAuthBearer struct {
	Token func(ctx context.Context) (Token, error)
}

// Name returns "OAUTHBEARER".
func (o *OAuthBearer) Name() string { return "OAUTHBEARER" }

// kvsep separates the key/value pairs of the client's message.
const kvsep = "\x01"

// Start asks for a token and returns the client's message:
// "n,," kvsep "auth=Bearer <token>" {kvsep key=value} kvsep kvsep.
func (o *OAuthBearer) Start(ctx context.Context, _ string) (Exchange, []byte, error) {
	if o.Token == nil {
		return nil, nil, errors.New("sasl: OAUTHBEARER needs a Token provider")
	}
	tok, err := o.Token(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("sasl: OAUTHBEARER token: %w", err)
	}
	msg, err := oauthMessage(tok)
	if err != nil {
		return nil, nil, err
	}
	return &oauthExchange{}, msg, nil
}

func oauthMessage(tok Token) ([]byte, error) {
	if tok.Value == "" || !validOAuthValue(tok.Value) || strings.ContainsAny(tok.Value, " \t\r\n") {
		return nil, errors.New("sasl: OAUTHBEARER token is empty or has characters a bearer token may not")
	}
	keys := make([]string, 0, len(tok.Extensions))
	for k := range tok.Extensions {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(gs2Header + kvsep + "auth=Bearer " + tok.Value)
	for _, k := range keys {
		v := tok.Extensions[k]
		if !validOAuthKey(k) || k == "auth" {
			return nil, fmt.Errorf("sasl: OAUTHBEARER extension key %q: letters only, not \"auth\"", k)
		}
		if !validOAuthValue(v) {
			return nil, fmt.Errorf("sasl: OAUTHBEARER extension %q: value has characters not allowed", k)
		}
		b.WriteString(kvsep + k + "=" + v)
	}
	b.WriteString(kvsep + kvsep)
	return []byte(b.String()), nil
}

func validOAuthKey(k string) bool {
	if k == "" {
		return false
	}
	for _, c := range k {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// validOAuthValue follows RFC 7628's value: VCHAR, space, tab, CR, LF.
func validOAuthValue(v string) bool {
	for _, c := range v {
		if !(0x21 <= c && c <= 0x7e || c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			return false
		}
	}
	return v != ""
}

// oauthExchange waits for the broker's verdict. An empty answer is success.
// A non-empty one is the RFC 7628 error JSON: the client must acknowledge
// it with a lone kvsep, after which the broker fails the exchange with an
// error code (and this JSON's status in its message).
type oauthExchange struct{ failed string }

func (e *oauthExchange) Next(_ context.Context, challenge []byte) ([]byte, bool, error) {
	if e.failed != "" {
		return nil, false, fmt.Errorf("%w: broker rejected the token: %s", ErrBadChallenge, e.failed)
	}
	if len(challenge) == 0 {
		return nil, true, nil
	}
	e.failed = string(challenge)
	return []byte(kvsep), false, nil
}
