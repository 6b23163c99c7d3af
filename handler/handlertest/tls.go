package handlertest

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/internal/testcerts"
)

var tlsTests = []test{
	{"RoundTrip", testTLSRoundTrip},
	{"MutualTLS", testTLSMutual},
	{"MissingClientCert", testTLSMissingClientCert},
	{"Untrusted", testTLSUntrusted},
	{"HostnameMismatch", testTLSHostnameMismatch},
	{"Expired", testTLSExpired},
	{"ToPlaintextPeer", testTLSToPlaintextPeer},
	{"ToSilentPeer", testTLSToSilentPeer},
	{"ToClosingPeer", testTLSToClosingPeer},
	{"PlaintextToTLSPeer", testPlaintextToTLSPeer},
	{"TrickledRecords", testTLSTrickledRecords},
	{"PeerCloseNotify", testTLSPeerCloseNotify},
	{"PeerCloseMidFrame", testTLSPeerCloseMidFrame},
	{"LargeFrameInPieces", testTLSLargeFrameInPieces},
}

// tlsTimeout bounds the dials that must fail: a hang shows as
// context.DeadlineExceeded instead of the error the test expects.
const tlsTimeout = 10 * time.Second

// pki is a CA with a certificate for the loopback peer and one for a client.
type pki struct {
	ca     *testcerts.CA
	server tls.Certificate
	client tls.Certificate
}

func newPKI(t testing.TB) *pki {
	t.Helper()
	ca, err := testcerts.NewCA("handlertest CA")
	require.NoError(t, err)
	srv, err := ca.Issue(testcerts.Leaf{CommonName: "peer", Hosts: []string{"127.0.0.1"}})
	require.NoError(t, err)
	cli, err := ca.Issue(testcerts.Leaf{CommonName: "client", Client: true})
	require.NoError(t, err)
	return &pki{ca: ca, server: srv.TLS, client: cli.TLS}
}

// TLSEchoServer is EchoServer over TLS with a certificate for 127.0.0.1
// signed by a fresh CA, whose pool it returns.
func TLSEchoServer(tb testing.TB) (addr string, roots *x509.CertPool) {
	tb.Helper()
	k := newPKI(tb)
	return tlsEcho(tb, &tls.Config{Certificates: []tls.Certificate{k.server}}), k.ca.Pool()
}

// tlsEcho serves TLS with cfg and echoes every byte.
func tlsEcho(tb testing.TB, cfg *tls.Config) string {
	p := newPeer(tb)
	go func() {
		for c := range p.accepted {
			go echo(tls.Server(c, cfg))
		}
	}()
	return p.addr()
}

// roundTrip sends small and large frames and checks they come back.
func roundTrip(t *testing.T, c handler.Conn, r *recorder) {
	t.Helper()
	big := make([]byte, 3<<20)
	for i := range big {
		big[i] = byte(i * 7)
	}
	want := [][]byte{[]byte("hello"), {}, big}
	for i := 0; i < 50; i++ {
		want = append(want, []byte{byte(i)})
	}
	for _, f := range want {
		require.NoError(t, c.Write(AppendFrame(nil, f)))
	}
	requireFrames(t, want, r.waitFrames(t, len(want)))
}

// dialTLSEcho dials a TLS echo peer with a fresh CA, trusting it, and
// returns the connection and the tls.Config it was dialed with.
func dialTLSEcho(t *testing.T, h handler.Handler, r *recorder) (handler.Conn, *tls.Config) {
	t.Helper()
	k := newPKI(t)
	addr := tlsEcho(t, &tls.Config{Certificates: []tls.Certificate{k.server}})
	cfg := r.config(addr)
	cfg.Timeout = tlsTimeout
	// No ServerName: it defaults to the address's host, 127.0.0.1.
	cfg.TLSConfig = &tls.Config{RootCAs: k.ca.Pool()}
	c, err := h.Dial(guarded(t), cfg)
	require.NoError(t, err)
	return c, cfg.TLSConfig
}

