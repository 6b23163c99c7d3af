package kafka

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConfigDefaults(t *testing.T) {
	cfg, err := Config{}.withDefaults()
	require.NoError(t, err)
	assert.Equal(t, []string{"127.0.0.1:9092"}, cfg.Hosts)
	assert.Equal(t, 30*time.Second, cfg.SocketTimeout)
	assert.Equal(t, 10*time.Second, cfg.OffsetsChannelTimeout)
	assert.Equal(t, 10*time.Second, cfg.DialTimeout)
	assert.Equal(t, "gregor", cfg.ClientID)
	assert.Same(t, slog.Default(), cfg.Logger)
	assert.False(t, cfg.IncludeInternalTopics)
	assert.False(t, cfg.AutoCreateTopics)
	assert.Nil(t, cfg.Handler, "the default handler is made by NewClient")
}

func TestConfigKeepsValues(t *testing.T) {
	hosts := []string{"a:1", "[::1]:9092"}
	in := Config{Hosts: hosts, SocketTimeout: time.Second, OffsetsChannelTimeout: 2 * time.Second,
		DialTimeout: 3 * time.Second, ClientID: "me", SourceAddress: "127.0.0.2:0", ZooKeeperHosts: "zk:2181/kafka"}
	cfg, err := in.withDefaults()
	require.NoError(t, err)
	assert.Equal(t, hosts, cfg.Hosts)
	assert.Equal(t, time.Second, cfg.SocketTimeout)
	assert.Equal(t, 2*time.Second, cfg.OffsetsChannelTimeout)
	assert.Equal(t, 3*time.Second, cfg.DialTimeout)
	assert.Equal(t, "me", cfg.ClientID)
	hosts[0] = "changed:1"
	assert.Equal(t, "a:1", cfg.Hosts[0], "the client keeps its own copy")
}

func TestConfigValidation(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   Config
		field string
	}{
		{"negative socket timeout", Config{SocketTimeout: -1}, "SocketTimeout"},
		{"negative offsets timeout", Config{OffsetsChannelTimeout: -time.Second}, "OffsetsChannelTimeout"},
		{"negative dial timeout", Config{DialTimeout: -1}, "DialTimeout"},
		{"host without port", Config{Hosts: []string{"a:1", "localhost"}}, "Hosts[1]"},
		{"empty host", Config{Hosts: []string{":9092"}}, "Hosts[0]"},
		{"port zero", Config{Hosts: []string{"a:0"}}, "Hosts[0]"},
		{"port too big", Config{Hosts: []string{"a:65536"}}, "Hosts[0]"},
		{"port not a number", Config{Hosts: []string{"a:http"}}, "Hosts[0]"},
		{"comma list in one entry", Config{Hosts: []string{"a:1,b:2"}}, "Hosts[0]"},
		{"bad zookeeper", Config{ZooKeeperHosts: "zk:2181,,zk2"}, "ZooKeeperHosts"},
		{"bad source address", Config{SourceAddress: "example.com:0"}, "SourceAddress"},
		{"source address without port", Config{SourceAddress: "127.0.0.1"}, "SourceAddress"},
		{"client id too long", Config{ClientID: strings.Repeat("x", 1<<15)}, "ClientID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.cfg.withDefaults()
			var ce *ConfigError
			require.True(t, errors.As(err, &ce), "got %v", err)
			assert.Equal(t, tc.field, ce.Field)
			assert.Contains(t, err.Error(), "kafka: invalid Config."+tc.field)
		})
	}
}

func TestNewClientRejectsBadConfig(t *testing.T) {
	_, err := NewClient(t.Context(), Config{DialTimeout: -1})
	var ce *ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "DialTimeout", ce.Field)
}
