package conn

import (
	"context"
	"encoding/binary"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/internal/coalesce"
	"github.com/gregorkafka/gregor/protocol"
)

// session is one dialed socket and everything tied to its life: the pending
// FIFO, correlation ids, the in-flight limit and the negotiated versions.
// Connect and Reconnect create a new session, so callbacks of an old socket
// can never touch the state of a new one.
type session struct {
	bc *BrokerConnection

	sem handler.Semaphore // in-flight slots, one per pending request

	versions atomic.Pointer[protocol.Versions]
	ready    atomic.Bool // handshake done; set once
	down     atomic.Bool // mirrors closed, for lock-free reads
	vec      atomic.Bool // conn is a handler.VectorWriter; set by attach

	mu       sync.Mutex
	conn     handler.Conn // nil until Dial returns
	closed   bool
	cause    *DisconnectedError // why it closed; set with closed
	pending  fifo
	nextID   int32
	timer    handler.Timer
	timerSet bool      // timer is scheduled
	timerAt  time.Time // when it fires, if timerSet

	// Re-authentication, see reauth.go.
	reauthTimer  handler.Timer
	reauthActive bool               // a re-authentication is running
	reauthGate   handler.Event      // non-nil from its first request; set when it ends
	reauthCancel context.CancelFunc // ends its context

	// Write coalescing, see send.
	flushing bool            // a sender is writing; others append to out
	out      coalesce.Buffer // frames queued behind that write, in FIFO order
	drained  handler.Event   // set when out is taken; senders waiting on a full out
}

func newSession(bc *BrokerConnection) *session {
	return &session{
		bc:  bc,
		sem: bc.h.NewSemaphore(int64(bc.cfg.MaxInFlight)),
	}
}

// attach hands the session its socket. If the socket already failed (a peer
// can close, or send garbage, before Dial returns) it is closed at once.
func (s *session) attach(c handler.Conn) {
	_, vec := c.(handler.VectorWriter)
	s.vec.Store(vec)
	s.mu.Lock()
	s.conn = c
	closed := s.closed
	s.mu.Unlock()
	if closed {
		_ = c.Close()
	}
}

// failure returns the error a request on a closed session gets.
func (s *session) failure() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cause
}

// noResponse reports whether the broker sends nothing back for req.
func noResponse(req protocol.Request) bool {
	switch p := req.(type) {
	case *protocol.ProduceRequest:
		return p.Acks == 0
	case *protocol.ProduceRecordsRequest:
		return p.Acks == 0
	}
	return false
}

// bufPool holds encode buffers. Write does not keep its argument, so a
// buffer goes back to the pool as soon as Write returns.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// maxPooledBuf keeps a buffer grown past any sane request (the broker's
// socket.request.max.bytes is 100 MiB) out of the pool. Below it a buffer
// is reused, however large: a producer whose requests carry several
// MiB of batches would otherwise grow a fresh buffer, zeroing and
// copying it at every doubling, for every request. The pool lets go of
// what stays unused across two garbage collections.
const maxPooledBuf = 64 << 20

// corrIDOffset is where the correlation id sits in an encoded request frame:
// after the size (4), the API key (2) and the API version (2). Every request
// header version starts this way.
const corrIDOffset = 8

