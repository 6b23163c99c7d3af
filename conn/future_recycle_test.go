package conn

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/protocol"
)

// RecycleFrame does nothing until the response is decoded; then it hands
// the frame to the handler's pool once, and Get keeps returning the
// decoded message.
func TestRecycleFrameAfterDecode(t *testing.T) {
	eachHandler(t, func(t *testing.T, h handler.Handler) {
		b := newFakeBroker(t)
		reqs := holdRequests(b)
		c := dialed(t, h, b.addr(), Config{})
		ctx := guarded(t)

		// Topic names long enough for a frame of pooled size.
		req := protocol.NewMetadataRequest()
		var names []string
		for i := range 4 {
			name := strings.Repeat(string(rune('a'+i)), 30000)
			names = append(names, name)
			req.Topics = append(req.Topics, protocol.MetadataRequestTopic{Name: &name})
		}
		f, err := c.Request(ctx, req)
		require.NoError(t, err)
		r := recv(t, reqs)
		b.answer(r.fc, r.r)
		require.NoError(t, f.wait(ctx))
		frame := f.frame
		require.GreaterOrEqual(t, len(frame), 100_000)

		f.RecycleFrame() // not decoded yet: a no-op
		require.NotNil(t, f.frame, "the frame was recycled before it was decoded")
		resp, err := f.Get(ctx)
		require.NoError(t, err)
		assert.Equal(t, names, topicsOf(t, resp))

		f.RecycleFrame()
		f.RecycleFrame() // twice is once
		assert.Nil(t, f.frame)
		again, err := f.Get(ctx)
		require.NoError(t, err)
		assert.Same(t, resp, again)
		assert.Equal(t, names, topicsOf(t, again), "strings are copied out of the frame")

		// The race detector makes sync.Pool drop a quarter of what it is
		// given, so a frame that did not come back is handed in again.
		reused := false
		for i := range 50 {
			if i > 0 {
				handler.RecycleFrame(frame)
			}
			buf := handler.FrameBuffer(len(frame))
			if cap(buf) == cap(frame) && &buf[:1][0] == &frame[:1][0] {
				reused = true
				break
			}
		}
		assert.True(t, reused, "the recycled frame never came back from the pool")
	})
}

func topicsOf(tb testing.TB, m protocol.Message) []string {
	tb.Helper()
	resp, ok := m.(*protocol.MetadataResponse)
	require.True(tb, ok, "response is %T", m)
	var out []string
	for _, t := range resp.Topics {
		require.NotNil(tb, t.Name)
		out = append(out, *t.Name)
	}
	return out
}
