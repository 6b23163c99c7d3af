package goroutine

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/handler/handlertest"
)

// TestTLSWritesGathered: a 1 MiB frame over TLS is 65 records, and reaches
// the socket in a write per tlsGatherMax of them, not a write per record,
// whether written whole or in pieces; the echo brings the same bytes back.
func TestTLSWritesGathered(t *testing.T) {
	addr, roots := handlertest.TLSEchoServer(t)
	h := New()
	defer h.Close()
	frames := make(chan []byte, 1)
	hc, err := h.Dial(context.Background(), handler.DialConfig{
		Address:   addr,
		TLSConfig: &tls.Config{RootCAs: roots},
		OnFrame:   func(b []byte) { frames <- bytes.Clone(b) },
	})
	require.NoError(t, err)
	defer hc.Close()
	c := hc.(*conn)
	require.NotNil(t, c.gather)
	var writes atomic.Int32
	c.gather.mu.Lock()
	direct := c.gather.direct
	c.gather.direct = func(p []byte) (int, error) {
		writes.Add(1)
		return direct(p)
	}
	c.gather.mu.Unlock()

	payload := make([]byte, 1<<20)
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	frame := handlertest.AppendFrame(nil, payload)
	most := int32(len(frame)/tlsGatherMax + 1)
	for _, tc := range []struct {
		name  string
		write func() error
	}{
		{"Write", func() error { return c.Write(frame) }},
		{"WriteVec", func() error { return c.WriteVec([][]byte{frame[:4], frame[4:1000], frame[1000:]}) }},
	} {
		writes.Store(0)
		require.NoError(t, tc.write(), tc.name)
		select {
		case got := <-frames:
			require.True(t, bytes.Equal(payload, got), "%s: the echo differs", tc.name)
		case <-time.After(20 * time.Second):
			t.Fatalf("%s: no echo", tc.name)
		}
		n := writes.Load()
		assert.LessOrEqual(t, n, most, "%s: socket writes for %d bytes", tc.name, len(frame))
		assert.Positive(t, n, tc.name)
	}
}

// TestTLSGather: off, writes pass straight through; on, they are held to
// tlsGatherMax and flushed in order; a failed write fails the gather.
func TestTLSGather(t *testing.T) {
	var got [][]byte
	var fail error
	g := &tlsGather{direct: func(p []byte) (int, error) {
		if fail != nil {
			return 0, fail
		}
		got = append(got, bytes.Clone(p))
		return len(p), nil
	}}
	rec := func(i int) []byte { return bytes.Repeat([]byte{byte(i)}, 16<<10+29) }

	n, err := g.Write(rec(0))
	require.NoError(t, err)
	assert.Equal(t, 16<<10+29, n)
	require.Equal(t, 1, len(got), "not gathering: written at once")

	got = nil
	g.gather()
	_, err = g.Write(rec(0)[:100])
	require.NoError(t, err)
	require.NoError(t, g.flush(nil))
	assert.Equal(t, 1, len(got), "flushed at the end")
	assert.Less(t, cap(g.out), 1<<10, "small writes keep a small buffer")

	got = nil
	g.gather()
	var want []byte
	for i := range 2*tlsGatherMax/len(rec(0)) + 3 {
		_, err := g.Write(rec(i))
		require.NoError(t, err)
		want = append(want, rec(i)...)
	}
	require.NoError(t, g.flush(nil))
	require.Equal(t, 3, len(got), "two full gathers and the rest")
	assert.GreaterOrEqual(t, len(got[0]), tlsGatherMax)
	assert.LessOrEqual(t, cap(g.out), tlsGatherMax+tlsRecordMax, "the buffer stays within a full gather")
	assert.True(t, bytes.Equal(want, bytes.Join(got, nil)), "the records in order")

	got = nil
	g.gather()
	_, _ = g.Write(rec(1))
	boom := errors.New("boom")
	assert.ErrorIs(t, g.flush(boom), boom, "the gathering write's error")
	assert.Zero(t, len(got), "nothing of a failed write goes out")
	require.NoError(t, g.flush(nil))
	assert.Zero(t, len(got))

	g.gather()
	fail = boom
	for i := range tlsGatherMax/len(rec(0)) + 1 {
		_, err = g.Write(rec(i))
		if err != nil {
			break
		}
	}
	assert.ErrorIs(t, err, boom, "a full gather's failed write fails the Write")
	fail = nil
	assert.ErrorIs(t, g.flush(err), boom)
	_, err = g.Write(rec(2))
	require.NoError(t, err)
	assert.Equal(t, 1, len(got), "off again after the flush")
}
