// Package coalesce is the write buffer shared by gregor's connections
// (conn's sessions and both handlers' sockets): frames written while a
// write is in progress are appended to one buffer, and the writer sends
// them all in its next write, so many concurrent requests cost one
// syscall. Two arrays alternate: one is being written while the next
// fills, and neither is reallocated in the steady state.
//
// A Buffer does no locking: its owner guards it with the lock that also
// orders its frames.
package coalesce

// Keep is the largest array a Buffer keeps for reuse; a bigger one (after a
// burst of large frames) is left to the collector.
const Keep = 1 << 20

// Buffer holds the bytes queued behind a write in progress. The zero value
// is an empty buffer.
type Buffer struct {
	queued []byte
	spare  []byte // the array of the last write, for the next Take
}

// Len returns the number of bytes queued.
func (b *Buffer) Len() int { return len(b.queued) }

// Append queues a copy of p after what is queued.
func (b *Buffer) Append(p []byte) { b.queued = append(b.queued, p...) }

// Take removes everything queued and returns it for one write. The caller
// owns the slice until it hands it back with Recycle.
func (b *Buffer) Take() []byte {
	out := b.queued
	b.queued, b.spare = b.spare[:0], nil
	return out
}

// Recycle hands back a slice Take returned, once written, so its array
// takes the next frames; arrays larger than Keep are dropped.
func (b *Buffer) Recycle(p []byte) {
	if cap(p) <= Keep {
		b.spare = p[:0]
	}
}

// Reset drops what is queued (the connection closed under it).
func (b *Buffer) Reset() { b.queued = b.queued[:0] }
