package kafka

import (
	"crypto/tls"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConnConfigCarriesTLS checks that every kind of connection the client
// opens, seeds included, gets the configured TLS settings.
func TestConnConfigCarriesTLS(t *testing.T) {
	user := &tls.Config{ServerName: "kafka.example", MinVersion: tls.VersionTLS13}
	cl := offlineCluster(t, Config{TLS: user})
	got := cl.cfg.connConfig(cl.log).TLSConfig
	require.NotNil(t, got, "seed connections")
	assert.Equal(t, "kafka.example", got.ServerName)
	assert.NotSame(t, user, got, "the client keeps its own clone")

	b := newBroker(cl, 1, newBrokerAddr("127.0.0.1", 9092, ""))
	for _, p := range []purpose{purposeGeneral, purposeProduce, purposeFetch, purposeGroup, purposeOffsets} {
		assert.Same(t, got, b.connConfig(p).TLSConfig, "%s connections", p)
	}

	plain := offlineCluster(t, Config{})
	assert.Nil(t, plain.cfg.connConfig(plain.log).TLSConfig, "nil TLS means plaintext")
}
