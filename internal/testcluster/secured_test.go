package testcluster

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSecuredListeners checks the secured kinds: Metadata over the SSL listener (verifying the broker's
// certificate against the cluster's CA) advertises that listener's port, the mutual-TLS listener serves a client
// with the cluster's client certificate and refuses one without.
func TestSecuredListeners(t *testing.T) {
	for _, kind := range []Config{KRaftSecured, ZooKeeperSecured} {
		t.Run(kind.Name(), func(t *testing.T) {
			c := Shared(t, kind)
			m := c.TLS()
			require.NotNil(t, m)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			b := c.Brokers()[0]
			assert.Equal(t, []string{ListenerMTLS, ListenerSSL}, b.ListenerNames())

			for _, l := range []struct {
				name string
				cert bool
			}{{ListenerSSL, false}, {ListenerMTLS, true}} {
				addr := b.ListenerAddr(l.name)
				require.NotEmpty(t, addr)
				rc, err := dialRawTLS(ctx, addr, m.ClientConfig(l.cert))
				require.NoError(t, err, l.name)
				md, err := rc.metadata(nil)
				rc.Close()
				require.NoError(t, err, l.name)
				require.Len(t, md.Brokers, 1)
				assert.Equal(t, addr, hostPort(md.Brokers[0].Host, md.Brokers[0].Port), "%s advertises itself", l.name)
			}

			// Without a certificate the TLS 1.3 handshake completes on the client's side; the broker's refusal
			// arrives with the first read.
			rc, err := dialRawTLS(ctx, b.ListenerAddr(ListenerMTLS), m.ClientConfig(false))
			if err == nil {
				_, err = rc.metadata(nil)
				rc.Close()
			}
			assert.Error(t, err, "MTLS without a client certificate")
		})
	}
}

func hostPort(host string, port int32) string {
	return net.JoinHostPort(host, strconv.Itoa(int(port)))
}
