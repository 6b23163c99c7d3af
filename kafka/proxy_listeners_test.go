package kafka

import (
	"net"
	"sync"
	"testing"
)

// proxyListeners gives a test proxy one listener per broker address it
// stands in for, handing each accepted connection to serve with that
// address. The listeners close when the test ends.
type proxyListeners struct {
	serve func(client net.Conn, target string)
	mu    sync.Mutex
	lns   map[string]net.Listener // target -> listener
}

func newProxyListeners(t *testing.T, serve func(client net.Conn, target string)) *proxyListeners {
	p := &proxyListeners{serve: serve, lns: map[string]net.Listener{}}
	t.Cleanup(func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, ln := range p.lns {
			ln.Close()
		}
	})
	return p
}

// listen returns the proxy's address for target.
func (p *proxyListeners) listen(target string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ln, ok := p.lns[target]; ok {
		return ln.Addr().String(), nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	p.lns[target] = ln
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c, target)
		}
	}()
	return ln.Addr().String(), nil
}
