package eventloop

import (
	"os"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// roomPoll is where a direct writer waits for room in its socket's send
// buffer: an epoll instance of the connection's own, holding the socket for
// output only, and registered once with Go's netpoller as pollSet's set is.
// The socket's entry is one-shot and armed only while the writer waits, so
// nothing wakes the netpoller otherwise: neither the input gnet's loop
// handles (which the socket itself, registered there, would report) nor
// the room gnet's own writes wait for.
//
// A wait arms the entry (the first wait's is armed by its registration)
// and asks the set for it (epoll_wait, without blocking); only if the
// socket has no room does the writer park, and each wake-up asks again.
// Armed level-triggered, the entry is ready at once if the room came
// before, so no wake-up is lost, and the report disarms it. The writer
// writes again only once the kernel has reported room. (A dup of the
// socket registered with the netpoller for each wait, the first way, cost
// the dup, its registration, removal and close, and a writev that the
// netpoller tried before parking, nearly always refused.)
type roomPoll struct {
	sock    int      // the direct descriptor
	file    *os.File // the epoll instance, registered with the netpoller
	rc      syscall.RawConn
	checkFn func(uintptr) bool
	events  [1]unix.EpollEvent

	// The writer's.
	armed bool  // the entry reports the next room
	err   error // why the last check failed
	waits int   // waits so far, for tests

	waiting atomic.Bool // a writer is in wait, for tests
}

// openRoomPoll makes sock's room poll, its entry armed.
func openRoomPoll(sock int) (*roomPoll, error) {
	r := &roomPoll{sock: sock, armed: true}
	_, file, rc, err := openNetpollEpoll("eventloop-room", func(epfd int) error {
		ev := r.event()
		return os.NewSyscallError("epoll_ctl", unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, sock, &ev))
	})
	if err != nil {
		return nil, err
	}
	r.file, r.rc = file, rc
	r.checkFn = r.check
	return r, nil
}

// event is the socket's entry, armed.
func (r *roomPoll) event() unix.EpollEvent {
	return unix.EpollEvent{Events: unix.EPOLLOUT | unix.EPOLLONESHOT, Fd: int32(r.sock)}
}

// wait returns nil once the socket has room or has failed (the next write
// tells which), and an error once released or if the set fails.
func (r *roomPoll) wait() error {
	r.err = nil
	r.waits++
	r.waiting.Store(true)
	err := r.rc.Read(r.checkFn)
	r.waiting.Store(false)
	if err == nil {
		err = r.err
	}
	return err
}

// check is the netpoller's test, before the writer parks and after each
// wake-up: true ends the wait. It asks the set before the first park too:
// Read forgets what the netpoller saw before it began, which may have been
// the room.
func (r *roomPoll) check(epfd uintptr) bool {
	if !r.armed {
		ev := r.event()
		if err := unix.EpollCtl(int(epfd), unix.EPOLL_CTL_MOD, r.sock, &ev); err != nil {
			r.err = os.NewSyscallError("epoll_ctl", err)
			return true
		}
		r.armed = true
	}
	for {
		n, err := unix.EpollWait(int(epfd), r.events[:], 0)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			r.err = os.NewSyscallError("epoll_wait", err)
			return true
		case n == 0:
			return false
		}
		r.armed = false // reported: the one-shot entry is disarmed
		return true
	}
}

// release ends a wait in progress, and every wait after it, at once.
func (r *roomPoll) release() { _ = r.file.SetReadDeadline(kickDeadline) }

// close closes the set. A wait in progress returns an error.
func (r *roomPoll) close() { _ = r.file.Close() }
