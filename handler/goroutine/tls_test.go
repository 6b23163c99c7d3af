package goroutine_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/handler/goroutine"
	"github.com/gregorkafka/gregor/handler/handlertest"
)

// selfSigned returns a server certificate for 127.0.0.1 and a pool trusting it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "broker"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

// tlsEcho serves TLS on 127.0.0.1 and echoes every byte back.
func tlsEcho(t *testing.T, cert tls.Certificate) string {
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 64<<10)
				for {
					n, err := c.Read(buf)
					if n > 0 {
						if _, err := c.Write(buf[:n]); err != nil {
							return
						}
					}
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func TestTLSRoundTrip(t *testing.T) {
	cert, pool := selfSigned(t)
	addr := tlsEcho(t, cert)
	h := goroutine.New()
	defer h.Close()

	frames := make(chan []byte, 8)
	closed := make(chan error, 1)
	c, err := h.Dial(context.Background(), handler.DialConfig{
		Address: addr,
		// No ServerName: it defaults to the address's host, 127.0.0.1.
		TLSConfig: &tls.Config{RootCAs: pool},
		OnFrame:   func(f []byte) { frames <- f },
		OnClose:   func(err error) { closed <- err },
	})
	require.NoError(t, err)
	big := make([]byte, 3<<20)
	for i := range big {
		big[i] = byte(i)
	}
	require.NoError(t, c.Write(handlertest.AppendFrame(nil, []byte("hello"))))
	require.NoError(t, c.Write(handlertest.AppendFrame(nil, big)))
	assert.Equal(t, []byte("hello"), <-frames)
	assert.Equal(t, big, <-frames)
	require.NoError(t, c.Close())
	assert.NoError(t, <-closed)
}

func TestTLSUntrusted(t *testing.T) {
	cert, _ := selfSigned(t)
	addr := tlsEcho(t, cert)
	h := goroutine.New()
	defer h.Close()
	_, err := h.Dial(context.Background(), handler.DialConfig{Address: addr, TLSConfig: &tls.Config{}})
	var de *handler.DialError
	require.True(t, errors.As(err, &de), "got %T: %v", err, err)
	var cve *tls.CertificateVerificationError
	assert.True(t, errors.As(err, &cve), "got %v", err)
}

// TestTLSHandshakeTimeout dials a peer that accepts but never answers the
// handshake: DialConfig.Timeout must bound the handshake, not just connect.
func TestTLSHandshakeTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	h := goroutine.New()
	defer h.Close()
	_, err = h.Dial(context.Background(), handler.DialConfig{
		Address:   ln.Addr().String(),
		Timeout:   50 * time.Millisecond,
		TLSConfig: &tls.Config{InsecureSkipVerify: true},
	})
	var de *handler.DialError
	require.True(t, errors.As(err, &de), "got %T: %v", err, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}
