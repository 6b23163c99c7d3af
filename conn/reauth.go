package conn

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/gregorkafka/gregor/handler"
)

// Re-authentication (KIP-368). A broker with connections.max.reauth.ms set
// grants each authentication a session lifetime and closes a connection
// that sends anything but a new authentication once it has passed. The
// re-authentication's SaslHandshake and SaslAuthenticate requests are
// ordinary pipelined requests: the broker answers what was sent before them
// first, then authenticates, so requests in flight keep their answers. What
// must not happen is another request landing between them on the wire,
// since the broker would take it for the next step of the exchange: from
// the re-authentication's first request until it ends, send holds other
// requests back (reauthGate). Work before that first request, such as
// fetching a token, holds nobody up.

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
	bc := s.bc
	// The context ends with the session: a token provider that hangs holds
	// no request back (the gate closes at the first request), and once the
	// session runs out the broker closes the connection, which ends it.
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), handshakeKey{}, s))
	defer cancel()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.reauthActive = true
	s.reauthCancel = cancel
	s.mu.Unlock()

	bc.reauthing.Add(1)
	lifetime, err := bc.cfg.Authenticate(ctx, bc)
	bc.reauthing.Add(-1)
	if err != nil {
		if !s.down.Load() {
			bc.cfg.Logger.Warn("kafka re-authentication failed", "broker", bc.addr, "err", err)
		}
		s.fail(&AuthError{Address: bc.addr, Err: err})
		return
	}
	s.endReauth()
	bc.cfg.Logger.Debug("kafka connection re-authenticated", "broker", bc.addr, "lifetime", lifetime)
	s.scheduleReauth(lifetime)
}

// endReauth lets the requests held back during a re-authentication go.
func (s *session) endReauth() {
	s.mu.Lock()
	g := s.reauthGate
	s.reauthActive, s.reauthGate, s.reauthCancel = false, nil, nil
	s.mu.Unlock()
	if g != nil {
		g.Set()
	}
}

// reauthHold decides, for a request about to be ordered on the wire while
// a re-authentication runs, whether it is one of the re-authentication's
// (own) or must wait for it (the gate to wait on, nil when it may go).
// Called with mu held.
func (s *session) reauthHold(ctx context.Context) (own bool, gate handler.Event) {
	if ctx.Value(handshakeKey{}) == any(s) {
		if s.reauthGate == nil {
			s.reauthGate = s.bc.h.NewEvent()
		}
		return true, nil
	}
	if s.reauthGate != nil {
		return false, s.reauthGate
	}
	return false, nil
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
