package eventloop

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/internal/testcerts"
)

// A TLS 1.3 server that requires a client certificate refuses one missing
// after the client's handshake is done: it sends an alert and closes. When
// the alert came in as the client's handshake ended, the task that
// decrypts it can be overtaken by the close (the loop runs socket events
// before the tasks woken in the same round). OnClose then decrypts it
// itself and reports the alert, not the end of the stream.
func TestTLSAlertOvertakenByClose(t *testing.T) {
	ca, err := testcerts.NewCA("alert test CA")
	require.NoError(t, err)
	srv, err := ca.Issue(testcerts.Leaf{CommonName: "peer", Hosts: []string{"127.0.0.1"}})
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	closeServer := make(chan struct{})
	serverErr := make(chan error, 1)
	go func() {
		pc, err := ln.Accept()
		if err != nil {
			serverErr <- err
			return
		}
		defer pc.Close()
		serverErr <- tls.Server(pc, &tls.Config{
			Certificates: []tls.Certificate{srv.TLS},
			ClientAuth:   tls.RequireAndVerifyClientCert,
			ClientCAs:    ca.Pool(),
		}).Handshake()
		<-closeServer
	}()

	// The hooks act on this test's connection only (the package's tests do
	// not run in parallel, so setting them races with nothing).
	addr := ln.Addr().String()
	queued := make(chan struct{}, 1)
	origQueue := queueLeftover
	testHookHandshaken = func(l *tlsLayer) {
		if l.c.addr != addr {
			return
		}
		// Hold the handshake's end until the alert is buffered.
		require.Eventually(t, func() bool {
			l.mu.Lock()
			defer l.mu.Unlock()
			return len(l.in) > 0
		}, 10*time.Second, time.Millisecond, "no alert during the handshake")
	}
	queueLeftover = func(l *tlsLayer) {
		if l.c.addr != addr {
			origQueue(l)
			return
		}
		queued <- struct{}{}
	}
	defer func() { testHookHandshaken, queueLeftover = nil, origQueue }()

	h, err := New(WithLoops(1))
	require.NoError(t, err)
	defer h.Close()
	closed := make(chan error, 1)
	hc, err := h.Dial(context.Background(), handler.DialConfig{
		Address:   addr,
		TLSConfig: &tls.Config{RootCAs: ca.Pool(), MinVersion: tls.VersionTLS13},
		OnFrame:   func([]byte) { t.Error("no frame expected") },
		OnClose:   func(err error) { closed <- err },
	})
	require.NoError(t, err)
	defer hc.Close()
	require.Error(t, <-serverErr, "the server should refuse the client")
	select {
	case <-queued:
	default:
		t.Fatal("the alert was not left for the loop to decrypt")
	}
	close(closeServer)

	err = released(t, closed)
	var ce *handler.ConnError
	require.True(t, errors.As(err, &ce), "got %v", err)
	var oe *net.OpError
	require.True(t, errors.As(err, &oe), "want the TLS alert, got %v", err)
	require.Equal(t, "remote error", oe.Op)
}
