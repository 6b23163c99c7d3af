package zookeeper

import (
	"context"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/handler/fakeclock"
	"github.com/gregorkafka/gregor/internal/testcluster"
)

// dialRecorder is a handler that records the addresses it dials.
type dialRecorder struct {
	handler.Handler
	mu    sync.Mutex
	dials []string
}

func (d *dialRecorder) Dial(ctx context.Context, cfg handler.DialConfig) (handler.Conn, error) {
	d.mu.Lock()
	d.dials = append(d.dials, cfg.Address)
	d.mu.Unlock()
	return d.Handler.Dial(ctx, cfg)
}

func (d *dialRecorder) dialed() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.dials...)
}

// go-zookeeper's sessions run over the handler's sockets, on both handlers,
// against a real ZooKeeper.
func TestZooKeeperDialsThroughHandler(t *testing.T) {
	tc := testcluster.Shared(t, testcluster.ZooKeeperSingle)
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		rec := &dialRecorder{Handler: h}
		addrs, err := Brokers(testCtx(t), rec, tc.ZooKeeperConnect(), 30*time.Second, testLogger())
		require.NoError(t, err)
		assert.ElementsMatch(t, tc.Bootstrap(), addrs)
		assert.Contains(t, rec.dialed(), tc.ZooKeeperConnect())
	})
}

// A silent server: the read deadline go-zookeeper sets ends the Read with a
// timeout, timed by the handler's clock.
func TestZooKeeperConnReadDeadline(t *testing.T) {
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		t.Cleanup(func() { _ = ln.Close() })
		accepted := make(chan net.Conn, 1)
		go func() {
			nc, err := ln.Accept()
			if err == nil {
				accepted <- nc
			}
		}()
		fc := fakeclock.New(h)
		nc, err := Dialer(fc)("tcp", ln.Addr().String(), 10*time.Second)
		require.NoError(t, err)
		t.Cleanup(func() { _ = nc.Close() })
		peer := <-accepted
		t.Cleanup(func() { _ = peer.Close() })

		// A packet comes back with its length in front, as read from a socket.
		_, err = peer.Write([]byte{0, 0, 0, 3, 'a', 'b', 'c'})
		require.NoError(t, err)
		buf := make([]byte, 7)
		// go-zookeeper's deadlines are wall-clock instants.
		require.NoError(t, nc.SetReadDeadline(time.Now().Add(time.Minute)))
		_, err = io.ReadFull(nc, buf)
		require.NoError(t, err)
		assert.Equal(t, []byte{0, 0, 0, 3, 'a', 'b', 'c'}, buf)

		require.NoError(t, nc.SetReadDeadline(time.Now().Add(time.Hour)))
		done := make(chan error, 1)
		go func() { _, err := nc.Read(buf); done <- err }()
		require.NoError(t, fc.BlockUntilDue(testCtx(t), time.Hour))
		fc.Advance(time.Hour)
		err = <-done
		require.ErrorIs(t, err, os.ErrDeadlineExceeded)
		var ne net.Error
		require.ErrorAs(t, err, &ne)
		assert.True(t, ne.Timeout())

		// The peer going away is an end of stream.
		require.NoError(t, nc.SetReadDeadline(time.Time{}))
		require.NoError(t, peer.Close())
		_, err = nc.Read(buf)
		assert.ErrorIs(t, err, io.EOF)
	})
}
