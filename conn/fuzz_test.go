package conn

import (
	"context"
	"errors"
	"net"
	"testing"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/handler/goroutine"
	"github.com/gregorkafka/gregor/protocol"
)

// sinkConn is a handler.Conn that accepts every write and never answers;
// tests feed the session's callbacks directly.
type sinkConn struct{ closed bool }

func (c *sinkConn) Write([]byte) error   { return nil }
func (c *sinkConn) Close() error         { c.closed = true; return nil }
func (c *sinkConn) LocalAddr() net.Addr  { return nil }
func (c *sinkConn) RemoteAddr() net.Addr { return nil }

var _ handler.Conn = (*sinkConn)(nil)

// FuzzResponseStream feeds arbitrary response frames to a session with
// requests pending. Whatever arrives, a future completes only with its own
// correlation id or a *DisconnectedError, a broken session leaves no future
// waiting, and decoding never panics.
//
// The fuzzer minimizes every input that finds new coverage by trying to drop
// each subset of its bytes, which grows with the square of the input: a few
// KiB of frames that can change nothing kept it minimizing, at 0 execs/s,
// for most of a minute. So inputs of more frames than can matter are
// rejected at once, and nothing of one input outlives it (the session is
// closed, stopping its request timer).
func FuzzResponseStream(f *testing.F) {
	f.Add([]byte{4, 0, 0, 0, 0, 4, 0, 0, 0, 1, 4, 0, 0, 0, 2})
	f.Add([]byte{6, 0, 0, 0, 0, 0, 0, 2, 0, 0})
	f.Add([]byte{4, 0, 0, 0, 1})
	f.Add([]byte{2, 0, 0})
	f.Add([]byte{0})
	h := goroutine.New()
	f.Cleanup(func() { _ = h.Close() })
	bc, err := New(h, "fuzz:9092", Config{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) { fuzzResponseStream(t, bc, data) })
}

// maxFuzzFrames is one more frame than there are requests pending: later
// frames meet a closed session and add nothing.
const maxFuzzFrames = 4

func fuzzResponseStream(t testing.TB, bc *BrokerConnection, data []byte) {
	// Longer inputs cannot reach anything new, and each byte the fuzzer
	// has to minimize away costs it time.
	var frames [][]byte
	for len(data) > 0 {
		if len(frames) == maxFuzzFrames {
			return
		}
		n := min(int(data[0]), len(data)-1)
		frames = append(frames, data[1:1+n])
		data = data[1+n:]
	}
	s := newSession(bc)
	s.attach(&sinkConn{})
	defer s.fail(ErrClosed)
	var futures []*ResponseFuture
	for range 3 {
		fut, err := s.send(context.Background(), metadataFor("t"), 12, bc.cfg.RequestTimeout, nil)
		if err != nil {
			t.Fatal(err)
		}
		futures = append(futures, fut)
	}
	// data is a sequence of length-prefixed frames (one length byte).
	for _, fr := range frames {
		s.onFrame(append([]byte(nil), fr...))
	}
	for _, fut := range futures {
		if !fut.Done() {
			if s.down.Load() {
				t.Fatal("future left waiting on a broken session")
			}
			continue
		}
		if fut.err != nil {
			if !errors.Is(fut.err, ErrDisconnected) {
				t.Fatalf("future failed with %v", fut.err)
			}
			continue
		}
		if id, _ := protocol.ResponseCorrelationID(fut.frame); id != fut.corrID {
			t.Fatalf("future %d completed with frame for %d", fut.corrID, id)
		}
		_, _ = fut.Get(context.Background())
	}
}

// FuzzAPIVersionsResponse decodes arbitrary ApiVersions answers the way
// Connect does; it must fail cleanly, never panic.
func FuzzAPIVersionsResponse(f *testing.F) {
	for _, v := range []int16{0, 3, 4} {
		frame, err := protocol.AppendResponseFrame(nil, fullAPIVersions(), v, 7)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(frame[4:], v)
	}
	refused := &protocol.APIVersionsResponse{
		ErrorCode: protocol.ErrUnsupportedVersion.Code,
		APIKeys:   []protocol.APIVersionsResponseAPIKey{{APIKey: protocol.APIKeyAPIVersions, MaxVersion: 2}},
	}
	frame, err := protocol.AppendResponseFrame(nil, refused, 0, 7)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(frame[4:], int16(4))
	f.Fuzz(func(t *testing.T, frame []byte, version int16) {
		if version < 0 || version > 4 {
			return
		}
		resp := protocol.NewAPIVersionsResponse()
		if err := decodeAPIVersions(frame, resp, version); err != nil {
			return
		}
		if resp.ErrorCode == protocol.ErrUnsupportedVersion.Code {
			next, err := retryVersion(resp, version)
			if err == nil && (next < 0 || next >= version && version > 0) {
				t.Fatalf("retry at %d after %d was refused", next, version)
			}
			return
		}
		_ = protocol.NewVersions(resp)
	})
}

func TestRetryVersion(t *testing.T) {
	entry := func(lo, hi int16) *protocol.APIVersionsResponse {
		return &protocol.APIVersionsResponse{APIKeys: []protocol.APIVersionsResponseAPIKey{
			{APIKey: protocol.APIKeyMetadata, MinVersion: 0, MaxVersion: 99},
			{APIKey: protocol.APIKeyAPIVersions, MinVersion: lo, MaxVersion: hi},
		}}
	}
	for _, tc := range []struct {
		name    string
		resp    *protocol.APIVersionsResponse
		refused int16
		want    int16
		wantErr bool
	}{
		{"broker range below ours", entry(0, 2), 4, 2, false},
		{"broker claims the refused version", entry(0, 9), 4, 3, false},
		{"broker minimum above refused", entry(5, 9), 4, 0, true},
		{"no ApiVersions entry", &protocol.APIVersionsResponse{}, 4, 0, false},
		{"v0 refused without entry", &protocol.APIVersionsResponse{}, 0, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := retryVersion(tc.resp, tc.refused)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("got %d, want an error", got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %d, %v; want %d", got, err, tc.want)
			}
		})
	}
}