// send encodes req at version, writes it and returns its future (nil for a
// request that gets no response).
func (s *session) send(ctx context.Context, req protocol.Request, version int16, timeout time.Duration, w Watcher) (*ResponseFuture, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.down.Load() {
		return nil, s.failure()
	}
	obs := s.bc.cfg.Observer
	var start time.Time
	if obs != nil {
		start = s.bc.h.Now()
	}
	tracked := !noResponse(req)
	if tracked {
		if err := s.sem.Acquire(ctx, 1); err != nil {
			return nil, err
		}
	}
	release := func() {
		if tracked {
			s.sem.Release(1)
		}
	}

	bp := bufPool.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= maxPooledBuf {
			*bp = (*bp)[:0]
			bufPool.Put(bp)
		}
	}()
	var buf []byte
	var err error
	var refs *frameRefs // large values left in place, for a VectorWriter
	if _, ok := req.(protocol.RefAppender); ok && s.vec.Load() {
		refs = refsPool.Get().(*frameRefs)
		defer refs.put()
		buf, err = protocol.AppendRequestFrameRefs((*bp)[:0], &refs.r, req, version, 0, &s.bc.cfg.ClientID)
	} else {
		buf, err = protocol.AppendRequestFrame((*bp)[:0], req, version, 0, &s.bc.cfg.ClientID)
	}
	*bp = buf
	if err != nil {
		release()
		return nil, err
	}
	size := len(buf)
	if refs != nil {
		size += refs.r.Bytes()
	}

	var f *ResponseFuture
	if tracked {
		f = &ResponseFuture{
			req:     req,
			version: version,
			address: s.bc.addr,
			timeout: timeout,
			done:    s.bc.h.NewEvent(),
			watch:   w,
		}
		if obs != nil {
			f.obs = &observed{o: obs, h: s.bc.h}
		}
	}

	// The broker answers in the order it reads, so the FIFO order must be
	// the write order. A sender that finds the socket idle writes its frame
	// itself; senders arriving during that write append their frames to out
	// and return, and the writing sender sends out before it returns. Under
	// load many requests share one write; alone, a request costs no copy.
	s.mu.Lock()
	for s.flushing && s.out.Len() > 0 && s.out.Len()+size > maxQueued {
		// The socket is not keeping up: wait for out to be taken rather
		// than queue without bound.
		if s.drained == nil {
			s.drained = s.bc.h.NewEvent()
		}
		drained := s.drained
		s.mu.Unlock()
		if err := drained.Wait(ctx); err != nil {
			release()
			return nil, err
		}
		s.mu.Lock()
	}
	if s.closed {
		cause := s.cause
		s.mu.Unlock()
		release()
		return nil, cause
	}
	var reauth bool
	if s.reauthActive {
		var gate handler.Event
		if reauth, gate = s.reauthHold(ctx); gate != nil {
			// Not the re-authentication's own request: wait until it is
			// done, then start over.
			s.mu.Unlock()
			release()
			if err := gate.Wait(ctx); err != nil {
				return nil, err
			}
			return s.send(ctx, req, version, timeout, w)
		}
	}
	id := s.nextID
	s.nextID++
	if s.nextID < 0 {
		s.nextID = 0
	}
	binary.BigEndian.PutUint32(buf[corrIDOffset:], uint32(id))
	var queued time.Duration
	if obs != nil {
		now := s.bc.h.Now()
		queued = now.Sub(start)
		if f != nil {
			f.obs.written = now
		}
	}
	if f != nil {
		f.corrID = id
		if reauth {
			f.deadline = s.authDeadline(timeout)
		} else {
			f.deadline = s.bc.h.Now().Add(timeout)
		}
		s.pending.push(f)
		s.armTimer(f.deadline)
	}
	if s.flushing {
		if refs != nil {
			for _, p := range refs.pieces(buf) {
				s.out.Append(p)
			}
		} else {
			s.out.Append(buf)
		}
		s.mu.Unlock()
		if obs != nil {
			s.observeWrite(req, version, size, queued, nil)
		}
		return f, nil
	}
	s.flushing = true
	c := s.conn
	s.mu.Unlock()

	var werr error
	if refs != nil {
		werr = c.(handler.VectorWriter).WriteVec(refs.pieces(buf))
	} else {
		werr = c.Write(buf)
	}
	if err := s.flush(c, werr); err != nil {
		// The pushed future, if any, failed with the others.
		err = s.failure()
		if obs != nil {
			s.observeWrite(req, version, size, queued, err)
		}
		return nil, err
	}
	if obs != nil {
		s.observeWrite(req, version, size, queued, nil)
	}
	return f, nil
}

// minRef is the smallest record value a request leaves in the producer's
// memory for a VectorWriter to gather (see protocol.FrameRefs) rather than
// copies into the request buffer. Smaller values are copied: each ref adds
// two buffers to the writev (the value and the bytes after it), and a
// request of a megabyte of small records would come in tens of thousands of
// pieces, 1,024 per system call at most.
const minRef = 4 << 10

// frameRefs is a request's refs and the pieces list built from them.
type frameRefs struct {
	r  protocol.FrameRefs
	ps [][]byte
}

var refsPool = sync.Pool{New: func() any { return &frameRefs{r: protocol.FrameRefs{Min: minRef}} }}

// pieces lists the frame in buf as the buffers to write.
func (f *frameRefs) pieces(buf []byte) [][]byte {
	f.ps = f.r.Pieces(f.ps[:0], buf, 0)
	return f.ps
}

// put returns f to the pool, keeping no caller memory reachable from it.
func (f *frameRefs) put() {
	f.r.Reset()
	clear(f.ps)
	f.ps = f.ps[:0]
	refsPool.Put(f)
}

// observeWrite reports a request frame of n bytes handed to the socket
// after waiting queued for its turn.
func (s *session) observeWrite(req protocol.Request, version int16, n int, queued time.Duration, err error) {
	s.bc.cfg.Observer.RequestWritten(RequestInfo{Address: s.bc.addr, APIKey: req.APIKey(), Version: version,
		Bytes: n, Queued: queued, Err: err})
}

// maxQueued bounds the bytes queued behind a write in progress.
const maxQueued = 4 << 20

// flush is the writing sender's second half: after its own Write (whose
// result is err) it writes whatever other senders queued meanwhile, until
// nothing is left, then hands the socket back.
func (s *session) flush(c handler.Conn, err error) error {
	s.mu.Lock()
	for err == nil && !s.closed && s.out.Len() > 0 {
		b := s.out.Take()
		s.wakeDrained()
		s.mu.Unlock()
		err = c.Write(b)
		s.mu.Lock()
		s.out.Recycle(b)
	}
	s.flushing = false
	s.out.Reset()
	s.wakeDrained()
	s.mu.Unlock()
	if err != nil {
		s.fail(err)
	}
	return err
}

