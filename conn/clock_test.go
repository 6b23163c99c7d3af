package conn

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/handler/fakeclock"
	"github.com/gregorkafka/gregor/protocol"
)

// eachFakeClock runs fn once per handler implementation, its clock virtual:
// sockets are real, request deadlines follow fc.Advance.
func eachFakeClock(t *testing.T, fn func(t *testing.T, fc *fakeclock.Handler)) {
	eachHandler(t, func(t *testing.T, h handler.Handler) { fn(t, fakeclock.New(h)) })
}

// The request timer measures each request from its own send, is re-armed
// for the next deadline after firing early, and fails the connection the
// moment the oldest overdue deadline passes, not a nanosecond before.
func TestRequestTimeoutOnVirtualClock(t *testing.T) {
	eachFakeClock(t, func(t *testing.T, fc *fakeclock.Handler) {
		b := newFakeBroker(t)
		reqs := holdRequests(b)
		const timeout = 30 * time.Second
		c := dialed(t, fc, b.addr(), Config{RequestTimeout: timeout})
		ctx := guarded(t)

		first, err := c.Request(ctx, metadataFor("first"))
		require.NoError(t, err)
		fc.Advance(20 * time.Second)
		second, err := c.Request(ctx, metadataFor("second"))
		require.NoError(t, err)
		r := recv(t, reqs)
		b.answer(r.fc, r.r)
		_, err = first.Get(ctx)
		require.NoError(t, err)
		recv(t, reqs) // second reached the broker, which keeps it

		// The timer set for the first deadline fires and finds second not
		// yet due: it re-arms for second's deadline.
		fc.Advance(10 * time.Second)
		require.NoError(t, fc.BlockUntil(ctx, 1))
		next, ok := fc.Next()
		require.True(t, ok)
		assert.Equal(t, 20*time.Second, next)
		assert.False(t, second.Done())
		assert.True(t, c.Connected())

		fc.Advance(next - time.Nanosecond)
		assert.False(t, second.Done(), "failed before its deadline")
		fc.Advance(time.Nanosecond)
		_, err = second.Get(ctx)
		requireDisconnected(t, err, b.addr())
		var te *RequestTimeoutError
		require.ErrorAs(t, err, &te)
		assert.Equal(t, second.CorrelationID(), te.CorrelationID)
		assert.Equal(t, protocol.APIKeyMetadata, te.APIKey)
		assert.Equal(t, timeout, te.Timeout)
		assert.False(t, c.Connected())
	})
}
