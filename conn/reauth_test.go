package conn

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/protocol"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// wireLog records, in the order the broker read them, the topic names of
// the Metadata requests on a fake broker.
type wireLog struct {
	mu     sync.Mutex
	topics []string
}

func (w *wireLog) handle(b *fakeBroker) func(*fakeConn, *fakeRequest) {
	return func(fc *fakeConn, r *fakeRequest) {
		if m, ok := r.msg.(*protocol.MetadataRequest); ok && len(m.Topics) == 1 {
			w.mu.Lock()
			w.topics = append(w.topics, *m.Topics[0].Name)
			w.mu.Unlock()
		}
		b.answer(fc, r)
	}
}

func (w *wireLog) snapshot() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.topics...)
}

// TestReauthenticate: with a short session lifetime, Authenticate runs
// again on the same socket while other callers keep sending; none of their
// requests fails or gets another's answer, and none reaches the wire
// between the two requests of one re-authentication.
func TestReauthenticate(t *testing.T) {
	eachHandler(t, func(t *testing.T, h handler.Handler) {
		b := newFakeBroker(t)
		var log wireLog
		b.setHandle(log.handle(b))
		var runs atomic.Int32
		c := dialed(t, h, b.addr(), Config{Authenticate: func(ctx context.Context, c *BrokerConnection) (time.Duration, error) {
			n := runs.Add(1)
			for step := 1; step <= 2; step++ {
				name := fmt.Sprintf("auth-%d-%d", n, step)
				resp, err := c.RoundTrip(ctx, metadataFor(name))
				if err != nil {
					return 0, err
				}
				if got := topicOf(t, resp); got != name {
					return 0, fmt.Errorf("answer for %s, want %s", got, name)
				}
			}
			return 20 * time.Millisecond, nil
		}})
		local := c.LocalAddr()

		ctx := guarded(t)
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; runs.Load() < 5 && ctx.Err() == nil; i++ {
					name := fmt.Sprintf("req-%d-%d", w, i)
					resp, err := c.RoundTrip(ctx, metadataFor(name))
					if err != nil {
						errs <- err
						return
					}
					if got := topicOf(t, resp); got != name {
						errs <- fmt.Errorf("answer for %s, want %s", got, name)
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		require.GreaterOrEqual(t, runs.Load(), int32(5), "re-authentications")
		assert.Equal(t, local, c.LocalAddr(), "the same socket throughout")
		assert.True(t, c.Connected())

		wire := log.snapshot()
		for i, name := range wire {
			// (The last one may still be under way.)
			if strings.HasPrefix(name, "auth-") && strings.HasSuffix(name, "-1") && i+1 < len(wire) {
				assert.Equal(t, strings.TrimSuffix(name, "1")+"2", wire[i+1], "a request between two steps of one authentication")
			}
		}
	})
}

// TestReauthenticateFailure: a re-authentication that fails breaks the
// connection with an *AuthError as the cause.
func TestReauthenticateFailure(t *testing.T) {
	eachHandler(t, func(t *testing.T, h handler.Handler) {
		b := newFakeBroker(t)
		denied := errors.New("credentials revoked")
		var runs atomic.Int32
		c := dialed(t, h, b.addr(), Config{Authenticate: func(ctx context.Context, c *BrokerConnection) (time.Duration, error) {
			if runs.Add(1) > 1 {
				return 0, denied
			}
			return 10 * time.Millisecond, nil
		}})
		ctx := guarded(t)
		var err error
		for err == nil && ctx.Err() == nil {
			_, err = c.RoundTrip(ctx, metadataFor("x"))
		}
		var de *DisconnectedError
		var ae *AuthError
		require.ErrorAs(t, err, &de)
		require.ErrorAs(t, err, &ae)
		assert.ErrorIs(t, err, denied)
		assert.False(t, c.Connected())
	})
}

// TestReauthenticateBehindHeldRequest: a re-authentication queued behind a
// request the broker holds for longer than RequestTimeout (a JoinGroup
// during a rebalance) waits for it instead of timing out.
func TestReauthenticateBehindHeldRequest(t *testing.T) {
	eachHandler(t, func(t *testing.T, h handler.Handler) {
		b := newFakeBroker(t)
		const hold = 600 * time.Millisecond
		b.setHandle(func(fc *fakeConn, r *fakeRequest) {
			if m, ok := r.msg.(*protocol.MetadataRequest); ok && len(m.Topics) == 1 && *m.Topics[0].Name == "held" {
				time.Sleep(hold) // the broker reads nothing else meanwhile
			}
			b.answer(fc, r)
		})
		var runs atomic.Int32
		reauth := make(chan error, 1)
		c := dialed(t, h, b.addr(), Config{RequestTimeout: 200 * time.Millisecond,
			Authenticate: func(ctx context.Context, c *BrokerConnection) (time.Duration, error) {
				if runs.Add(1) == 1 {
					return 50 * time.Millisecond, nil
				}
				_, err := c.RoundTrip(ctx, metadataFor("auth"))
				reauth <- err
				return 0, err
			}})
		ctx := guarded(t)
		held, err := c.RequestWithTimeout(ctx, metadataFor("held"), 10*time.Second)
		require.NoError(t, err)
		require.NoError(t, recv(t, reauth), "re-authentication behind the held request")
		resp, err := held.Get(ctx)
		require.NoError(t, err)
		assert.Equal(t, "held", topicOf(t, resp))
		resp, err = c.RoundTrip(ctx, metadataFor("after"))
		require.NoError(t, err)
		assert.Equal(t, "after", topicOf(t, resp))
		assert.True(t, c.Connected())
	})
}