// wakeDrained releases senders waiting for room in out. Called with mu held.
func (s *session) wakeDrained() {
	if s.drained != nil {
		s.drained.Set()
		s.drained = nil
	}
}

// onFrame matches a response to the oldest pending request. It may run on
// an event loop, so it does no decoding: the caller's Get does.
func (s *session) onFrame(frame []byte) {
	id, err := protocol.ResponseCorrelationID(frame)
	if err != nil {
		id = -1
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	head := s.pending.peek()
	if head == nil || err != nil || head.corrID != id {
		expected := int32(-1)
		if head != nil {
			expected = head.corrID
		}
		s.mu.Unlock()
		s.fail(&CorrelationError{Expected: expected, Got: id})
		return
	}
	s.pending.pop()
	s.mu.Unlock()
	if head.obs != nil {
		head.obs.readAt = s.bc.h.Now()
	}
	if head.watch != nil {
		head.watch.Watch(head.version, frame)
	}
	head.complete(frame, nil)
	s.sem.Release(1)
}

// onPartialFrame shows a response still arriving to its request's Watcher.
// Responses come in request order, so it is the oldest pending request's.
func (s *session) onPartialFrame(partial []byte) {
	if len(partial) < 4 {
		return
	}
	s.mu.Lock()
	head := s.pending.peek()
	s.mu.Unlock()
	if head != nil && head.watch != nil && head.corrID == int32(binary.BigEndian.Uint32(partial)) {
		head.watch.Watch(head.version, partial)
	}
}

// onClose learns that the socket is gone. A nil err follows our own Close,
// whose cause was recorded already.
func (s *session) onClose(err error) {
	if err == nil {
		err = ErrClosed
	}
	s.fail(err)
}

// fail closes the session for cause: every pending future fails with one
// *DisconnectedError, later requests get the same error, and the socket is
// closed. Only the first call has an effect.
func (s *session) fail(cause error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.down.Store(true)
	s.cause = &DisconnectedError{Address: s.bc.addr, Err: cause}
	dErr := s.cause
	failed := s.pending.drain()
	if s.timerSet {
		s.timer.Stop()
		s.timerSet = false
	}
	if s.reauthTimer != nil {
		s.reauthTimer.Stop()
	}
	gate, cancel := s.reauthGate, s.reauthCancel
	s.reauthActive, s.reauthGate, s.reauthCancel = false, nil, nil
	c := s.conn
	s.mu.Unlock()

	if gate != nil {
		gate.Set() // held-back senders now find the session closed
	}
	if cancel != nil {
		cancel()
	}

	for _, f := range failed {
		f.complete(nil, dErr)
	}
	if len(failed) > 0 {
		s.sem.Release(int64(len(failed)))
	}
	if c != nil {
		_ = c.Close()
	}
	if obs := s.bc.cfg.Observer; obs != nil && s.ready.Load() {
		// fail may run on the read path (onClose): report from a task.
		info := DisconnectInfo{Address: s.bc.addr, Pending: len(failed), Err: cause}
		s.bc.h.Go("conn-observe-disconnect", func() { obs.Disconnected(info) })
	}
	if s.ready.Load() {
		log := s.bc.cfg.Logger
		if cause == ErrClosed {
			log.Debug("kafka connection closed", "broker", s.bc.addr, "pending", len(failed))
		} else {
			log.Warn("kafka connection lost", "broker", s.bc.addr, "pending", len(failed), "err", cause)
		}
	}
}

// armTimer makes sure the request timer fires no later than at. Called with
// mu held. All requests usually share one timeout, so deadlines only grow
// and the timer is rescheduled once per expiry, not once per request.
func (s *session) armTimer(at time.Time) {
	if s.timerSet && !at.Before(s.timerAt) {
		return
	}
	d := at.Sub(s.bc.h.Now())
	if s.timer == nil {
		s.timer = s.bc.h.AfterFunc(d, s.checkTimeouts)
	} else {
		s.timer.Reset(d)
	}
	s.timerSet, s.timerAt = true, at
}

// checkTimeouts runs when the earliest deadline may have passed. An overdue
// request means the connection is broken, as the Java client treats it.
func (s *session) checkTimeouts() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.timerSet = false
	now := s.bc.h.Now()
	var next time.Time
	for i := range s.pending.len() {
		f := s.pending.at(i)
		if !now.Before(f.deadline) {
			s.mu.Unlock()
			s.fail(&RequestTimeoutError{APIKey: f.req.APIKey(), Version: f.version, CorrelationID: f.corrID, Timeout: f.timeout})
			return
		}
		if next.IsZero() || f.deadline.Before(next) {
			next = f.deadline
		}
	}
	if !next.IsZero() {
		s.armTimer(next)
	}
	s.mu.Unlock()
}
