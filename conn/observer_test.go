package conn

import (
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/internal/testcluster"
	"github.com/gregorkafka/gregor/protocol"
)

// recorder is an Observer that keeps everything it is told.
type recorder struct {
	mu          sync.Mutex
	connects    []ConnectInfo
	disconnects []DisconnectInfo
	writes      []RequestInfo
	reads       []ResponseInfo
	gone        chan struct{}
}

func newRecorder() *recorder { return &recorder{gone: make(chan struct{}, 8)} }

func (r *recorder) Connected(i ConnectInfo) {
	r.mu.Lock()
	r.connects = append(r.connects, i)
	r.mu.Unlock()
}
func (r *recorder) Disconnected(i DisconnectInfo) {
	r.mu.Lock()
	r.disconnects = append(r.disconnects, i)
	r.mu.Unlock()
	r.gone <- struct{}{}
}
func (r *recorder) RequestWritten(i RequestInfo) {
	r.mu.Lock()
	r.writes = append(r.writes, i)
	r.mu.Unlock()
}
func (r *recorder) ResponseRead(i ResponseInfo) {
	r.mu.Lock()
	r.reads = append(r.reads, i)
	r.mu.Unlock()
}

func (r *recorder) waitGone(t *testing.T) {
	t.Helper()
	select {
	case <-r.gone:
	case <-time.After(guard):
		t.Fatal("no Disconnected report")
	}
}

func TestObserverSeesConnectRequestsThrottleAndDisconnect(t *testing.T) {
	eachHandler(t, func(t *testing.T, h handler.Handler) {
		b := newFakeBroker(t)
		b.setHandle(b.skipAPIVersions(func(fc *fakeConn, r *fakeRequest) {
			resp := protocol.NewMetadataResponse()
			resp.ThrottleTimeMs = 250
			fc.reply(t, r, resp)
		}))
		rec := newRecorder()
		c := dialed(t, h, b.addr(), Config{Observer: rec})
		_, err := c.RoundTrip(guarded(t), metadataFor("a"))
		require.NoError(t, err)
		require.NoError(t, c.Close())
		rec.waitGone(t)

		rec.mu.Lock()
		defer rec.mu.Unlock()
		require.Len(t, rec.connects, 1)
		assert.NoError(t, rec.connects[0].Err)
		assert.Equal(t, b.addr(), rec.connects[0].Address)
		assert.GreaterOrEqual(t, rec.connects[0].Setup, rec.connects[0].Dial)
		// ApiVersions, then Metadata.
		require.Len(t, rec.writes, 2)
		assert.Equal(t, protocol.APIKeyAPIVersions, rec.writes[0].APIKey)
		assert.Equal(t, protocol.APIKeyMetadata, rec.writes[1].APIKey)
		assert.Greater(t, rec.writes[1].Bytes, 20)
		require.Len(t, rec.reads, 2)
		md := rec.reads[1]
		assert.Equal(t, protocol.APIKeyMetadata, md.APIKey)
		assert.Equal(t, rec.writes[1].Version, md.Version)
		assert.Equal(t, 250*time.Millisecond, md.Throttle)
		assert.Greater(t, md.Bytes, 8)
		assert.GreaterOrEqual(t, md.Wire, time.Duration(0))
		assert.NoError(t, md.Err)
		require.Len(t, rec.disconnects, 1)
		assert.ErrorIs(t, rec.disconnects[0].Err, ErrClosed)
	})
}

func TestObserverSeesFailedDialAndLostConnection(t *testing.T) {
	eachHandler(t, func(t *testing.T, h handler.Handler) {
		b := newFakeBroker(t)
		b.setHandle(b.skipAPIVersions(func(*fakeConn, *fakeRequest) {})) // never answers
		rec := newRecorder()
		c := dialed(t, h, b.addr(), Config{Observer: rec})
		fc := b.next(t)
		f, err := c.Request(guarded(t), metadataFor("a"))
		require.NoError(t, err)
		fc.close()
		_, err = f.Get(guarded(t))
		var de *DisconnectedError
		require.ErrorAs(t, err, &de)
		rec.waitGone(t)

		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		dead := ln.Addr().String()
		require.NoError(t, ln.Close())
		c2, err := New(h, dead, Config{Observer: rec})
		require.NoError(t, err)
		require.Error(t, c2.Connect(guarded(t)))

		rec.mu.Lock()
		defer rec.mu.Unlock()
		require.Len(t, rec.disconnects, 1)
		assert.Equal(t, 1, rec.disconnects[0].Pending)
		assert.False(t, errors.Is(rec.disconnects[0].Err, ErrClosed), "a lost socket is not a Close: %v", rec.disconnects[0].Err)
		require.Len(t, rec.connects, 2)
		assert.NoError(t, rec.connects[0].Err)
		assert.ErrorAs(t, rec.connects[1].Err, &de)
		last := rec.reads[len(rec.reads)-1]
		assert.Equal(t, protocol.APIKeyMetadata, last.APIKey)
		assert.ErrorAs(t, last.Err, &de)
		assert.Zero(t, last.Bytes)
	})
}

func TestIntegrationObserver(t *testing.T) {
	for _, kind := range []testcluster.Config{testcluster.KRaftSingle, testcluster.ZooKeeperSingle} {
		t.Run(kind.Name(), func(t *testing.T) {
			cl := testcluster.Shared(t, kind)
			addr := cl.Brokers()[0].Addr()
			eachHandler(t, func(t *testing.T, h handler.Handler) {
				rec := newRecorder()
				c := dialed(t, h, addr, Config{Observer: rec})
				_, err := c.RoundTrip(guarded(t), protocol.NewMetadataRequest())
				require.NoError(t, err)
				rec.mu.Lock()
				defer rec.mu.Unlock()
				require.Len(t, rec.connects, 1)
				require.Len(t, rec.writes, 2)
				require.Len(t, rec.reads, 2)
				for i, w := range rec.writes {
					r := rec.reads[i]
					assert.Equal(t, w.APIKey, r.APIKey)
					assert.Equal(t, w.Version, r.Version)
					assert.NoError(t, r.Err)
					assert.Greater(t, r.Bytes, 8)
					assert.Positive(t, r.Wire, "a real round trip takes time")
				}
			})
		})
	}
}
