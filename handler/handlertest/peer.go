package handlertest

import (
	"encoding/binary"
	"net"
	"sync"
	"testing"
	"time"
)

// guard bounds every wait in the suite: long enough never to fire on a slow
// machine, short enough to turn a hang into a failure.
const guard = 20 * time.Second

// AppendFrame appends payload to dst as one Kafka frame.
func AppendFrame(dst, payload []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(payload)))
	return append(dst, payload...)
}

// peer is a scripted TCP server: tests take each accepted connection and
// read or write raw bytes on it.
type peer struct {
	ln       net.Listener
	accepted chan net.Conn
	mu       sync.Mutex
	conns    []net.Conn
}

func newPeer(tb testing.TB) *peer {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("listen: %v", err)
	}
	p := &peer{ln: ln, accepted: make(chan net.Conn, 1024)}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				close(p.accepted)
				return
			}
			p.mu.Lock()
			p.conns = append(p.conns, c)
			p.mu.Unlock()
			p.accepted <- c
		}
	}()
	tb.Cleanup(p.close)
	return p
}

func (p *peer) addr() string { return p.ln.Addr().String() }

// accept returns the next connection the peer accepted.
func (p *peer) accept(tb testing.TB) net.Conn {
	tb.Helper()
	select {
	case c, ok := <-p.accepted:
		if !ok {
			tb.Fatal("peer: listener closed")
		}
		return c
	case <-time.After(guard):
		tb.Fatal("peer: no connection accepted")
		return nil
	}
}

func (p *peer) close() {
	_ = p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		_ = c.Close()
	}
}

// EchoServer listens on 127.0.0.1 and sends every byte it receives back on
// the same connection, so each frame written comes back as the same frame.
// It stops when tb ends.
func EchoServer(tb testing.TB) string {
	tb.Helper()
	p := newPeer(tb)
	go func() {
		for c := range p.accepted {
			go echo(c)
		}
	}()
	return p.addr()
}

func echo(c net.Conn) {
	defer c.Close()
	buf := make([]byte, 64<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
