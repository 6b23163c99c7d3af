// Package lowat raises a TCP socket's receive low-water mark (SO_RCVLOWAT)
// while the rest of a large frame is on its way, so that a reader waiting
// for it is woken once per few megabytes rather than every few segments.
//
// Each early wake-up costs the reader a scheduler round trip and a read of
// what little has arrived, and each read lets the kernel send the broker a
// window update that wakes its sending thread in turn. For a consumer of
// multi-megabyte Fetch responses those wake-ups were a fifth of its CPU.
//
// The mark is only ever set to at most what the peer is sure to send next
// (the rest of the frame being read), so a wait for it always ends. Linux
// before 5.8 may keep a reader waiting while its receive buffer, too small
// for the mark, holds the sender back; there, and off Linux, Supported is
// false and nothing is changed.
package lowat

const (
	// Min is the least rest of a frame for which the mark is raised: below
	// it the saving does not pay for the system call.
	Min = 128 << 10
	// Max caps the mark; the kernel sizes the receive buffer to hold it.
	Max = 4 << 20
)

// Want returns the mark for a wait with rest bytes of a frame still to
// come: never above rest, or the wait might never end.
func Want(rest int) int {
	if rest < Min {
		return 1
	}
	return min(rest, Max)
}

// Mark is a socket's low-water mark as last set; the zero value stands for
// the kernel's default of 1.
type Mark struct{ cur int }

// Adjust sets fd's mark to Want(rest) unless that is the mark already set.
// After an error the mark is unknown: the caller must not wait on fd.
func (m *Mark) Adjust(fd, rest int) error {
	want := Want(rest)
	if want == max(m.cur, 1) {
		return nil
	}
	if err := set(fd, want); err != nil {
		return err
	}
	m.cur = want
	return nil
}
