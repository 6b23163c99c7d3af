package conn

import (
	"bufio"
	"encoding/binary"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/gregorkafka/gregor/protocol"
)

// guard bounds every wait in the tests, turning a hang into a failure. It
// never fires on a working implementation, whatever the machine's speed.
const guard = 30 * time.Second

// fakeRequest is one request as the fake broker decoded it.
type fakeRequest struct {
	hdr  protocol.RequestHeader
	body []byte
	msg  protocol.Request // nil if the API is unknown or the body bad
	err  error            // DecodeRequestFrame's or DecodeFrom's error
}

// fakeConn is the broker side of one accepted connection.
type fakeConn struct {
	nc   net.Conn
	wm   sync.Mutex
	done chan struct{} // closed when the reader saw the client go away
}

// reply encodes resp as the answer to r, at r's version.
func (fc *fakeConn) reply(tb testing.TB, r *fakeRequest, resp protocol.Message) {
	frame, err := protocol.AppendResponseFrame(nil, resp, r.hdr.APIVersion, r.hdr.CorrelationID)
	if err != nil {
		tb.Errorf("fake broker: encoding %T v%d: %v", resp, r.hdr.APIVersion, err)
		return
	}
	fc.write(frame)
}

// write sends raw bytes; errors mean the client went away, which tests
// that care about observe on the client side.
func (fc *fakeConn) write(b []byte) {
	fc.wm.Lock()
	defer fc.wm.Unlock()
	_, _ = fc.nc.Write(b)
}

func (fc *fakeConn) close() { _ = fc.nc.Close() }

// waitGone waits until the client's side of the connection is gone.
func (fc *fakeConn) waitGone(tb testing.TB) {
	tb.Helper()
	select {
	case <-fc.done:
	case <-time.After(guard):
		tb.Fatal("fake broker: client did not close the connection")
	}
}

// fakeBroker is an in-process Kafka stand-in on 127.0.0.1. Each accepted
// connection gets a reader that decodes request frames with protocol and
// hands them, in order, to handle (default: answer). Tests replace handle
// to delay, reorder, corrupt or drop answers.
type fakeBroker struct {
	tb     testing.TB
	ln     net.Listener
	handle func(fc *fakeConn, r *fakeRequest)

	// apiVersionsMax is the highest ApiVersions version the broker accepts;
	// above it, it answers UNSUPPORTED_VERSION in v0 layout (KIP-511).
	apiVersionsMax int16

	mu       sync.Mutex
	conns    []*fakeConn
	accepted chan *fakeConn
}

func newFakeBroker(tb testing.TB) *fakeBroker {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("listen: %v", err)
	}
	b := &fakeBroker{tb: tb, ln: ln, apiVersionsMax: 4, accepted: make(chan *fakeConn, 64)}
	b.handle = b.answer
	go b.acceptLoop()
	tb.Cleanup(b.close)
	return b
}

func (b *fakeBroker) addr() string { return b.ln.Addr().String() }

func (b *fakeBroker) acceptLoop() {
	for {
		nc, err := b.ln.Accept()
		if err != nil {
			return
		}
		fc := &fakeConn{nc: nc, done: make(chan struct{})}
		b.mu.Lock()
		b.conns = append(b.conns, fc)
		handle := b.handle
		b.mu.Unlock()
		select {
		case b.accepted <- fc:
		default:
		}
		go b.serve(fc, handle)
	}
}

// setHandle replaces the request handler for connections accepted later.
func (b *fakeBroker) setHandle(h func(fc *fakeConn, r *fakeRequest)) {
	b.mu.Lock()
	b.handle = h
	b.mu.Unlock()
}

