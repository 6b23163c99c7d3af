package conn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/protocol"
)

// held is a request the fake broker has not answered yet.
type held struct {
	fc *fakeConn
	r  *fakeRequest
}

// holdRequests makes b answer ApiVersions and queue every other request for
// the test to answer.
func holdRequests(b *fakeBroker) chan held {
	ch := make(chan held, 4096)
	b.setHandle(b.skipAPIVersions(func(fc *fakeConn, r *fakeRequest) { ch <- held{fc, r} }))
	return ch
}

// recv takes the next value from ch within the hang guard.
func recv[T any](tb testing.TB, ch <-chan T) T {
	tb.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(guard):
		tb.Fatal("timed out waiting")
		var zero T
		return zero
	}
}

// topicOf returns the single topic name a fake Metadata response echoes.
func topicOf(tb testing.TB, m protocol.Message) string {
	tb.Helper()
	resp, ok := m.(*protocol.MetadataResponse)
	require.True(tb, ok, "response is %T", m)
	require.Len(tb, resp.Topics, 1)
	require.NotNil(tb, resp.Topics[0].Name)
	return *resp.Topics[0].Name
}

// requireDisconnected checks that err is the typed connection failure.
func requireDisconnected(tb testing.TB, err error, addr string) *DisconnectedError {
	tb.Helper()
	require.Error(tb, err)
	require.ErrorIs(tb, err, ErrDisconnected)
	var de *DisconnectedError
	require.ErrorAs(tb, err, &de)
	assert.Equal(tb, addr, de.Address)
	return de
}

func TestConnectNegotiatesVersions(t *testing.T) {
	eachHandler(t, func(t *testing.T, h handler.Handler) {
		b := newFakeBroker(t)
		c, err := New(h, b.addr(), Config{})
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.Close() })
		assert.False(t, c.Connected())
		assert.Nil(t, c.Versions())
		assert.Nil(t, c.LocalAddr())

		require.NoError(t, c.Connect(guarded(t)))
		assert.True(t, c.Connected())
		assert.Equal(t, b.addr(), c.Address())
		require.NotNil(t, c.LocalAddr())
		for _, k := range protocol.APIKeys() {
			r, _ := protocol.UsableVersionRange(k)
			v, err := c.Versions().Pick(k)
			require.NoError(t, err)
			assert.Equal(t, r.Max, v, protocol.APIName(k))
		}
		// Connecting again is a no-op on a live connection.
		local := c.LocalAddr().String()
		require.NoError(t, c.Connect(guarded(t)))
		assert.Equal(t, local, c.LocalAddr().String())
	})
}

func TestAPIVersionsFallback(t *testing.T) {
	for _, brokerMax := range []int16{3, 2, 0} {
		t.Run(fmt.Sprint("broker max ", brokerMax), func(t *testing.T) {
			eachHandler(t, func(t *testing.T, h handler.Handler) {
				b := newFakeBroker(t)
				b.apiVersionsMax = brokerMax
				var mu sync.Mutex
				var asked []int16
				b.setHandle(func(fc *fakeConn, r *fakeRequest) {
					if r.hdr.APIKey == protocol.APIKeyAPIVersions {
						mu.Lock()
						asked = append(asked, r.hdr.APIVersion)
						mu.Unlock()
					}
					b.answer(fc, r)
				})
				c := dialed(t, h, b.addr(), Config{})
				mu.Lock()
				assert.Equal(t, []int16{4, brokerMax}, asked)
				mu.Unlock()
				assert.True(t, c.Connected())
				v, ok := c.Versions().Version(protocol.APIKeyMetadata)
				require.True(t, ok)
				assert.Equal(t, int16(12), v)

				resp, err := c.RoundTrip(guarded(t), metadataFor("after-fallback"))
				require.NoError(t, err)
				assert.Equal(t, "after-fallback", topicOf(t, resp))
			})
		})
	}
}

