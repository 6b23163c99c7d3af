package conn

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler/goroutine"
)

func TestConfigDefaults(t *testing.T) {
	c, err := New(goroutine.New(), "127.0.0.1:9092", Config{})
	require.NoError(t, err)
	cfg := c.Config()
	assert.Equal(t, DefaultClientID, cfg.ClientID)
	assert.Equal(t, DefaultClientSoftwareName, cfg.ClientSoftwareName)
	assert.Equal(t, DefaultClientSoftwareVersion, cfg.ClientSoftwareVersion)
	assert.Equal(t, DefaultDialTimeout, cfg.DialTimeout)
	assert.Equal(t, DefaultRequestTimeout, cfg.RequestTimeout)
	assert.Equal(t, DefaultMaxInFlight, cfg.MaxInFlight)
	assert.NotNil(t, cfg.Logger)
	assert.Zero(t, cfg.MaxFrameSize, "left to the handler's default")

	c, err = New(goroutine.New(), "127.0.0.1:9092", Config{ClientID: "svc", RequestTimeout: time.Second, MaxInFlight: 5})
	require.NoError(t, err)
	assert.Equal(t, "svc", c.Config().ClientID)
	assert.Equal(t, time.Second, c.Config().RequestTimeout)
	assert.Equal(t, 5, c.Config().MaxInFlight)
}

func TestConfigValidation(t *testing.T) {
	for field, cfg := range map[string]Config{
		"ClientID":        {ClientID: strings.Repeat("x", 1<<15)},
		"DialTimeout":     {DialTimeout: -1},
		"RequestTimeout":  {RequestTimeout: -1},
		"ReadBufferSize":  {ReadBufferSize: -1},
		"WriteBufferSize": {WriteBufferSize: -1},
		"MaxFrameSize":    {MaxFrameSize: -1},
		"MaxInFlight":     {MaxInFlight: -1},
	} {
		_, err := New(goroutine.New(), "127.0.0.1:9092", cfg)
		var ce *ConfigError
		require.ErrorAs(t, err, &ce, field)
		assert.Equal(t, field, ce.Field)
		assert.Contains(t, err.Error(), field)
	}
	_, err := New(goroutine.New(), "", Config{})
	var ce *ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "address", ce.Field)
	_, err = New(nil, "127.0.0.1:9092", Config{})
	require.ErrorAs(t, err, &ce)
}
