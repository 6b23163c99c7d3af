package netdial

import (
	"crypto/tls"
	"net"

	"github.com/gregorkafka/gregor/handler"
)

// TLSConfig returns cfg.TLSConfig with ServerName filled from the address's
// host when empty, as crypto/tls needs it to verify the broker's
// certificate. The caller's value is never modified.
func TLSConfig(cfg *handler.DialConfig) *tls.Config {
	tc := cfg.TLSConfig
	if tc.ServerName != "" {
		return tc
	}
	tc = tc.Clone()
	if host, _, err := net.SplitHostPort(cfg.Address); err == nil {
		tc.ServerName = host
	}
	return tc
}
