package sasl_test

import (
	"context"

	"github.com/gregorkafka/gregor/kafka"
	"github.com/gregorkafka/gregor/sasl"
)

// staticToken is a mechanism of one message that carries a token, the shape
// of AWS MSK IAM (whose message is a signed JSON document) and of most
// single-step mechanisms.
type staticToken struct{ token string }

func (m *staticToken) Name() string { return "X-TOKEN" }

func (m *staticToken) Start(ctx context.Context, addr string) (sasl.Exchange, []byte, error) {
	return m, []byte(m.token), nil
}

// Next accepts the broker's answer: a mechanism that must verify the
// server (as SCRAM does) would check the challenge here.
func (m *staticToken) Next(ctx context.Context, challenge []byte) ([]byte, bool, error) {
	return nil, true, nil
}

// A mechanism gregor does not ship plugs in through the Mechanism and
// Exchange interfaces.
func Example_customMechanism() {
	ctx := context.Background()
	client, err := kafka.NewClient(ctx, kafka.Config{
		Hosts: []string{"kafka1:9096"},
		SASL:  &staticToken{token: "s3cret"},
	})
	if err != nil {
		return
	}
	defer client.Close()
}

func ExampleSCRAM() {
	ctx := context.Background()
	client, err := kafka.NewClient(ctx, kafka.Config{
		Hosts: []string{"kafka1:9094"},
		SASL:  &sasl.SCRAM{Hash: sasl.SHA512, Username: "alice", Password: "alice-secret"},
	})
	if err != nil {
		return
	}
	defer client.Close()
}

func ExampleOAuthBearer() {
	fetchToken := func(ctx context.Context) (string, error) { return "eyJ...", nil } // from your identity provider
	mech := &sasl.OAuthBearer{Token: func(ctx context.Context) (sasl.Token, error) {
		tok, err := fetchToken(ctx)
		return sasl.Token{Value: tok, Extensions: map[string]string{"logicalCluster": "lkc-1"}}, err
	}}
	_ = kafka.Config{Hosts: []string{"kafka1:9094"}, SASL: mech}
}
