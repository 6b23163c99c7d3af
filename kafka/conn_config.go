package kafka

import (
	"log/slog"

	"github.com/gregorkafka/gregor/conn"
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
		Logger:         log,
	}
}
