package goroutine

import "sync"

// tlsGatherMax is how much ciphertext a gathering write holds before it goes
// to the socket. Producing 10 KiB records over SASL_SSL took a tenth less CPU
// with 512 KiB than with 128 KiB, and no less with 1 MiB.
const tlsGatherMax = 512 << 10

// tlsRecordMax is the most ciphertext one TLS record takes: 16 KiB of
// plaintext plus at most 256 bytes.
const tlsRecordMax = 16<<10 + 256

// crypto/tls seals a Write a record (16 KiB of plaintext) at a time and
// writes each record to the socket on its own: a 4 MiB Produce request is
// 256 system calls, each pushing one segment through the TCP stack. While
// the connection's writer has crypto/tls write a request, the transport
// gathers the records instead and writes them tlsGatherMax at a time and at
// the end. For a SASL_SSL producer of 10 KiB records that took 31,000 write
// calls per 500 MB down to 1,000. The buffer grows to what the connection's
// writes need, up to tlsGatherMax and a record.
//
// Every post-handshake record crypto/tls writes is written under its output
// lock, so records reach Write in the order they were sealed, whichever
// goroutine wrote them: the reader's reply to a key update that lands while
// the writer gathers goes out in order with the writer's records, when the
// writer flushes.
type tlsGather struct {
	mu     sync.Mutex
	on     bool
	out    []byte
	direct func([]byte) (int, error) // the socket's Write
}

// Write is the transport's Write as crypto/tls calls it.
func (g *tlsGather) Write(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.on {
		return g.direct(p)
	}
	if need := len(g.out) + len(p); need > cap(g.out) {
		out := make([]byte, len(g.out), max(need, min(2*cap(g.out), tlsGatherMax+tlsRecordMax)))
		copy(out, g.out)
		g.out = out
	}
	g.out = append(g.out, p...)
	if len(g.out) < tlsGatherMax {
		return len(p), nil
	}
	if err := g.flushLocked(); err != nil {
		return 0, err
	}
	return len(p), nil
}

// gather starts gathering; flush ends it.
func (g *tlsGather) gather() {
	g.mu.Lock()
	g.on = true
	g.mu.Unlock()
}

// flush writes what was gathered and stops gathering. err is the error of
// the write that gathered: when set, it is returned and nothing is written
// (crypto/tls has failed the connection).
func (g *tlsGather) flush(err error) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.on = false
	if err != nil {
		g.out = g.out[:0]
		return err
	}
	return g.flushLocked()
}

func (g *tlsGather) flushLocked() error {
	if len(g.out) == 0 {
		return nil
	}
	_, err := g.direct(g.out)
	g.out = g.out[:0]
	return err
}

// Write resolves the embedded socket's Write in favour of tlsGather's.
func (s *tlsSource) Write(p []byte) (int, error) { return s.tlsGather.Write(p) }