func TestAPIVersionsRefusedTwice(t *testing.T) {
	eachHandler(t, func(t *testing.T, h handler.Handler) {
		b := newFakeBroker(t)
		// Claims to support 0-4 but refuses everything: the client must not
		// loop.
		b.setHandle(func(fc *fakeConn, r *fakeRequest) {
			resp := &protocol.APIVersionsResponse{
				ErrorCode: protocol.ErrUnsupportedVersion.Code,
				APIKeys:   []protocol.APIVersionsResponseAPIKey{{APIKey: protocol.APIKeyAPIVersions, MaxVersion: 4}},
			}
			frame, err := protocol.AppendResponseFrame(nil, resp, 0, r.hdr.CorrelationID)
			require.NoError(t, err)
			fc.write(frame)
		})
		c, err := New(h, b.addr(), Config{})
		require.NoError(t, err)
		defer c.Close()
		err = c.Connect(guarded(t))
		var he *HandshakeError
		require.ErrorAs(t, err, &he)
		assert.ErrorIs(t, err, protocol.ErrUnsupportedVersion)
		assert.False(t, c.Connected())
		b.next(t).waitGone(t)
	})
}

func TestAPIVersionsErrorCode(t *testing.T) {
	eachHandler(t, func(t *testing.T, h handler.Handler) {
		b := newFakeBroker(t)
		b.setHandle(func(fc *fakeConn, r *fakeRequest) {
			resp := protocol.NewAPIVersionsResponse()
			resp.ErrorCode = protocol.ErrClusterAuthorizationFailed.Code
			fc.reply(t, r, resp)
		})
		c, err := New(h, b.addr(), Config{})
		require.NoError(t, err)
		defer c.Close()
		err = c.Connect(guarded(t))
		var he *HandshakeError
		require.ErrorAs(t, err, &he)
		assert.ErrorIs(t, err, protocol.ErrClusterAuthorizationFailed)
	})
}

