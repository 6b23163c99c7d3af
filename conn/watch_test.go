package conn

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/protocol"
)

// frameRecorder is a Watcher that keeps a copy of every frame it is shown.
type frameRecorder struct {
	mu       sync.Mutex
	versions []int16
	frames   [][]byte
	partial  chan struct{} // signalled at the first call
	once     sync.Once
}

func newFrameRecorder() *frameRecorder { return &frameRecorder{partial: make(chan struct{})} }

func (r *frameRecorder) Watch(version int16, frame []byte) {
	r.mu.Lock()
	r.versions = append(r.versions, version)
	r.frames = append(r.frames, bytes.Clone(frame))
	r.mu.Unlock()
	r.once.Do(func() { close(r.partial) })
}

func TestWatcherSeesItsResponseArrive(t *testing.T) {
	eachHandler(t, func(t *testing.T, h handler.Handler) {
		b := newFakeBroker(t)
		reqs := holdRequests(b)
		c := dialed(t, h, b.addr(), Config{})
		ctx := guarded(t)

		big, small := newFrameRecorder(), newFrameRecorder()
		fBig, err := c.RequestWatched(ctx, metadataFor("big"), 0, big)
		require.NoError(t, err)
		fSmall, err := c.RequestWatched(ctx, metadataFor("small"), 0, small)
		require.NoError(t, err)
		hBig, hSmall := recv(t, reqs), recv(t, reqs)

		// A Metadata response of about 3 MiB, sent in two writes: the
		// client has the first half, and shows it, before the rest comes.
		resp := protocol.NewMetadataResponse()
		for i := range 30000 {
			name := fmt.Sprintf("topic-%0100d", i)
			resp.Topics = append(resp.Topics, protocol.MetadataResponseTopic{Name: &name})
		}
		frame, err := protocol.AppendResponseFrame(nil, resp, hBig.r.hdr.APIVersion, hBig.r.hdr.CorrelationID)
		require.NoError(t, err)
		require.Greater(t, len(frame), 3<<20)
		hBig.fc.write(frame[:len(frame)/2])
		recv(t, big.partial)
		hBig.fc.write(frame[len(frame)/2:])
		hSmall.fc.reply(t, hSmall.r, protocol.NewMetadataResponse())

		m, err := fBig.Get(ctx)
		require.NoError(t, err)
		require.Len(t, m.(*protocol.MetadataResponse).Topics, 30000)
		_, err = fSmall.Get(ctx)
		require.NoError(t, err)

		body := frame[4:]
		big.mu.Lock()
		defer big.mu.Unlock()
		require.GreaterOrEqual(t, len(big.frames), 3, "partial frames, then the whole")
		for i, f := range big.frames {
			assert.Equal(t, fBig.Version(), big.versions[i])
			require.True(t, bytes.Equal(body[:len(f)], f), "call %d: the response's bytes so far", i)
			if i > 0 {
				require.Greater(t, len(f), len(big.frames[i-1]), "call %d adds bytes", i)
			}
		}
		require.Len(t, big.frames[len(big.frames)-1], len(body), "the last call has the whole frame")

		small.mu.Lock()
		defer small.mu.Unlock()
		require.Len(t, small.frames, 1, "a frame read at once is shown once, whole")
		assert.Equal(t, fSmall.CorrelationID(), int32(binary.BigEndian.Uint32(small.frames[0])))
	})
}
