package conn

import (
	"context"
	"math/rand/v2"
	"time"
)

// Re-authentication (KIP-368). A broker with connections.max.reauth.ms set
// grants each authentication a session lifetime and closes a connection
// that sends anything but a new authentication once it has passed. The
// re-authentication's SaslHandshake and SaslAuthenticate requests are
// ordinary pipelined requests: the broker answers what was sent before them
// first, then authenticates, so requests in flight keep their answers. What
// must not happen is another request landing between them on the wire,
// since the broker would take it for the next step of the exchange: while a
// re-authentication runs, send holds other requests back (reauthGate).

// Java re-authenticates at a random point between these fractions of the
// lifetime, so that a client's connections do not all do it at once.
const (
	reauthEarliest = 0.85
	reauthLatest   = 0.95
)

// scheduleReauth arranges for Authenticate to run again before lifetime
// ends. Zero means the broker set none.
func (s *session) scheduleReauth(lifetime time.Duration) {
	if lifetime <= 0 {
		return
	}
	d := time.Duration(float64(lifetime) * (reauthEarliest + (reauthLatest-reauthEarliest)*rand.Float64()))
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	if s.reauthTimer == nil {
		s.reauthTimer = s.bc.h.AfterFunc(d, s.reauthenticate)
	} else {
		s.reauthTimer.Reset(d)
	}
}

// reauthenticate runs Config.Authenticate on the live socket. It runs as a
// handler task (AfterFunc), so it may block.
func (s *session) reauthenticate() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.reauthGate = s.bc.h.NewEvent()
	s.mu.Unlock()

	bc := s.bc
	bc.reauthing.Add(1)
	// No deadline of its own: every request has its response timeout, and
	// a socket that fails ends the exchange at once.
	ctx := context.WithValue(context.Background(), handshakeKey{}, s)
	lifetime, err := bc.cfg.Authenticate(ctx, bc)
	bc.reauthing.Add(-1)
	if err != nil {
		if !s.down.Load() {
			bc.cfg.Logger.Warn("kafka re-authentication failed", "broker", bc.addr, "err", err)
		}
		s.fail(&AuthError{Address: bc.addr, Err: err})
		return
	}
	s.openGate()
	bc.cfg.Logger.Debug("kafka connection re-authenticated", "broker", bc.addr, "lifetime", lifetime)
	s.scheduleReauth(lifetime)
}

// openGate lets the requests held back during a re-authentication go.
func (s *session) openGate() {
	s.mu.Lock()
	g := s.reauthGate
	s.reauthGate = nil
	s.mu.Unlock()
	if g != nil {
		g.Set()
	}
}

// authDeadline is when the response to a re-authentication request is due:
// its timeout counted from when the broker will get to it, after every
// request ahead of it, some of which (a Fetch long poll, a JoinGroup during
// a rebalance) it may hold on purpose. Called with mu held.
func (s *session) authDeadline(timeout time.Duration) time.Time {
	start := s.bc.h.Now()
	for i := range s.pending.len() {
		if d := s.pending.at(i).deadline; d.After(start) {
			start = d
		}
	}
	return start.Add(timeout)
}
