package frame

import (
	"encoding/binary"
	"math/bits"

	"github.com/gregorkafka/gregor/handler"
)

const (
	maxInt32 = 1<<31 - 1

	// wholeAlloc is the largest body allocated in full as soon as its size
	// prefix has passed the limit, so that the body is read into its final
	// buffer without regrowth: it covers a consumer's Fetch response at the
	// default 1 MiB per partition for up to 16 partitions. Above it a bogus
	// prefix could cost up to the limit at once, so the buffer starts at
	// this size and grows with the bytes that arrive.
	wholeAlloc = 16 << 20

	// growFactor is how much a body above wholeAlloc grows at a time: few
	// regrowths (copies) per frame, while the buffer stays within this
	// factor of the bytes received.
	growFactor = 4

	// provedSlack is how far above the largest body delivered a prefix
	// still gets its whole buffer. A consumer's Fetch responses near its
	// FetchMaxBytes differ from each other by a batch or two; allowing only
	// sizes already seen, every response larger than all before it started
	// at wholeAlloc and regrew, a copy of 16 MiB that was 5% of the CPU of
	// a consumer of 3,000 partitions.
	provedSlack = 2

	// partialRead bounds a read into a watched frame's body: the watcher
	// (see Watch) then sees each read's bytes while they are still in the
	// CPU's caches. A consumer of uncompressed 10 KiB records spent 23%
	// less user time so, checksumming 1 MiB at a time rather than a whole
	// 10 MiB response after its last read. Smaller reads cost more than
	// they save: each frees receive window, and the acknowledgement it
	// sends is system time.
	partialRead = 1 << 20
)

// Limit returns the effective inbound frame limit for a configured
// MaxFrameSize (zero or negative: handler.DefaultMaxFrameSize).
func Limit(maxFrameSize int) int {
	switch {
	case maxFrameSize <= 0:
		return handler.DefaultMaxFrameSize
	case maxFrameSize > maxInt32:
		return maxInt32
	}
	return maxFrameSize
}

// Decoder reassembles frames from stream chunks. The zero value is not
// usable; call New. A Decoder is not safe for concurrent use.
type Decoder struct {
	max  int
	hdr  [4]byte
	nhdr int    // bytes of hdr filled; 4 while inside a body
	body []byte // the frame being filled; len = bytes received so far
	size int    // length of the frame being filled
	err  error  // sticky protocol error
	// proved is the largest body delivered so far: a prefix up to
	// provedSlack times it gets its whole buffer at once, since the peer has
	// shown it sends frames about that large (a bogus prefix could only cost
	// a small multiple of memory it already made us use). That saves the
	// regrowth copy for every such frame after the first.
	proved int
	// partial, when set, sees a frame's bytes so far whenever some arrive
	// and it is not complete yet.
	partial func([]byte)
}

// New returns a Decoder that rejects frames larger than max bytes.
func New(max int) *Decoder {
	return &Decoder{max: Limit(max)}
}

// Watch makes the decoder call fn with the bytes of the current frame
// received so far each time more arrive and the frame is still incomplete
// (handler.DialConfig.OnPartialFrame), and bounds reads into a body to
// partialRead bytes.
func (d *Decoder) Watch(fn func(partial []byte)) { d.partial = fn }

// Partial reports whether part of a frame (some of its prefix or body) has
// been received but not yet delivered.
func (d *Decoder) Partial() bool { return d.nhdr > 0 }

// Feed consumes p, calling emit with each frame it completes. emit owns the
// slices it receives. After a protocol error (a *handler.FrameSizeError)
// Feed delivers nothing more and keeps returning that error.
func (d *Decoder) Feed(p []byte, emit func([]byte)) error {
	if d.err != nil {
		return d.err
	}
	for len(p) > 0 {
		if d.nhdr == 0 && len(p) >= 4 {
			// Fast path: a whole prefix at hand, and often the whole frame.
			size, err := d.check(binary.BigEndian.Uint32(p))
			if err != nil {
				return err
			}
			p = p[4:]
			if size <= len(p) {
				d.proved = max(d.proved, size)
				emit(append(bodyBuffer(size), p[:size]...))
				p = p[size:]
				continue
			}
			d.nhdr = 4
			d.start(size, len(p))
		}
		if d.nhdr < 4 {
			n := copy(d.hdr[d.nhdr:], p)
			d.nhdr += n
			p = p[n:]
			if d.nhdr < 4 {
				return nil
			}
			size, err := d.check(binary.BigEndian.Uint32(d.hdr[:]))
			if err != nil {
				return err
			}
			d.start(size, len(p))
		}
		n := min(d.size-len(d.body), len(p))
		d.grow(n)
		d.body = append(d.body, p[:n]...)
		p = p[n:]
		d.watch()
		d.finish(emit)
	}
	return nil
}