func TestPipelining(t *testing.T) {
	const total, inFlight = 1000, 256
	eachHandler(t, func(t *testing.T, h handler.Handler) {
		b := newFakeBroker(t)
		// Answer nothing until a full window of requests has arrived, which
		// only happens if the client really keeps 256 in flight; then answer
		// the window in order, and everything after it at once.
		var mu sync.Mutex
		var window []*fakeRequest
		opened := false
		b.setHandle(b.skipAPIVersions(func(fc *fakeConn, r *fakeRequest) {
			mu.Lock()
			defer mu.Unlock()
			if opened {
				b.answer(fc, r)
				return
			}
			window = append(window, r)
			if len(window) == inFlight {
				opened = true
				for _, w := range window {
					b.answer(fc, w)
				}
			}
		}))
		c := dialed(t, h, b.addr(), Config{MaxInFlight: inFlight})
		ctx := guarded(t)

		futures := make([]*ResponseFuture, total)
		errs := make(chan error, total)
		var wg sync.WaitGroup
		const senders = 8
		for s := range senders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := s; i < total; i += senders {
					f, err := c.Request(ctx, metadataFor(fmt.Sprint("t", i)))
					if err != nil {
						errs <- err
						return
					}
					futures[i] = f
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		ids := map[int32]bool{}
		for i, f := range futures {
			resp, err := f.Get(ctx)
			require.NoError(t, err)
			assert.Equal(t, fmt.Sprint("t", i), topicOf(t, resp))
			assert.True(t, f.Done())
			assert.Equal(t, protocol.APIKeyMetadata, f.APIKey())
			assert.Equal(t, int16(12), f.Version())
			assert.False(t, ids[f.CorrelationID()], "correlation id reused")
			ids[f.CorrelationID()] = true
		}
		assert.True(t, c.Connected())
	})
}

func TestMaxInFlightWaitsHonouringContext(t *testing.T) {
	eachHandler(t, func(t *testing.T, h handler.Handler) {
		b := newFakeBroker(t)
		reqs := holdRequests(b)
		c := dialed(t, h, b.addr(), Config{MaxInFlight: 4})
		ctx := guarded(t)

		var futures []*ResponseFuture
		for i := range 4 {
			f, err := c.Request(ctx, metadataFor(fmt.Sprint(i)))
			require.NoError(t, err)
			futures = append(futures, f)
		}
		// The window is full: a fifth caller waits and gives up with its ctx.
		short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		defer cancel()
		_, err := c.Request(short, metadataFor("refused"))
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.True(t, c.Connected(), "giving up a wait does not hurt the connection")

		// A freed slot lets the next caller through.
		first := recv(t, reqs)
		b.answer(first.fc, first.r)
		f, err := c.Request(ctx, metadataFor("admitted"))
		require.NoError(t, err)
		futures = append(futures, f)
		for range 4 {
			r := recv(t, reqs)
			b.answer(r.fc, r.r)
		}
		want := []string{"0", "1", "2", "3", "admitted"}
		for i, f := range futures {
			resp, err := f.Get(ctx)
			require.NoError(t, err)
			assert.Equal(t, want[i], topicOf(t, resp))
		}
		// The refused request never reached the broker.
		select {
		case r := <-reqs:
			t.Fatalf("unexpected request %+v", r.r.hdr)
		default:
		}
	})
}

func TestCorrelationMismatchFailsEveryone(t *testing.T) {
	eachHandler(t, func(t *testing.T, h handler.Handler) {
		b := newFakeBroker(t)
		reqs := holdRequests(b)
		c := dialed(t, h, b.addr(), Config{RequestTimeout: time.Hour})
		ctx := guarded(t)
		var futures []*ResponseFuture
		for i := range 3 {
			f, err := c.Request(ctx, metadataFor(fmt.Sprint(i)))
			require.NoError(t, err)
			futures = append(futures, f)
		}
		r0, r1 := recv(t, reqs), recv(t, reqs)
		recv(t, reqs)
		b.answer(r1.fc, r1.r) // out of order

		for _, f := range futures {
			_, err := f.Get(ctx)
			de := requireDisconnected(t, err, b.addr())
			var ce *CorrelationError
			require.ErrorAs(t, de, &ce)
			assert.ErrorIs(t, err, ErrCorrelationMismatch)
			assert.Equal(t, r0.r.hdr.CorrelationID, ce.Expected)
			assert.Equal(t, r1.r.hdr.CorrelationID, ce.Got)
		}
		assert.False(t, c.Connected())
		r0.fc.waitGone(t)
		_, err := c.Request(ctx, metadataFor("late"))
		requireDisconnected(t, err, b.addr())
		assert.ErrorIs(t, err, ErrCorrelationMismatch, "later requests get the same cause")
	})
}

func TestUnsolicitedResponseBreaksConnection(t *testing.T) {
	eachHandler(t, func(t *testing.T, h handler.Handler) {
		b := newFakeBroker(t)
		c := dialed(t, h, b.addr(), Config{RequestTimeout: time.Hour})
		fc := b.next(t)
		frame, err := protocol.AppendResponseFrame(nil, protocol.NewMetadataResponse(), 0, 77)
		require.NoError(t, err)
		fc.write(frame)
		fc.waitGone(t)
		assert.False(t, c.Connected())
		_, err = c.Request(guarded(t), metadataFor("x"))
		var ce *CorrelationError
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, int32(-1), ce.Expected)
		assert.Equal(t, int32(77), ce.Got)
	})
}

func TestPeerCloseMidFrameFailsPending(t *testing.T) {
	eachHandler(t, func(t *testing.T, h handler.Handler) {
		b := newFakeBroker(t)
		reqs := holdRequests(b)
		// An hour-long request timeout: only the close can end these waits.
		c := dialed(t, h, b.addr(), Config{RequestTimeout: time.Hour})
		ctx := guarded(t)
		var futures []*ResponseFuture
		for i := range 5 {
			f, err := c.Request(ctx, metadataFor(fmt.Sprint(i)))
			require.NoError(t, err)
			futures = append(futures, f)
		}
		r := recv(t, reqs)
		for range 4 {
			recv(t, reqs)
		}
		r.fc.write([]byte{0, 0, 0, 100, 0, 0, 0, 1, 2, 3})
		r.fc.close()

		for _, f := range futures {
			_, err := f.Get(ctx)
			requireDisconnected(t, err, b.addr())
			var ce *handler.ConnError
			require.ErrorAs(t, err, &ce)
			assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
		}
		assert.False(t, c.Connected())
	})
}

