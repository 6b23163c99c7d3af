package eventloop

import (
	"errors"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// pollSet is an epoll instance of our own holding a loop's sockets. An
// epoll descriptor is readable while any of its entries is ready, so Go's
// netpoller can wait on it as on a socket: the park task waits there,
// holding no P.
//
// A kick ends a wait without a system call: it sets the descriptor's read
// deadline in the past, which has the runtime ready the waiting goroutine
// at once. (An eventfd in the set, the first way, cost a write to kick and
// a read and an epoll_wait more to notice: three system calls for each
// request a parked loop was woken to send.)
type pollSet struct {
	epfd   int
	file   *os.File // epfd, registered with the netpoller
	rc     syscall.RawConn
	events [16]unix.EpollEvent
	ready  int // sockets in events after the last look

	// The wait's state, kept here so that a wait allocates nothing.
	readFn func(uintptr) bool
	stop   func(socket bool) bool // whether the wait ends (see wait)
	err    error
}

// kickDeadline is any time in the past.
var kickDeadline = time.Unix(1, 0)

// openPollSet makes a set whose waits end when stop says so.
func openPollSet(stop func(socket bool) bool) (*pollSet, error) {
	epfd, file, rc, err := openNetpollEpoll("eventloop-pollset", nil)
	if err != nil {
		return nil, err
	}
	s := &pollSet{epfd: epfd, file: file, rc: rc, stop: stop}
	s.readFn = s.look
	return s, nil
}

// openNetpollEpoll makes an epoll instance that Go's netpoller waits on as
// on a socket (it is readable while any of its entries is ready), and that
// a read deadline in the past wakes. fill, if set, adds its first entries
// before the netpoller sees it.
func openNetpollEpoll(name string, fill func(epfd int) error) (int, *os.File, syscall.RawConn, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return -1, nil, nil, os.NewSyscallError("epoll_create1", err)
	}
	if fill != nil {
		if err := fill(epfd); err != nil {
			_ = unix.Close(epfd)
			return -1, nil, nil, err
		}
	}
	// Non-blocking, so that os.NewFile registers it with the netpoller
	// (the flag does not change epoll_wait, whose timeout says it all).
	if err := unix.SetNonblock(epfd, true); err != nil {
		_ = unix.Close(epfd)
		return -1, nil, nil, os.NewSyscallError("fcntl", err)
	}
	file := os.NewFile(uintptr(epfd), name)
	rc, err := file.SyscallConn()
	if err != nil {
		_ = file.Close()
		return -1, nil, nil, err
	}
	// Waking is a deadline: a descriptor the netpoller cannot take would
	// refuse it, and the waiter would sleep on.
	if err := file.SetReadDeadline(time.Time{}); err != nil {
		_ = file.Close()
		return -1, nil, nil, err
	}
	return epfd, file, rc, nil
}

// add watches fd for input, level triggered like gnet's own registration
// (and so subject to the same receive low-water mark).
func (s *pollSet) add(fd int) error {
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}
	return unix.EpollCtl(s.epfd, unix.EPOLL_CTL_ADD, fd, &ev)
}

func (s *pollSet) remove(fd int) {
	_ = unix.EpollCtl(s.epfd, unix.EPOLL_CTL_DEL, fd, nil)
}

// wait returns once stop, asked whenever something may have changed and
// told whether a socket is ready, says so; the ready sockets are then in
// readyFDs. A kick only makes it ask again.
func (s *pollSet) wait() error {
	for {
		s.err, s.ready = nil, 0
		err := s.rc.Read(s.readFn)
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			if err == nil {
				err = s.err
			}
			return err
		}
		// Kicked. Cleared before look asks stop again, so that a kick
		// after that question ends the next wait.
		_ = s.file.SetReadDeadline(time.Time{})
	}
}

// look is the netpoller's check: true ends the wait.
func (s *pollSet) look(uintptr) bool {
	if s.stop(false) {
		return true
	}
	n, err := unix.EpollWait(s.epfd, s.events[:], 0)
	if err == unix.EINTR {
		return s.stop(false)
	}
	if err != nil {
		s.err = os.NewSyscallError("epoll_wait", err)
		return true
	}
	s.ready = n
	return s.stop(n > 0)
}

// readyFDs returns the sockets the last look found ready.
func (s *pollSet) readyFDs() []unix.EpollEvent { return s.events[:s.ready] }

func (s *pollSet) kick() { _ = s.file.SetReadDeadline(kickDeadline) }

// close releases the set; a wait in progress returns an error.
func (s *pollSet) close() { _ = s.file.Close() }