// BodySpace returns room to read the current frame's body into directly,
// skipping a copy through an intermediate buffer, or nil between frames.
// Follow a read into it with BodyFilled.
func (d *Decoder) BodySpace() []byte {
	if d.nhdr < 4 || d.err != nil {
		return nil
	}
	if len(d.body) == cap(d.body) {
		d.grow(1)
	}
	end := min(cap(d.body), d.size)
	if d.partial != nil {
		end = min(end, len(d.body)+partialRead)
	}
	return d.body[len(d.body):end]
}

// BodyRest returns how many bytes of the current frame's body are still to
// come: what the peer is sure to send next. Zero between frames.
func (d *Decoder) BodyRest() int {
	if d.nhdr < 4 || d.err != nil {
		return 0
	}
	return d.size - len(d.body)
}

// BodyFilled records that n bytes were read into the slice BodySpace
// returned, emitting the frame if it is now complete.
func (d *Decoder) BodyFilled(n int, emit func([]byte)) {
	d.body = d.body[:len(d.body)+n]
	if n > 0 {
		d.watch()
	}
	d.finish(emit)
}

// watch shows the watcher a frame that has grown but is not complete.
func (d *Decoder) watch() {
	if d.partial != nil && len(d.body) < d.size {
		d.partial(d.body)
	}
}

// check validates a size prefix.
func (d *Decoder) check(u uint32) (int, error) {
	if int32(u) < 0 || int(u) > d.max {
		d.err = &handler.FrameSizeError{Size: int32(u), Max: d.max}
		return 0, d.err
	}
	return int(u), nil
}

// start begins a body of size bytes of which avail are at hand.
func (d *Decoder) start(size, avail int) {
	d.size = size
	if size <= wholeAlloc {
		// Possibly a pooled buffer holding an earlier frame: the body is
		// read over it and never read past len.
		d.body = handler.FrameBuffer(size)
		return
	}
	// A recycled buffer of the whole size is memory already held: no
	// zeroing, no regrowth, and nothing a bogus prefix could inflate.
	if b, ok := handler.PooledFrameBuffer(size); ok {
		d.body = b
		return
	}
	if size <= provedSlack*d.proved {
		d.body = bodyBuffer(size)
		return
	}
	d.body = bodyBuffer(max(wholeAlloc, min(avail, size)))
}

// bodyBuffer returns an empty buffer for n body bytes: from the frame pool,
// or above wholeAlloc, when the pool has none big enough, a fresh one of n
// bytes rounded up in steps of a sixteenth of the power of two below n, plus
// one step. Rounding up to a pool class (the next power of two) would zero
// up to twice the memory that is read; the slack lets a recycled buffer
// (RecycleFrame takes any size) hold the next response of about its size.
func bodyBuffer(n int) []byte {
	if n <= wholeAlloc {
		return handler.FrameBuffer(n)
	}
	if b, ok := handler.PooledFrameBuffer(n); ok {
		return b
	}
	step := 1 << (bits.Len(uint(n)) - 5)
	return handler.NewFrameBuffer((n+step-1)/step*step + step)
}

// grow makes room for n more body bytes, by growFactor but never beyond the
// frame size, so memory tracks received bytes. The last growth takes about
// the frame's size (a recycled buffer when the pool has one big enough):
// rounding up to a pool class would zero memory never read. The outgrown
// buffer goes back to the pool: nothing but the decoder has seen it.
func (d *Decoder) grow(n int) {
	if len(d.body)+n <= cap(d.body) {
		return
	}
	c := min(max(growFactor*cap(d.body), len(d.body)+n), d.size)
	var nb []byte
	if c == d.size {
		nb = bodyBuffer(c)
	} else {
		nb = handler.FrameBuffer(c)
	}
	nb = nb[:len(d.body)]
	copy(nb, d.body)
	handler.RecycleFrame(d.body)
	d.body = nb
}

// finish emits the current frame when its body is complete.
func (d *Decoder) finish(emit func([]byte)) {
	if len(d.body) < d.size {
		return
	}
	b := d.body
	d.body, d.size, d.nhdr = nil, 0, 0
	d.proved = max(d.proved, len(b))
	emit(b)
}
