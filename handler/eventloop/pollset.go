package eventloop

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// pollSet is an epoll instance of our own holding a loop's sockets and a
// kick eventfd. An epoll descriptor is readable while any of its entries
// is ready, so Go's netpoller can wait on it as on a socket: the park task
// waits there, holding no P.
type pollSet struct {
	epfd   int
	kickfd int
	file   *os.File // epfd, registered with the netpoller
	rc     syscall.RawConn
	events [16]unix.EpollEvent
	buf    [8]byte

	// The wait's state, kept here so that a wait allocates nothing.
	readFn func(uintptr) bool
	stop   func(socket bool) bool // whether the wait ends (see wait)
	err    error
}

// openPollSet makes a set whose waits end when stop says so.
func openPollSet(stop func(socket bool) bool) (*pollSet, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	kickfd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		_ = unix.Close(epfd)
		return nil, os.NewSyscallError("eventfd", err)
	}
	s := &pollSet{epfd: epfd, kickfd: kickfd, stop: stop}
	s.readFn = s.ready
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(kickfd)}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, kickfd, &ev); err != nil {
		s.closeFDs()
		return nil, os.NewSyscallError("epoll_ctl", err)
	}
	// Non-blocking, so that os.NewFile registers it with the netpoller
	// (the flag does not change epoll_wait, whose timeout says it all).
	if err := unix.SetNonblock(epfd, true); err != nil {
		s.closeFDs()
		return nil, os.NewSyscallError("fcntl", err)
	}
	s.file = os.NewFile(uintptr(epfd), "eventloop-pollset")
	if s.rc, err = s.file.SyscallConn(); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

func (s *pollSet) closeFDs() {
	_ = unix.Close(s.kickfd)
	_ = unix.Close(s.epfd)
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
// told whether a socket is ready, says so. A kick only makes it ask again.
func (s *pollSet) wait() error {
	s.err = nil
	err := s.rc.Read(s.readFn)
	if err == nil {
		err = s.err
	}
	return err
}

// ready is the netpoller's check: true ends the wait.
func (s *pollSet) ready(uintptr) bool {
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
	socket := false
	for i := range n {
		if int(s.events[i].Fd) == s.kickfd {
			_, _ = unix.Read(s.kickfd, s.buf[:])
		} else {
			socket = true
		}
	}
	return s.stop(socket)
}

func (s *pollSet) kick() {
	var one = [8]byte{1}
	_, _ = unix.Write(s.kickfd, one[:])
}

// close releases the set; a wait in progress returns an error.
func (s *pollSet) close() {
	_ = s.file.Close()
	_ = unix.Close(s.kickfd)
}
