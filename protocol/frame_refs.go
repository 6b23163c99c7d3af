package protocol

import "math"

// FrameRef is a piece of a request frame left in the caller's memory rather
// than copied into the frame's buffer: Data goes out just before the
// buffer's byte At. A connection that can write a list of buffers at once
// (writev) sends a large record value from where the producer holds it, and
// the bytes cross memory once, in the kernel's copy, instead of twice.
type FrameRef struct {
	At   int
	Data []byte
}

// RefAppender is a request that can leave large values out of its encoding
// as FrameRefs.
type RefAppender interface {
	// AppendRefs is AppendTo, but for values of at least r.Min bytes, which
	// it appends to r.Refs instead of to dst.
	AppendRefs(dst []byte, version int16, r *FrameRefs) ([]byte, error)
}

// FrameRefs collects the FrameRefs of one frame. Min is the smallest value
// worth a piece of its own: below it, copying costs less than the kernel's
// work per extra buffer.
type FrameRefs struct {
	Min  int
	Refs []FrameRef
	// bytes is the total of the Refs' Data.
	bytes int
}

// Bytes is the size of the Refs' Data, all together.
func (r *FrameRefs) Bytes() int { return r.bytes }

// Reset empties r, keeping Min and the Refs' array.
func (r *FrameRefs) Reset() {
	clear(r.Refs) // no caller memory kept alive from a pool
	r.Refs, r.bytes = r.Refs[:0], 0
}

func (r *FrameRefs) add(at int, data []byte) {
	r.Refs = append(r.Refs, FrameRef{At: at, Data: data})
	r.bytes += len(data)
}

// bytesFrom is the size of the refs at or after buffer index at.
func (r *FrameRefs) bytesFrom(at int) int {
	n := 0
	for i := len(r.Refs) - 1; i >= 0 && r.Refs[i].At >= at; i-- {
		n += len(r.Refs[i].Data)
	}
	return n
}

// crcFrom is the CRC-32C of the frame's bytes from buffer index from to the
// end of buf, refs placed.
func (r *FrameRefs) crcFrom(buf []byte, from int) uint32 {
	first := len(r.Refs)
	for first > 0 && r.Refs[first-1].At >= from {
		first--
	}
	var crc uint32
	pos := from
	for _, ref := range r.Refs[first:] {
		crc = crcUpdate(crc, buf[pos:ref.At])
		crc = crcUpdate(crc, ref.Data)
		pos = ref.At
	}
	return crcUpdate(crc, buf[pos:])
}

// AppendRequestFrameRefs is AppendRequestFrame for a connection that writes
// buffer lists: when req is a RefAppender its values of at least r.Min bytes
// are left out of dst and listed in r, in order (At indexes the returned
// slice). The frame is then the returned bytes from len(dst) on with each
// ref's Data inserted before its At. Any other request is encoded whole. r
// must be empty; on error it is emptied again.
func AppendRequestFrameRefs(dst []byte, r *FrameRefs, req Message, version int16, correlationID int32, clientID *string) ([]byte, error) {
	ra, ok := req.(RefAppender)
	if !ok {
		return AppendRequestFrame(dst, req, version, correlationID, clientID)
	}
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	h := RequestHeader{APIKey: req.APIKey(), APIVersion: version, CorrelationID: correlationID, ClientID: clientID}
	dst, err := h.AppendTo(dst, requestHeaderVersion(req.IsFlexible(version)))
	if err == nil {
		dst, err = ra.AppendRefs(dst, version, r)
	}
	if err == nil && len(dst)-start-4+r.bytes > math.MaxInt32 {
		err = &encodeError{kind: ErrMalformed, detail: "frame larger than 2 GiB"}
	}
	if err != nil {
		r.Reset()
		return dst[:start], err
	}
	return finishFrameRefs(dst, start, r.bytes)
}

func finishFrameRefs(dst []byte, start, refBytes int) ([]byte, error) {
	size := len(dst) - start - 4 + refBytes
	dst[start] = byte(size >> 24)
	dst[start+1] = byte(size >> 16)
	dst[start+2] = byte(size >> 8)
	dst[start+3] = byte(size)
	return dst, nil
}

// Pieces appends to dst the frame in buf[from:] as the buffers to write,
// in order: stretches of buf between the refs, and the refs' Data. Empty
// pieces are left out.
func (r *FrameRefs) Pieces(dst [][]byte, buf []byte, from int) [][]byte {
	pos := from
	for _, ref := range r.Refs {
		if ref.At > pos {
			dst = append(dst, buf[pos:ref.At])
		}
		if len(ref.Data) > 0 {
			dst = append(dst, ref.Data)
		}
		pos = ref.At
	}
	if pos < len(buf) {
		dst = append(dst, buf[pos:])
	}
	return dst
}
