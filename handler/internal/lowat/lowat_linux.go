package lowat

import (
	"bytes"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// Supported reports whether the running kernel honours the mark safely:
// since Linux 5.8 a reader is woken despite the mark when its receive
// buffer fills, so a mark larger than the buffer cannot stall the peer.
var Supported = kernelAtLeast(5, 8)

func set(fd, n int) error {
	return os.NewSyscallError("setsockopt", unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVLOWAT, n))
}

func kernelAtLeast(major, minor int) bool {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return false
	}
	return releaseAtLeast(u.Release[:], major, minor)
}

// releaseAtLeast parses the "5.15.0-..." form of a kernel release.
func releaseAtLeast(rel []byte, major, minor int) bool {
	if i := bytes.IndexByte(rel, 0); i >= 0 {
		rel = rel[:i]
	}
	parts := bytes.SplitN(rel, []byte("."), 3)
	if len(parts) < 2 {
		return false
	}
	maj, err := strconv.Atoi(string(parts[0]))
	if err != nil {
		return false
	}
	minorDigits := parts[1]
	for i, b := range minorDigits {
		if b < '0' || b > '9' {
			minorDigits = minorDigits[:i]
			break
		}
	}
	mnr, err := strconv.Atoi(string(minorDigits))
	if err != nil {
		return false
	}
	return maj > major || maj == major && mnr >= minor
}
