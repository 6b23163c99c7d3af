package eventloop

import (
	"bytes"
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/handler/handlertest"
)

// A large Write to an idle socket is written by the caller, with the loop
// busy elsewhere: nothing is left for the loop. A small one, or a large one
// behind bytes the loop still has to write, goes through the loop. Every
// frame arrives once, in order.
func TestDirectWriteOnlyLargeAndIdle(t *testing.T) {
	h, err := New(WithLoops(1))
	require.NoError(t, err)
	defer h.Close()

	frames := make(chan []byte, 8)
	hc, err := h.Dial(context.Background(), handler.DialConfig{
		Address: handlertest.EchoServer(t),
		OnFrame: func(f []byte) { frames <- append([]byte(nil), f...) },
	})
	require.NoError(t, err)
	defer hc.Close()
	c := hc.(*conn)

	req := func(id uint32, size int) []byte {
		payload := binary.BigEndian.AppendUint32(nil, id)
		payload = append(payload, bytes.Repeat([]byte{byte(id)}, size-4)...)
		return handlertest.AppendFrame(nil, payload)
	}
	// The loop is held busy, so a Write that left work for it is seen
	// before the loop can do that work.
	var block chan struct{}
	busy := func() {
		block = make(chan struct{})
		started := make(chan struct{})
		require.NoError(t, c.loop.Execute(context.Background(), runFunc(func() {
			close(started)
			<-block
		})))
		<-started
	}
	queued := func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.scheduled || c.pending.Len() > 0
	}
	answer := func(id uint32, size int) {
		select {
		case f := <-frames:
			require.Equal(t, id, binary.BigEndian.Uint32(f))
			require.Len(t, f, size)
		case <-time.After(20 * time.Second):
			t.Fatalf("no answer to %d", id)
		}
	}

	busy()
	require.NoError(t, hc.Write(req(1, directMin)))
	require.False(t, queued(), "a large Write to an idle socket should be written directly")
	require.NoError(t, hc.Write(req(2, 100)))
	require.True(t, queued(), "a small Write should go through the loop")
	require.NoError(t, hc.Write(req(3, directMin)))
	require.True(t, queued(), "a large Write behind pending bytes should go through the loop")
	close(block)
	answer(1, directMin)
	answer(2, 100)
	answer(3, directMin)

	busy()
	require.NoError(t, hc.Write(req(4, 4*directMin)))
	require.False(t, queued(), "idle again: direct")
	close(block)
	answer(4, 4*directMin)
}

type runFunc func()

func (f runFunc) Run(context.Context) error { f(); return nil }
