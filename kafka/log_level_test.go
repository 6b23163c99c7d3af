package kafka

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
)

// TestRoutineLogsAtDebug: a client that joins its brokers and produces logs
// nothing at Info on the way; the same events are there at Debug.
func TestRoutineLogsAtDebug(t *testing.T) {
	h := newHandler(t, "goroutine")
	c := newPFCluster(t, 2, 2)
	var info, debug bytes.Buffer
	for _, lv := range []struct {
		buf   *bytes.Buffer
		level slog.Level
	}{{&info, slog.LevelInfo}, {&debug, slog.LevelDebug}} {
		ctx := testCtx(t)
		log := slog.New(slog.NewTextHandler(lv.buf, &slog.HandlerOptions{Level: lv.level}))
		cl := newTestClient(t, ctx, h, Config{Hosts: c.bootstrap(), Logger: log})
		topic, err := cl.Topic(ctx, c.topic)
		require.NoError(t, err)
		p, err := topic.Producer(ProducerConfig{})
		require.NoError(t, err)
		require.NoError(t, p.Produce(ctx, Message{Value: value(0)}))
		require.NoError(t, p.Close())
		cl.Close()
	}
	assert.Empty(t, info.String(), "nothing routine at Info")
	assert.True(t, strings.Contains(debug.String(), "kafka: broker joined"), "at Debug: %s", debug.String())
}

// TestRefusedDialWording: a seed that refuses the connection is reported as
// never reached, not as "disconnected".
func TestRefusedDialWording(t *testing.T) {
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		addr := deadAddr(t)
		_, err := NewClient(testCtx(t), Config{Hosts: []string{addr}, Handler: h, Logger: testLogger()})
		require.ErrorIs(t, err, ErrNoBrokersAvailable)
		assert.Contains(t, err.Error(), "could not connect to "+addr)
		assert.Contains(t, err.Error(), "connection refused")
		assert.NotContains(t, err.Error(), "disconnected")
	})
}