func TestOversizedResponseBreaksConnection(t *testing.T) {
	eachHandler(t, func(t *testing.T, h handler.Handler) {
		b := newFakeBroker(t)
		reqs := holdRequests(b)
		c := dialed(t, h, b.addr(), Config{MaxFrameSize: 1024, RequestTimeout: time.Hour})
		f, err := c.Request(guarded(t), metadataFor("big"))
		require.NoError(t, err)
		r := recv(t, reqs)
		r.fc.write([]byte{0, 1, 0, 0}) // 64 KiB announced
		_, err = f.Get(guarded(t))
		requireDisconnected(t, err, b.addr())
		assert.ErrorIs(t, err, handler.ErrFrameTooLarge)
	})
}

func TestRequestTimeoutClosesConnection(t *testing.T) {
	eachHandler(t, func(t *testing.T, h handler.Handler) {
		b := newFakeBroker(t)
		reqs := holdRequests(b)
		c := dialed(t, h, b.addr(), Config{RequestTimeout: 50 * time.Millisecond})
		ctx := guarded(t)
		// A longer per-request timeout in front does not shield the short one
		// behind it.
		long, err := c.RequestWithTimeout(ctx, metadataFor("long"), time.Hour)
		require.NoError(t, err)
		short, err := c.Request(ctx, metadataFor("short"))
		require.NoError(t, err)

		for _, f := range []*ResponseFuture{long, short} {
			_, err := f.Get(ctx)
			requireDisconnected(t, err, b.addr())
			var te *RequestTimeoutError
			require.ErrorAs(t, err, &te)
			assert.ErrorIs(t, err, ErrRequestTimeout)
			assert.Equal(t, short.CorrelationID(), te.CorrelationID)
			assert.Equal(t, protocol.APIKeyMetadata, te.APIKey)
			assert.Equal(t, 50*time.Millisecond, te.Timeout)
		}
		assert.False(t, c.Connected())
		recv(t, reqs).fc.waitGone(t)
	})
}

func TestCanceledCallerDoesNotDisturbOthers(t *testing.T) {
	eachHandler(t, func(t *testing.T, h handler.Handler) {
		b := newFakeBroker(t)
		reqs := holdRequests(b)
		c := dialed(t, h, b.addr(), Config{})
		ctx := guarded(t)
		var futures []*ResponseFuture
		for i := range 3 {
			f, err := c.Request(ctx, metadataFor(fmt.Sprint(i)))
			require.NoError(t, err)
			futures = append(futures, f)
		}
		canceled, cancel := context.WithCancel(ctx)
		cancel()
		_, err := futures[1].Get(canceled)
		require.ErrorIs(t, err, context.Canceled)
		assert.False(t, futures[1].Done())

		for range 3 {
			r := recv(t, reqs)
			b.answer(r.fc, r.r)
		}
		for i, f := range futures {
			resp, err := f.Get(ctx)
			require.NoError(t, err)
			assert.Equal(t, fmt.Sprint(i), topicOf(t, resp))
		}
		assert.True(t, c.Connected())
	})
}