func testTLSRoundTrip(t *testing.T, h handler.Handler) {
	r := newRecorder()
	c, tc := dialTLSEcho(t, h, r)
	assert.Empty(t, tc.ServerName, "the caller's tls.Config is not modified")
	roundTrip(t, c, r)
	require.NoError(t, c.Close())
	require.NoError(t, r.waitClosed(t))
	r.check(t)
}

func testTLSMutual(t *testing.T, h handler.Handler) {
	k := newPKI(t)
	addr := tlsEcho(t, &tls.Config{
		Certificates: []tls.Certificate{k.server},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    k.ca.Pool(),
	})
	r := newRecorder()
	cfg := r.config(addr)
	cfg.Timeout = tlsTimeout
	cfg.TLSConfig = &tls.Config{RootCAs: k.ca.Pool(), Certificates: []tls.Certificate{k.client}}
	c, err := h.Dial(guarded(t), cfg)
	require.NoError(t, err)
	roundTrip(t, c, r)
	require.NoError(t, c.Close())
	require.NoError(t, r.waitClosed(t))
	r.check(t)
}

// testTLSMissingClientCert: under TLS 1.3 the client finishes its handshake
// before the server checks the certificate, so the refusal (an alert)
// arrives on the established connection: OnClose reports it, no frame.
func testTLSMissingClientCert(t *testing.T, h handler.Handler) {
	k := newPKI(t)
	addr := tlsEcho(t, &tls.Config{
		Certificates: []tls.Certificate{k.server},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    k.ca.Pool(),
	})
	r := newRecorder()
	cfg := r.config(addr)
	cfg.Timeout = tlsTimeout
	cfg.TLSConfig = &tls.Config{RootCAs: k.ca.Pool()}
	c, err := h.Dial(guarded(t), cfg)
	if err != nil {
		// TLS 1.2 would fail the handshake itself.
		requireDialError(t, err, addr)
		return
	}
	_ = c.Write(AppendFrame(nil, []byte("hello")))
	ce := requireConnError(t, r.waitClosed(t), "read")
	var oe *net.OpError
	require.True(t, errors.As(ce, &oe), "want the TLS alert, got %v", ce.Err)
	assert.Equal(t, "remote error", oe.Op)
	frames, _ := r.snapshot()
	assert.Zero(t, frames)
	r.check(t)
}

// dialTLSFails dials addr with cfg and returns the *DialError.
func dialTLSFails(t *testing.T, h handler.Handler, addr string, tc *tls.Config) *handler.DialError {
	t.Helper()
	r := newRecorder()
	cfg := r.config(addr)
	cfg.Timeout = tlsTimeout
	cfg.TLSConfig = tc
	c, err := h.Dial(guarded(t), cfg)
	assert.Nil(t, c)
	de := requireDialError(t, err, addr)
	assert.NotErrorIs(t, err, context.DeadlineExceeded, "failed by timeout, not by the cause")
	_, closes := r.snapshot()
	assert.Zero(t, closes, "no OnClose for a connection Dial did not return")
	return de
}

func testTLSUntrusted(t *testing.T, h handler.Handler) {
	k := newPKI(t)
	addr := tlsEcho(t, &tls.Config{Certificates: []tls.Certificate{k.server}})
	other := newPKI(t)
	err := dialTLSFails(t, h, addr, &tls.Config{RootCAs: other.ca.Pool()})
	var cve *tls.CertificateVerificationError
	require.True(t, errors.As(err, &cve), "got %v", err)
	var ua x509.UnknownAuthorityError
	assert.True(t, errors.As(err, &ua), "got %v", err)
}

func testTLSHostnameMismatch(t *testing.T, h handler.Handler) {
	k := newPKI(t)
	wrong, err := k.ca.Issue(testcerts.Leaf{CommonName: "elsewhere", Hosts: []string{"kafka.example", "10.9.8.7"}})
	require.NoError(t, err)
	addr := tlsEcho(t, &tls.Config{Certificates: []tls.Certificate{wrong.TLS}})
	derr := dialTLSFails(t, h, addr, &tls.Config{RootCAs: k.ca.Pool()})
	var he x509.HostnameError
	assert.True(t, errors.As(derr, &he), "got %v", derr)
}

