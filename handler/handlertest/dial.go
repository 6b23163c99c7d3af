package handlertest

import (
	"context"
	"errors"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
)

var dialTests = []test{
	{"Refused", testDialRefused},
	{"ContextDeadline", testDialContextDeadline},
	{"Timeout", testDialTimeout},
	{"ContextCanceled", testDialCanceled},
	{"BadAddress", testDialBadAddress},
	{"SourceAddr", testDialSourceAddr},
	{"BadSourceAddr", testDialBadSourceAddr},
	{"SocketBuffers", testDialSocketBuffers},
	{"AfterHandlerClose", testDialAfterClose},
}

// closedPort returns a loopback address nobody listens on.
func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

func requireDialError(t *testing.T, err error, addr string) *handler.DialError {
	t.Helper()
	require.Error(t, err)
	var de *handler.DialError
	require.True(t, errors.As(err, &de), "want *handler.DialError, got %T: %v", err, err)
	assert.Equal(t, addr, de.Address)
	return de
}

func testDialRefused(t *testing.T, h handler.Handler) {
	addr := closedPort(t)
	c, err := h.Dial(guarded(t), handler.DialConfig{Address: addr})
	assert.Nil(t, c)
	requireDialError(t, err, addr)
	assert.ErrorIs(t, err, syscall.ECONNREFUSED)
}

func testDialContextDeadline(t *testing.T, h handler.Handler) {
	p := newPeer(t)
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	_, err := h.Dial(ctx, handler.DialConfig{Address: p.addr()})
	requireDialError(t, err, p.addr())
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

func testDialTimeout(t *testing.T, h handler.Handler) {
	p := newPeer(t)
	_, err := h.Dial(guarded(t), handler.DialConfig{Address: p.addr(), Timeout: time.Nanosecond})
	requireDialError(t, err, p.addr())
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

func testDialCanceled(t *testing.T, h handler.Handler) {
	p := newPeer(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := h.Dial(ctx, handler.DialConfig{Address: p.addr()})
	requireDialError(t, err, p.addr())
	assert.ErrorIs(t, err, context.Canceled)
}

func testDialBadAddress(t *testing.T, h handler.Handler) {
	for _, addr := range []string{"", "no-port", "127.0.0.1:notaport"} {
		_, err := h.Dial(guarded(t), handler.DialConfig{Address: addr})
		requireDialError(t, err, addr)
	}
}

func testDialSourceAddr(t *testing.T, h handler.Handler) {
	p := newPeer(t)
	r := newRecorder()
	cfg := r.config(p.addr())
	cfg.SourceAddr = "127.0.0.1:0"
	c, err := h.Dial(guarded(t), cfg)
	require.NoError(t, err)
	local, ok := c.LocalAddr().(*net.TCPAddr)
	require.True(t, ok, "LocalAddr is %T", c.LocalAddr())
	assert.True(t, local.IP.Equal(net.IPv4(127, 0, 0, 1)))
	assert.NotZero(t, local.Port)
	assert.Equal(t, p.addr(), c.RemoteAddr().String())
	sc := p.accept(t)
	assert.Equal(t, c.LocalAddr().String(), sc.RemoteAddr().String(), "the peer sees the bound address")
	require.NoError(t, c.Close())
	assert.NoError(t, r.waitClosed(t))
}

func testDialBadSourceAddr(t *testing.T, h handler.Handler) {
	p := newPeer(t)
	for _, src := range []string{"not an address", "192.0.2.1:0"} {
		// 192.0.2.1 (TEST-NET-1) is not a local address, so bind fails.
		_, err := h.Dial(guarded(t), handler.DialConfig{Address: p.addr(), SourceAddr: src})
		requireDialError(t, err, p.addr())
	}
}

func testDialSocketBuffers(t *testing.T, h handler.Handler) {
	addr := EchoServer(t)
	r := newRecorder()
	cfg := r.config(addr)
	cfg.ReadBufferSize = 256 << 10
	cfg.WriteBufferSize = 256 << 10
	c, err := h.Dial(guarded(t), cfg)
	require.NoError(t, err)
	require.NoError(t, c.Write(AppendFrame(nil, []byte("ping"))))
	assert.Equal(t, []byte("ping"), r.waitFrames(t, 1)[0])
	require.NoError(t, c.Close())
	assert.NoError(t, r.waitClosed(t))
}

func testDialAfterClose(t *testing.T, h handler.Handler) {
	p := newPeer(t)
	require.NoError(t, h.Close())
	require.NoError(t, h.Close(), "Close is idempotent")
	_, err := h.Dial(guarded(t), handler.DialConfig{Address: p.addr()})
	requireDialError(t, err, p.addr())
	assert.ErrorIs(t, err, handler.ErrClosed)
}