func TestAcksZeroProduceGetsNoFuture(t *testing.T) {
	eachHandler(t, func(t *testing.T, h handler.Handler) {
		b := newFakeBroker(t)
		var mu sync.Mutex
		var produced []int16
		b.setHandle(func(fc *fakeConn, r *fakeRequest) {
			if p, ok := r.msg.(*protocol.ProduceRequest); ok {
				mu.Lock()
				produced = append(produced, p.Acks)
				mu.Unlock()
			}
			b.answer(fc, r)
		})
		c := dialed(t, h, b.addr(), Config{MaxInFlight: 1})
		ctx := guarded(t)
		p := protocol.NewProduceRequest()
		p.Acks = 0
		// MaxInFlight 1: untracked requests take no slot, or the second
		// would wait forever.
		for range 2 {
			f, err := c.Request(ctx, p)
			require.NoError(t, err)
			assert.Nil(t, f)
			assert.True(t, f.Done())
			m, err := f.Get(ctx)
			assert.NoError(t, err)
			assert.Nil(t, m)
		}
		m, err := c.RoundTrip(ctx, p)
		assert.NoError(t, err)
		assert.Nil(t, m)

		// The FIFO is not confused by the unanswered requests.
		resp, err := c.RoundTrip(ctx, metadataFor("next"))
		require.NoError(t, err)
		assert.Equal(t, "next", topicOf(t, resp))
		p.Acks = -1
		resp, err = c.RoundTrip(ctx, p)
		require.NoError(t, err)
		assert.IsType(t, &protocol.ProduceResponse{}, resp)
		mu.Lock()
		assert.Equal(t, []int16{0, 0, 0, -1}, produced)
		mu.Unlock()
	})
}

func TestCloseIsIdempotentAndFinal(t *testing.T) {
	eachHandler(t, func(t *testing.T, h handler.Handler) {
		b := newFakeBroker(t)
		reqs := holdRequests(b)
		c := dialed(t, h, b.addr(), Config{RequestTimeout: time.Hour})
		ctx := guarded(t)
		f, err := c.Request(ctx, metadataFor("pending"))
		require.NoError(t, err)
		r := recv(t, reqs)

		require.NoError(t, c.Close())
		require.NoError(t, c.Close())
		assert.False(t, c.Connected())
		_, err = f.Get(ctx)
		requireDisconnected(t, err, b.addr())
		assert.ErrorIs(t, err, ErrClosed)
		r.fc.waitGone(t)

		_, err = c.Request(ctx, metadataFor("after"))
		assert.ErrorIs(t, err, ErrClosed)
		assert.ErrorIs(t, c.Connect(ctx), ErrClosed)
		assert.ErrorIs(t, c.Reconnect(ctx), ErrClosed)
	})
}

func TestReconnect(t *testing.T) {
	eachHandler(t, func(t *testing.T, h handler.Handler) {
		b := newFakeBroker(t)
		reqs := holdRequests(b)
		c := dialed(t, h, b.addr(), Config{RequestTimeout: time.Hour})
		ctx := guarded(t)
		first := b.next(t)

		// The broker goes away with a request pending.
		f, err := c.Request(ctx, metadataFor("lost"))
		require.NoError(t, err)
		recv(t, reqs)
		first.close()
		_, err = f.Get(ctx)
		requireDisconnected(t, err, b.addr())
		assert.ErrorIs(t, err, io.EOF)
		assert.False(t, c.Connected())
		_, err = c.Request(ctx, metadataFor("while down"))
		requireDisconnected(t, err, b.addr())

		require.NoError(t, c.Reconnect(ctx))
		assert.True(t, c.Connected())
		second := b.next(t)
		assert.Equal(t, second.nc.RemoteAddr().String(), c.LocalAddr().String())
		f, err = c.Request(ctx, metadataFor("back"))
		require.NoError(t, err)
		r := recv(t, reqs)
		b.answer(r.fc, r.r)
		resp, err := f.Get(ctx)
		require.NoError(t, err)
		assert.Equal(t, "back", topicOf(t, resp))

		// Reconnecting a live connection fails what was pending on the old
		// socket and closes it.
		f, err = c.Request(ctx, metadataFor("old"))
		require.NoError(t, err)
		recv(t, reqs)
		require.NoError(t, c.Reconnect(ctx))
		_, err = f.Get(ctx)
		assert.ErrorIs(t, err, ErrClosed)
		second.waitGone(t)
		assert.True(t, c.Connected())
	})
}

