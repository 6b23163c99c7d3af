package eventloop

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/panjf2000/gnet/v2"
)

// A loop left to itself waits for its sockets in gnet's epoll_wait, a
// system call that holds the loop's P while it blocks. With GOMAXPROCS=1
// that is the only P, so every wait ends with the runtime's monitor
// retaking it and starting another thread, and every wake-up with the
// loop's thread queueing for it again: twice the goroutine handler's
// context switches, and its timers and tasks late by that much.
//
// A parker keeps the loop out of that call. It is a task queued on the
// loop (the park task) that, when the loop has nothing to do, waits in Go's
// netpoller instead, where a waiting goroutine holds no P: it watches a
// readiness set of its own (pollSet) holding every socket of the loop, level
// triggered for input as gnet's own registrations are. When a socket is
// ready the park task reads it itself, through the conn's own descriptor,
// as the goroutine handler's reader would (readParked), and waits again:
// handing the socket back to gnet cost its epoll_wait twice, a write to its
// eventfd to queue the park task again and a read of it, for every answer.
// gnet only sees a socket that ends or fails, which the park task leaves
// to it, and whatever its loop then runs (OnTraffic, OnClose, a task of
// ours) queues the park task again before gnet would wait on its own.
//
// Work that is not a socket's must wake the park task too, since gnet runs
// queued tasks only after it returns: a conn that queues a task bumps
// submits and kicks the set if the task is parked (notify), the task
// re-queuing itself behind the new work. Enrolling a connection and
// stopping the engine queue gnet's own tasks, so Dial and Close hold every
// parker (Handler.hold), which then stays out of the netpoller and leaves
// the loop to gnet.
//
// Whatever goes wrong leaves the loop in gnet's own wait, which is always
// correct, only slower on one CPU: a socket that cannot be watched marks
// the parker broken for good, a wake-up nothing re-arms leaves it disarmed
// until the loop's next callback, and a connection whose outbound buffer
// holds bytes (gnet then waits for the socket to drain, which the set does
// not watch) makes the park task step aside until the loop runs again.
type parker struct {
	h    *Handler
	loop gnet.EventLoop
	set  *pollSet

	armed   atomic.Bool   // the park task is queued or running
	parked  atomic.Bool   // the park task may be in the netpoller: kick it
	submits atomic.Uint64 // tasks conns queued on the loop
	broken  atomic.Bool   // a socket is not in the set: never park again
	seen    uint64        // submits when the park task last looked; loop only
	why     int           // why the wait ended; loop only
	company bool          // the last flush carried more than one Write; loop only
	kicks   uint8         // task wake-ups, counting to the next probe; loop only

	buf []byte // what readParked reads into; loop only

	mu     sync.Mutex      // conns; kicks against closing the set
	conns  map[int32]*conn // by direct descriptor
	closed bool
}

// Why the park task stopped waiting.
const (
	wakeSocket = iota + 1
	wakeTask
	wakeHold
)

// Run is the park task. It runs on the loop.
func (p *parker) Run(context.Context) error {
	for {
		if p.held() {
			p.release()
			return nil
		}
		if p.broken.Load() || p.outbound() {
			p.armed.Store(false)
			return nil
		}
		p.why = 0
		p.parked.Store(true)
		err := p.set.wait()
		p.parked.Store(false)
		switch why := p.why; {
		case err != nil:
			// The set failed or was closed under us: leave the loop to gnet.
			p.broken.Store(true)
			p.armed.Store(false)
			return nil
		case why == wakeTask:
			if p.yield() {
				runtime.Gosched()
			}
			// Behind the tasks just queued, which run first: stay armed.
			p.seen = p.submits.Load()
			p.queue()
			return nil
		case why == wakeHold:
			p.release()
			return nil
		}
		if !p.serve() {
			// A socket gnet must read: its next look finds it, and the
			// callback it runs arms the task again. Queued again now, the
			// task would run before that look, find the same socket, and
			// never let gnet at it.
			p.armed.Store(false)
			return nil
		}
	}
}

// serve reads every socket the set found ready. It reports false if one
// ended or failed, which gnet's next read finds and reports.
//
// Each wait looks at the set before it sleeps, although serve read every
// socket until the kernel had nothing more: going straight to sleep would
// rely on the netpoller remembering input that arrived in between, and
// the wait forgets that as it starts (RawRead resets the descriptor's
// readiness before its first check).
func (p *parker) serve() bool {
	if p.buf == nil {
		p.buf = make([]byte, parkTLSReadBuf)
	}
	for _, ev := range p.set.readyFDs() {
		p.mu.Lock()
		c := p.conns[ev.Fd]
		p.mu.Unlock()
		if c != nil && !c.readParked(p.buf) {
			return false
		}
	}
	return true
}

// A kick readies the park task ahead of every other goroutine ready to
// run. When those include writers to the loop's connections, going first
// gives each of them a flush of its own: at 16 requests in flight on one
// CPU a round trip took five times as long as when their Writes rode along
// with the one that kicked. Yielding first (runtime.Gosched) lets them
// queue their bytes, but it also lets a consumer's goroutine decode a whole
// batch before its next fetch request leaves, which cost a consumer 2-3%
// more CPU (more waits for data, each a sleep and a wake-up). So the task
// yields while flushes carry more than one Write, and otherwise on every
// yieldProbe-th wake-up only, which finds out whether writers are back.
const yieldProbe = 8