func testTLSExpired(t *testing.T, h handler.Handler) {
	k := newPKI(t)
	old, err := k.ca.Issue(testcerts.Leaf{CommonName: "old", Hosts: []string{"127.0.0.1"},
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
	require.NoError(t, err)
	addr := tlsEcho(t, &tls.Config{Certificates: []tls.Certificate{old.TLS}})
	derr := dialTLSFails(t, h, addr, &tls.Config{RootCAs: k.ca.Pool()})
	var inv x509.CertificateInvalidError
	require.True(t, errors.As(derr, &inv), "got %v", derr)
	assert.Equal(t, x509.Expired, inv.Reason)
}

// testTLSToPlaintextPeer: a plaintext peer that answers with what it got
// sends the ClientHello back, which is no ServerHello.
func testTLSToPlaintextPeer(t *testing.T, h handler.Handler) {
	addr := EchoServer(t)
	err := dialTLSFails(t, h, addr, &tls.Config{InsecureSkipVerify: true})
	assert.Contains(t, err.Error(), "tls:")
}

// testTLSToSilentPeer: a peer that never answers the handshake fails the
// Dial when DialConfig.Timeout ends, not later.
func testTLSToSilentPeer(t *testing.T, h handler.Handler) {
	p := newPeer(t)
	r := newRecorder()
	cfg := r.config(p.addr())
	cfg.Timeout = 50 * time.Millisecond
	cfg.TLSConfig = &tls.Config{InsecureSkipVerify: true}
	_, err := h.Dial(guarded(t), cfg)
	requireDialError(t, err, p.addr())
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	_, closes := r.snapshot()
	assert.Zero(t, closes)
}

// testTLSToClosingPeer: a peer that closes on the ClientHello (as a
// plaintext Kafka broker does on a size prefix beyond its limit) fails the
// Dial with end of stream (or a reset, when the close beat part of the
// ClientHello).
func testTLSToClosingPeer(t *testing.T, h handler.Handler) {
	p := newPeer(t)
	go func() {
		for c := range p.accepted {
			go func(c net.Conn) {
				_, _ = c.Read(make([]byte, 64<<10))
				_ = c.Close()
			}(c)
		}
	}()
	err := dialTLSFails(t, h, p.addr(), &tls.Config{InsecureSkipVerify: true})
	assert.True(t, errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET), "got %v", err)
}

// testPlaintextToTLSPeer: a TLS peer drops a client that speaks plaintext;
// the connection closes with a *ConnError and delivers nothing.
func testPlaintextToTLSPeer(t *testing.T, h handler.Handler) {
	k := newPKI(t)
	addr := tlsEcho(t, &tls.Config{Certificates: []tls.Certificate{k.server}})
	r := newRecorder()
	c, err := h.Dial(guarded(t), r.config(addr))
	require.NoError(t, err, "TCP alone succeeds")
	require.NoError(t, c.Write(AppendFrame(nil, []byte("plaintext request"))))
	requireConnError(t, r.waitClosed(t), "read")
	frames, _ := r.snapshot()
	assert.Zero(t, frames)
	r.check(t)
}

// trickle writes everything a few bytes at a time, so TLS records reach
// the client cut at arbitrary points.
type trickle struct{ net.Conn }

func (t trickle) Write(p []byte) (int, error) {
	for i := 0; i < len(p); i += 3 {
		if _, err := t.Conn.Write(p[i:min(i+3, len(p))]); err != nil {
			return i, err
		}
	}
	return len(p), nil
}

// dialTLSPeer dials a scripted peer over TLS and returns the client end and
// the peer's server-side *tls.Conn (handshake done).
func dialTLSPeer(t *testing.T, h handler.Handler, r *recorder, wrap func(net.Conn) net.Conn) (handler.Conn, *tls.Conn) {
	t.Helper()
	k := newPKI(t)
	p := newPeer(t)
	srv := make(chan *tls.Conn, 1)
	go func() {
		for c := range p.accepted {
			sc := tls.Server(wrap(c), &tls.Config{Certificates: []tls.Certificate{k.server}})
			if sc.Handshake() == nil {
				srv <- sc
			}
		}
	}()
	cfg := r.config(p.addr())
	cfg.Timeout = tlsTimeout
	cfg.TLSConfig = &tls.Config{RootCAs: k.ca.Pool()}
	c, err := h.Dial(guarded(t), cfg)
	require.NoError(t, err)
	return c, waitChan(t, srv, "the peer's handshake")
}

// testTLSTrickledRecords: records that arrive a few bytes at a time are
// reassembled (a partial record waits for the rest), handshake included.
func testTLSTrickledRecords(t *testing.T, h handler.Handler) {
	r := newRecorder()
	c, sc := dialTLSPeer(t, h, r, func(c net.Conn) net.Conn { return trickle{c} })
	want := sampleFrames()
	want = append(want, bytes.Repeat([]byte{7}, 40<<10)) // several records
	_, err := sc.Write(encodeAll(want))
	require.NoError(t, err)
	requireFrames(t, want, r.waitFrames(t, len(want)))
	require.NoError(t, c.Close())
	require.NoError(t, r.waitClosed(t))
	r.check(t)
}

// testTLSPeerCloseNotify: a peer that ends the session with close_notify
// between frames closes the connection with io.EOF, as a plain close does.
func testTLSPeerCloseNotify(t *testing.T, h handler.Handler) {
	r := newRecorder()
	_, sc := dialTLSPeer(t, h, r, func(c net.Conn) net.Conn { return c })
	_, err := sc.Write(AppendFrame(nil, []byte("last")))
	require.NoError(t, err)
	require.NoError(t, sc.Close())
	err = r.waitClosed(t)
	requireConnError(t, err, "read")
	assert.ErrorIs(t, err, io.EOF)
	requireFrames(t, [][]byte{[]byte("last")}, r.waitFrames(t, 1))
	r.check(t)
}

// testTLSPeerCloseMidFrame: close_notify inside a frame is an unexpected
// end, as over plaintext.
func testTLSPeerCloseMidFrame(t *testing.T, h handler.Handler) {
	r := newRecorder()
	_, sc := dialTLSPeer(t, h, r, func(c net.Conn) net.Conn { return c })
	frame := AppendFrame(nil, []byte("truncated"))
	_, err := sc.Write(frame[:7])
	require.NoError(t, err)
	closeMidFrame(t, r, sc, 0)
}

// testTLSLargeFrameInPieces is LargeFrameInPieces over TLS, with every
// 1 MiB piece's records paused halfway through one of them: the reader then
// waits for the rest of a frame holding part of a record, whose bytes the
// peer will not send again: a receive low-water mark set from the frame's
// rest must allow for that record, or the wait never ends.
func testTLSLargeFrameInPieces(t *testing.T, h handler.Handler) {
	r := newRecorder()
	var w *pauseWithin
	c, sc := dialTLSPeer(t, h, r, func(c net.Conn) net.Conn {
		w = &pauseWithin{Conn: c}
		return w
	})
	largeFrameInPieces(t, c, r, sc, func() { w.at.Store(512<<10 + 7001) })
}

// pauseWithin pauses the stream once at bytes of records still to be
// written (at; none when not positive), wherever in a record that falls.
type pauseWithin struct {
	net.Conn
	at atomic.Int64
}

func (w *pauseWithin) Write(p []byte) (int, error) {
	at := int(w.at.Load())
	if at <= 0 {
		return w.Conn.Write(p)
	}
	if at >= len(p) {
		w.at.Add(-int64(len(p)))
		return w.Conn.Write(p)
	}
	w.at.Store(0)
	n, err := w.Conn.Write(p[:at])
	if err != nil {
		return n, err
	}
	time.Sleep(20 * time.Millisecond) // lets the reader reach its wait
	m, err := w.Conn.Write(p[at:])
	return n + m, err
}