func TestConcurrentCallers(t *testing.T) {
	eachHandler(t, func(t *testing.T, h handler.Handler) {
		b := newFakeBroker(t)
		c := dialed(t, h, b.addr(), Config{MaxInFlight: 32})
		ctx := guarded(t)
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for g := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 200 {
					want := fmt.Sprintf("g%d-%d", g, i)
					resp, err := c.RoundTrip(ctx, metadataFor(want))
					if err != nil {
						errs <- err
						return
					}
					if got := *resp.(*protocol.MetadataResponse).Topics[0].Name; got != want {
						errs <- fmt.Errorf("got response %q for request %q", got, want)
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
	})
}

func TestRequestBeforeConnect(t *testing.T) {
	eachHandler(t, func(t *testing.T, h handler.Handler) {
		c, err := New(h, "127.0.0.1:1", Config{})
		require.NoError(t, err)
		_, err = c.Request(guarded(t), metadataFor("x"))
		requireDisconnected(t, err, "127.0.0.1:1")
		assert.ErrorIs(t, err, ErrNotConnected)
		assert.Equal(t, "conn: 127.0.0.1:1 is not connected", err.Error())
	})
}

func TestDialFailure(t *testing.T) {
	eachHandler(t, func(t *testing.T, h handler.Handler) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := ln.Addr().String()
		require.NoError(t, ln.Close())
		c, err := New(h, addr, Config{})
		require.NoError(t, err)
		err = c.Connect(guarded(t))
		requireDisconnected(t, err, addr)
		var de *handler.DialError
		assert.ErrorAs(t, err, &de)
		// It never connected: the message says so, not "disconnected".
		assert.Contains(t, err.Error(), "could not connect to "+addr)
		assert.Contains(t, err.Error(), "connection refused")
		assert.NotContains(t, err.Error(), "disconnected")
		assert.False(t, c.Connected())
		// Requests until the next Connect report why.
		_, err = c.Request(guarded(t), metadataFor("x"))
		requireDisconnected(t, err, addr)
		assert.ErrorAs(t, err, &de)
	})
}

func TestNoCommonVersionNamesTheAPI(t *testing.T) {
	eachHandler(t, func(t *testing.T, h handler.Handler) {
		b := newFakeBroker(t)
		b.setHandle(func(fc *fakeConn, r *fakeRequest) {
			if r.hdr.APIKey != protocol.APIKeyAPIVersions {
				b.answer(fc, r)
				return
			}
			resp := protocol.NewAPIVersionsResponse()
			resp.APIKeys = []protocol.APIVersionsResponseAPIKey{
				{APIKey: protocol.APIKeyAPIVersions, MaxVersion: 4},
				{APIKey: protocol.APIKeyFetch, MinVersion: 40, MaxVersion: 50},
			}
			fc.reply(t, r, resp)
		})
		c := dialed(t, h, b.addr(), Config{})
		_, err := c.Request(guarded(t), protocol.NewFetchRequest())
		var ue *protocol.UnsupportedVersionError
		require.ErrorAs(t, err, &ue)
		assert.Equal(t, "Fetch", ue.APIName)
		assert.Contains(t, err.Error(), "Fetch")
		_, err = c.Request(guarded(t), metadataFor("x"))
		require.ErrorAs(t, err, &ue)
		assert.Equal(t, "Metadata", ue.APIName)

		// An explicit version bypasses negotiation.
		f, err := c.RequestVersion(guarded(t), metadataFor("pinned"), 1)
		require.NoError(t, err)
		assert.Equal(t, int16(1), f.Version())
		resp, err := f.Get(guarded(t))
		require.NoError(t, err)
		assert.Equal(t, "pinned", topicOf(t, resp))
	})
}

func TestUndecodableResponseKeepsConnection(t *testing.T) {
	eachHandler(t, func(t *testing.T, h handler.Handler) {
		b := newFakeBroker(t)
		reqs := holdRequests(b)
		c := dialed(t, h, b.addr(), Config{})
		ctx := guarded(t)
		f, err := c.Request(ctx, metadataFor("bad"))
		require.NoError(t, err)
		r := recv(t, reqs)
		// A correct correlation id followed by a body cut short.
		id := r.r.hdr.CorrelationID
		r.fc.write([]byte{0, 0, 0, 6, byte(id >> 24), byte(id >> 16), byte(id >> 8), byte(id), 0, 0})
		_, err = f.Get(ctx)
		var re *ResponseError
		require.ErrorAs(t, err, &re)
		assert.ErrorIs(t, err, protocol.ErrTruncated)
		assert.Equal(t, protocol.APIKeyMetadata, re.APIKey)
		_, again := f.Get(ctx)
		assert.Same(t, re, again.(*ResponseError), "decoded once")
		assert.True(t, c.Connected())

		f, err = c.Request(ctx, metadataFor("good"))
		require.NoError(t, err)
		r = recv(t, reqs)
		b.answer(r.fc, r.r)
		resp, err := f.Get(ctx)
		require.NoError(t, err)
		assert.Equal(t, "good", topicOf(t, resp))
	})
}

func TestAuthenticateHook(t *testing.T) {
	eachHandler(t, func(t *testing.T, h handler.Handler) {
		b := newFakeBroker(t)
		var sawConnected, sawVersions bool
		var outsiderErr error
		c := dialed(t, h, b.addr(), Config{Authenticate: func(ctx context.Context, c *BrokerConnection) (time.Duration, error) {
			sawConnected = c.Connected()
			sawVersions = c.Versions() != nil
			_, outsiderErr = c.Request(context.Background(), metadataFor("outsider"))
			resp, err := c.RoundTrip(ctx, metadataFor("auth"))
			if err != nil {
				return 0, err
			}
			if topicOf(t, resp) != "auth" {
				return 0, errors.New("wrong response")
			}
			return 0, nil
		}})
		assert.False(t, sawConnected, "not ready before authentication ends")
		assert.True(t, sawVersions)
		assert.ErrorIs(t, outsiderErr, ErrNotConnected, "only the hook sends during the handshake")
		assert.True(t, c.Connected())

		denied := errors.New("denied")
		c2, err := New(h, b.addr(), Config{Authenticate: func(context.Context, *BrokerConnection) (time.Duration, error) { return 0, denied }})
		require.NoError(t, err)
		defer c2.Close()
		b.next(t)
		err = c2.Connect(guarded(t))
		var ae *AuthError
		require.ErrorAs(t, err, &ae)
		assert.ErrorIs(t, err, denied)
		assert.False(t, c2.Connected())
		b.next(t).waitGone(t)
	})
}

func TestCanceledRequestBeforeSend(t *testing.T) {
	eachHandler(t, func(t *testing.T, h handler.Handler) {
		b := newFakeBroker(t)
		c := dialed(t, h, b.addr(), Config{})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := c.Request(ctx, metadataFor("x"))
		require.ErrorIs(t, err, context.Canceled)
		resp, err := c.RoundTrip(guarded(t), metadataFor("y"))
		require.NoError(t, err)
		assert.Equal(t, "y", topicOf(t, resp))
	})
}

func TestHandlerCloseFailsPending(t *testing.T) {
	for _, k := range handlerKinds {
		t.Run(k.name, func(t *testing.T) {
			h := k.new(t)
			b := newFakeBroker(t)
			holdRequests(b)
			c := dialed(t, h, b.addr(), Config{RequestTimeout: time.Hour})
			f, err := c.Request(guarded(t), metadataFor("x"))
			require.NoError(t, err)
			require.NoError(t, h.Close())
			_, err = f.Get(guarded(t))
			requireDisconnected(t, err, b.addr())
			assert.ErrorIs(t, err, handler.ErrClosed)
		})
	}
}
