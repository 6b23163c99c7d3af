package kafka

import (
	"context"
	"log/slog"
	"time"

	"github.com/gregorkafka/gregor/conn"
	"github.com/gregorkafka/gregor/sasl"
)

// connConfig is the conn.Config every broker connection of the client
// starts from, seed or broker, whatever its purpose: one place, so that a
// setting such as TLS cannot miss a connection.
func (c *Config) connConfig(log *slog.Logger) conn.Config {
	return conn.Config{
		ClientID:       c.ClientID,
		DialTimeout:    c.DialTimeout,
		RequestTimeout: c.SocketTimeout,
		SourceAddr:     c.SourceAddress,
		TLSConfig:      c.TLS,
		Authenticate:   saslAuthenticate(c.SASL),
		Logger:         log,
	}
}

// saslAuthenticate is the conn hook that authenticates with m, or nil.
func saslAuthenticate(m sasl.Mechanism) func(context.Context, *conn.BrokerConnection) (time.Duration, error) {
	if m == nil {
		return nil
	}
	return func(ctx context.Context, bc *conn.BrokerConnection) (time.Duration, error) {
		return sasl.Authenticate(ctx, bc, bc.Address(), m)
	}
}