// yield reports whether the park task, woken for a task, lets the other
// ready goroutines run first.
func (p *parker) yield() bool {
	p.kicks++
	if p.kicks >= yieldProbe {
		p.kicks = 0
		return true
	}
	return p.company
}

// flushed records how many Writes a flush on the loop carried.
func (p *parker) flushed(writes int) {
	if p != nil {
		p.company = writes > 1
	}
}

// stop tells the set's wait whether to return, and why.
func (p *parker) stop(socket bool) bool {
	switch {
	case p.held():
		p.why = wakeHold
	case p.submits.Load() != p.seen:
		p.why = wakeTask
	case socket:
		p.why = wakeSocket
	default:
		return false
	}
	return true
}

func (p *parker) held() bool { return p.h.hold.Load() > 0 }

// release stands the park task down for a hold. If the hold ended
// meanwhile, whoever ended it may have found the task still armed, so it
// is armed again here.
func (p *parker) release() {
	p.armed.Store(false)
	if !p.held() {
		p.arm()
	}
}

// outbound reports whether gnet holds bytes for a socket that refused
// them, which gnet waits for with a registration the set does not mirror.
func (p *parker) outbound() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		if c.gc.OutboundBuffered() > 0 {
			return true
		}
	}
	return false
}

// arm queues the park task unless it is queued already. Called on the loop
// after each callback and task of ours, and by Dial when its hold ends.
func (p *parker) arm() {
	if p == nil || p.held() || p.broken.Load() || !p.armed.CompareAndSwap(false, true) {
		return
	}
	p.queue()
}

// queue puts the armed park task on the loop; a loop that is stopping
// takes no more tasks, and the task is disarmed.
func (p *parker) queue() {
	if p.loop.Execute(context.Background(), p) != nil {
		p.armed.Store(false)
	}
}

// notify follows every task a conn queues on the loop: a parked task must
// wake for it to run.
func (p *parker) notify() {
	if p == nil {
		return
	}
	p.submits.Add(1)
	if p.parked.Load() {
		p.kick()
	}
}

func (p *parker) kick() {
	p.mu.Lock()
	if !p.closed {
		p.set.kick()
	}
	p.mu.Unlock()
}

// watch adds c's socket to its loop's set, so that the loop may park.
// Called by Dial once c is enrolled, while Dial holds the parkers.
func (h *Handler) watch(c *conn) {
	p := h.parkerFor(c.loop)
	if p == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return // closing already: nothing left to wait for
	}
	if c.wfd < 0 || p.set.add(c.wfd) != nil {
		p.broken.Store(true)
		return
	}
	p.mu.Lock()
	p.conns[int32(c.wfd)] = c
	p.mu.Unlock()
	c.park.Store(p)
}

// unwatch takes c's socket out of the set. Called on the loop by OnClose,
// with c.mu held, before the descriptor is closed.
func (c *conn) unwatch() {
	p := c.park.Load()
	if p == nil {
		return
	}
	if c.wfd < 0 {
		return
	}
	p.set.remove(c.wfd)
	p.mu.Lock()
	delete(p.conns, int32(c.wfd))
	p.mu.Unlock()
}

// parkerFor returns loop's parker, making it on first use; nil if the
// platform or the process cannot give it a set.
func (h *Handler) parkerFor(loop gnet.EventLoop) *parker {
	if !h.netpoll {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if p, ok := h.parkers[loop]; ok {
		return p
	}
	p := &parker{h: h, loop: loop, conns: make(map[int32]*conn)}
	var err error
	if p.set, err = openPollSet(p.stop); err != nil {
		p = nil
	}
	h.parkers[loop] = p
	return p
}

// holdParkers keeps every park task out of the netpoller, waking those in
// it, while gnet runs tasks of its own on the loops.
func (h *Handler) holdParkers() {
	h.hold.Add(1)
	for _, p := range h.parkerList() {
		p.kick()
	}
}

// releaseParkers ends a hold and arms the parkers again.
func (h *Handler) releaseParkers() {
	h.hold.Add(-1)
	for _, p := range h.parkerList() {
		p.arm()
	}
}

// closeParkers closes every set, once the loops have stopped.
func (h *Handler) closeParkers() {
	for _, p := range h.parkerList() {
		p.mu.Lock()
		p.closed = true
		p.set.close()
		p.mu.Unlock()
	}
}

func (h *Handler) parkerList() []*parker {
	h.mu.Lock()
	defer h.mu.Unlock()
	ps := make([]*parker, 0, len(h.parkers))
	for _, p := range h.parkers {
		if p != nil {
			ps = append(ps, p)
		}
	}
	return ps
}

// execute queues t on c's loop and wakes the loop's park task for it.
func (c *conn) execute(t gnet.Runnable) error {
	if err := c.loop.Execute(context.Background(), t); err != nil {
		return err
	}
	c.park.Load().notify()
	return nil
}

// armPark queues the park task again after the loop ran something of ours.
func (c *conn) armPark() { c.park.Load().arm() }
