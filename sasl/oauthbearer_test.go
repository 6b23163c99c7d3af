package sasl

import (
	"context"
	"errors"
	"testing"
)

func TestOAuthBearerMessage(t *testing.T) {
	calls := 0
	o := &OAuthBearer{Token: func(ctx context.Context) (Token, error) {
		calls++
		return Token{Value: "eyJ.e30.", Extensions: map[string]string{"logicalCluster": "lkc-1", "id": "a b"}}, nil
	}}
	ex, msg, err := o.Start(context.Background(), "b:9092")
	if err != nil {
		t.Fatal(err)
	}
	// Extensions in sorted key order, RFC 7628 framing.
	if want := "n,,\x01auth=Bearer eyJ.e30.\x01id=a b\x01logicalCluster=lkc-1\x01\x01"; string(msg) != want {
		t.Fatalf("message %q, want %q", msg, want)
	}
	if next, done, err := ex.Next(context.Background(), nil); next != nil || !done || err != nil {
		t.Fatalf("success answer: %q, %v, %v", next, done, err)
	}
	o.Start(context.Background(), "b:9092")
	if calls != 2 {
		t.Fatalf("provider called %d times for 2 authentications", calls)
	}
}

func TestOAuthBearerServerError(t *testing.T) {
	o := &OAuthBearer{Token: func(context.Context) (Token, error) { return Token{Value: "t"}, nil }}
	ex, _, _ := o.Start(context.Background(), "")
	// The error JSON is acknowledged with a lone separator.
	next, done, err := ex.Next(context.Background(), []byte(`{"status":"invalid_token"}`))
	if string(next) != "\x01" || done || err != nil {
		t.Fatalf("error challenge: %q, %v, %v", next, done, err)
	}
	if _, _, err := ex.Next(context.Background(), []byte("x")); !errors.Is(err, ErrBadChallenge) {
		t.Fatalf("after the error: %v", err)
	}
}

func TestOAuthBearerRejectsBadTokens(t *testing.T) {
	boom := errors.New("idp down")
	for name, tok := range map[string]func(context.Context) (Token, error){
		"provider error": func(context.Context) (Token, error) { return Token{}, boom },
		"empty token":    func(context.Context) (Token, error) { return Token{}, nil },
		"space in token": func(context.Context) (Token, error) { return Token{Value: "a b"}, nil },
		"auth key": func(context.Context) (Token, error) {
			return Token{Value: "t", Extensions: map[string]string{"auth": "x"}}, nil
		},
		"digit in key": func(context.Context) (Token, error) {
			return Token{Value: "t", Extensions: map[string]string{"k1": "x"}}, nil
		},
		"ctl in value": func(context.Context) (Token, error) {
			return Token{Value: "t", Extensions: map[string]string{"k": "\x01"}}, nil
		},
		"empty value": func(context.Context) (Token, error) {
			return Token{Value: "t", Extensions: map[string]string{"k": ""}}, nil
		},
	} {
		if _, _, err := (&OAuthBearer{Token: tok}).Start(context.Background(), ""); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, _, err := (&OAuthBearer{Token: func(context.Context) (Token, error) { return Token{}, boom }}).Start(context.Background(), ""); !errors.Is(err, boom) {
		t.Errorf("provider error not wrapped: %v", err)
	}
	if _, _, err := (&OAuthBearer{}).Start(context.Background(), ""); err == nil {
		t.Error("nil provider accepted")
	}
}
