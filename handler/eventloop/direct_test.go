package eventloop

import (
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/handler/handlertest"
)

// A request written while nothing is outstanding goes straight to the
// socket (no flush task); one written while another awaits its answer goes
// through the loop; once every answer is in, the next is direct again.
func TestDirectWriteOnlyWhenIdle(t *testing.T) {
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

	req := func(id uint32) []byte {
		return handlertest.AppendFrame(nil, binary.BigEndian.AppendUint32(nil, id))
	}
	// queued reports whether a Write left work for the loop. A direct write
	// leaves none; a loop write leaves a flush scheduled or running (or, if
	// the loop was quick, already done: so it is checked before the loop can
	// run, by holding the loop busy).
	block := make(chan struct{})
	busy := func() {
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
	answer := func(id uint32) {
		select {
		case f := <-frames:
			require.Equal(t, id, binary.BigEndian.Uint32(f))
		case <-time.After(20 * time.Second):
			t.Fatal("no answer")
		}
	}

	defer func() {
		select {
		case <-block:
		default:
			close(block)
		}
	}()
	busy()
	require.NoError(t, hc.Write(req(1)))
	require.False(t, queued(), "a lone request should be written directly")
	require.NoError(t, hc.Write(req(2)))
	require.True(t, queued(), "a request behind an outstanding one should go through the loop")
	close(block)
	answer(1)
	answer(2)

	block = make(chan struct{})
	busy()
	require.NoError(t, hc.Write(append(req(3), req(4)...)))
	require.False(t, queued(), "idle again: direct")
	close(block)
	answer(3)
	answer(4)
}

type runFunc func()

func (f runFunc) Run(context.Context) error { f(); return nil }