func (b *fakeBroker) serve(fc *fakeConn, handle func(*fakeConn, *fakeRequest)) {
	defer close(fc.done)
	defer fc.close()
	rd := bufio.NewReaderSize(fc.nc, 64<<10)
	var size [4]byte
	for {
		if _, err := io.ReadFull(rd, size[:]); err != nil {
			return
		}
		frame := make([]byte, binary.BigEndian.Uint32(size[:]))
		if _, err := io.ReadFull(rd, frame); err != nil {
			return
		}
		r := &fakeRequest{}
		r.hdr, r.body, r.err = protocol.DecodeRequestFrame(frame)
		if r.err == nil {
			if m, ok := protocol.NewRequest(r.hdr.APIKey); ok {
				if r.err = m.DecodeFrom(r.body, r.hdr.APIVersion); r.err == nil {
					r.msg = m
				}
			}
		}
		handle(fc, r)
	}
}

// answer is the default behaviour: ApiVersions lists every API gregor
// implements; Metadata echoes the requested topic names, so tests can tell
// responses apart; Produce with Acks 0 gets nothing; anything else gets an
// empty response of its type.
func (b *fakeBroker) answer(fc *fakeConn, r *fakeRequest) {
	if r.err != nil {
		b.tb.Errorf("fake broker: bad request: %v", r.err)
		fc.close()
		return
	}
	switch m := r.msg.(type) {
	case *protocol.APIVersionsRequest:
		if r.hdr.APIVersion > b.apiVersionsMax {
			resp := &protocol.APIVersionsResponse{
				ErrorCode: protocol.ErrUnsupportedVersion.Code,
				APIKeys:   []protocol.APIVersionsResponseAPIKey{{APIKey: protocol.APIKeyAPIVersions, MinVersion: 0, MaxVersion: b.apiVersionsMax}},
			}
			frame, err := protocol.AppendResponseFrame(nil, resp, 0, r.hdr.CorrelationID)
			if err != nil {
				b.tb.Errorf("fake broker: %v", err)
			}
			fc.write(frame)
			return
		}
		fc.reply(b.tb, r, fullAPIVersions())
	case *protocol.MetadataRequest:
		resp := protocol.NewMetadataResponse()
		for _, t := range m.Topics {
			resp.Topics = append(resp.Topics, protocol.MetadataResponseTopic{Name: t.Name})
		}
		fc.reply(b.tb, r, resp)
	case *protocol.ProduceRequest:
		if m.Acks != 0 {
			fc.reply(b.tb, r, protocol.NewProduceResponse())
		}
	default:
		fc.reply(b.tb, r, r.msg.(protocol.Request).NewResponse())
	}
}

// fullAPIVersions is an ApiVersions response listing every API gregor
// implements with gregor's whole range.
func fullAPIVersions() *protocol.APIVersionsResponse {
	resp := protocol.NewAPIVersionsResponse()
	for _, k := range protocol.APIKeys() {
		r, _ := protocol.SupportedVersionRange(k)
		resp.APIKeys = append(resp.APIKeys, protocol.APIVersionsResponseAPIKey{APIKey: k, MinVersion: r.Min, MaxVersion: r.Max})
	}
	return resp
}

// next returns the next connection the broker accepted.
func (b *fakeBroker) next(tb testing.TB) *fakeConn {
	tb.Helper()
	select {
	case fc := <-b.accepted:
		return fc
	case <-time.After(guard):
		tb.Fatal("fake broker: no connection accepted")
		return nil
	}
}

func (b *fakeBroker) close() {
	_ = b.ln.Close()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, fc := range b.conns {
		fc.close()
	}
}

// skipAPIVersions wraps a handler so that ApiVersions is answered normally
// and only later requests reach h.
func (b *fakeBroker) skipAPIVersions(h func(fc *fakeConn, r *fakeRequest)) func(*fakeConn, *fakeRequest) {
	return func(fc *fakeConn, r *fakeRequest) {
		if r.hdr.APIKey == protocol.APIKeyAPIVersions {
			b.answer(fc, r)
			return
		}
		h(fc, r)
	}
}

// metadataFor returns a Metadata request for one topic name, whose response
// from the fake broker echoes the name.
func metadataFor(topic string) *protocol.MetadataRequest {
	req := protocol.NewMetadataRequest()
	req.Topics = []protocol.MetadataRequestTopic{{Name: &topic}}
	return req
}
