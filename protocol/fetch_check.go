package protocol

import "encoding/binary"

// FetchChecker verifies the checksums of a Fetch response's record batches
// while the response is still arriving. A consumer's response runs to many
// megabytes; read into memory the kernel has just faulted in, its bytes
// leave the CPU's caches before the whole frame is in, and a checksum pass
// over them afterwards runs from memory, at half the speed or less. Fed
// each read as it lands (a few hundred KiB at a time), the checker hashes
// the bytes while they are still cached. RecordDecoder.Checked then skips
// the batches it verified.
//
// The checker only ever vouches for a batch: it records a batch whose
// checksum matched and passes over anything else (a mismatch, a legacy
// message, a truncated tail, bytes it cannot parse), which the decoder
// then checks and reports as usual. It reads the response's structure
// without trusting it: a malformed response stops the scan, never panics.
//
// The zero value is not ready to use; call Reset. A FetchChecker is not
// safe for concurrent use.
type FetchChecker struct {
	version int16
	stage   checkStage
	pos     int // where the next element starts in the frame

	topics, partsLeft int // left to scan in the response, in the current topic
	recStart          int // the current partition's records field
	recEnd            int

	checked []CheckedBatch
	parts   []checkedPart // per partition of the response, in order
}

// checkedPart is where a partition's records field starts in the frame,
// and its first entry in checked.
type checkedPart struct{ at, first int }

// CheckedBatch is a record batch whose checksum a FetchChecker verified: At
// is its offset in its partition's records field and Len its length with
// the log overhead (what RecordDecoder walks over), CRC its checksum.
type CheckedBatch struct {
	At, Len int32
	CRC     uint32
}

type checkStage uint8

const (
	checkHeader  checkStage = iota // response header up to the topic count
	checkTopic                     // a topic's head, up to its partition count
	checkPart                      // a partition's head, up to its records
	checkBatches                   // the records field
	checkPartEnd                   // a partition's tagged fields
	checkDone                      // all topics scanned, or the scan gave up
)

// Reset readies c for a new response to a Fetch request of version.
// Responses to versions before 4 (no broker since Kafka 0.11 sends them)
// are not scanned: their batches are all checked by the decoder.
func (c *FetchChecker) Reset(version int16) {
	*c = FetchChecker{version: version, checked: c.checked[:0], parts: c.parts[:0]}
	if _, ok := ResponseHeaderVersion(APIKeyFetch, version); !ok || version < 4 {
		c.stage = checkDone
	}
}

// Scan scans frame, the response received so far (size prefix excluded,
// correlation id first): every call must pass all the bytes of the one
// before and possibly more. Each batch is hashed once, when its last byte
// has arrived.
func (c *FetchChecker) Scan(frame []byte) {
	for c.stage != checkDone {
		// An element is read whole or not at all: counters move only once
		// it is, so a short read is simply read again with more bytes.
		r := checkReader{b: frame, p: c.pos}
		flex := c.flexible()
		var next checkStage
		switch c.stage {
		case checkHeader:
			r.skip(4) // correlation id
			if hv, _ := ResponseHeaderVersion(APIKeyFetch, c.version); hv >= 1 {
				r.tags()
			}
			r.skip(4) // throttle time
			if c.version >= 7 {
				r.skip(2 + 4) // error code, session id
			}
			r.n = r.count(flex) // topics
			next = checkTopic
		case checkTopic:
			if c.topics == 0 {
				next = checkDone // the response's own tagged fields need no scan
				break
			}
			if c.version >= 13 {
				r.skip(16) // topic id
			} else {
				r.str(flex)
			}
			r.n = r.count(flex) // partitions
			next = checkPart
		case checkPart:
			if c.partsLeft == 0 {
				if flex {
					r.tags() // the topic's
				}
				next = checkTopic
				break
			}
			c.partHead(&r)
			next = checkBatches
		case checkBatches:
			c.batches(frame)
			if c.pos < c.recEnd {
				return // waiting for the rest of a batch
			}
			r.p = c.recEnd
			next = checkPartEnd
		case checkPartEnd:
			if flex {
				r.tags()
			}
			next = checkPart
		}
		if r.bad {
			c.stage = checkDone
			return
		}
		if r.short {
			return // the element is not all in yet
		}
		switch {
		case c.stage == checkHeader:
			c.topics = r.n
		case c.stage == checkTopic && next == checkPart:
			c.partsLeft = r.n
		case c.stage == checkPart && next == checkTopic:
			c.topics--
		case c.stage == checkPart:
			c.parts = append(c.parts, checkedPart{at: r.p, first: len(c.checked)})
			c.recStart, c.recEnd = r.p, r.p+r.n
		case c.stage == checkPartEnd:
			c.partsLeft--
		}
		c.pos, c.stage = r.p, next
	}
}

// partHead reads a partition's fields up to its records' bytes, leaving
// their length in r.n.
func (c *FetchChecker) partHead(r *checkReader) {
	flex := c.flexible()
	r.skip(4 + 2 + 8 + 8) // index, error code, high watermark, last stable offset
	if c.version >= 5 {
		r.skip(8) // log start offset
	}
	// Aborted transactions: producer id and first offset each.
	if n := r.count(flex); flex {
		for i := 0; i < n && !r.short && !r.bad; i++ {
			r.skip(16)
			r.tags()
		}
	} else {
		r.skip(16 * min(n, checkMax/16+1))
	}
	if c.version >= 11 {
		r.skip(4) // preferred read replica
	}
	r.n = r.count(flex) // null records read as none
}

// batches hashes the complete batches of the current records field that
// have arrived, from c.pos on.
func (c *FetchChecker) batches(frame []byte) {
	be := binary.BigEndian
	end := min(c.recEnd, len(frame))
	for {
		p := c.pos
		if p+batchLogOverhead > c.recEnd {
			c.pos = c.recEnd // a tail too short for a header
			return
		}
		if p+batchLogOverhead > end {
			return
		}
		n := int64(int32(be.Uint32(frame[p+batchOffLength:]))) + batchLogOverhead
		if n < batchOffMagic+1 || int64(p)+n > int64(c.recEnd) {
			// An entry too short to say what it is, or a partial tail:
			// the decoder parses and checks what remains.
			c.pos = c.recEnd
			return
		}
		if p+int(n) > end {
			return
		}
		entry := frame[p : p+int(n)]
		if entry[batchOffMagic] == RecordBatchMagic && n >= RecordBatchHeaderSize {
			if crc := be.Uint32(entry[batchOffCRC:]); crc == crcCastagnoli(entry[batchOffAttributes:]) {
				c.checked = append(c.checked, CheckedBatch{At: int32(p - c.recStart), Len: int32(n), CRC: crc})
			}
		}
		c.pos = p + int(n)
	}
}

// Checked returns the batches verified in the i-th partition of the
// response, counting the partitions of every topic in the order they
// came. It is nil for a partition the scan did not reach.
func (c *FetchChecker) Checked(i int) []CheckedBatch {
	if i < 0 || i >= len(c.parts) {
		return nil
	}
	end := len(c.checked)
	if i+1 < len(c.parts) {
		end = c.parts[i+1].first
	}
	return c.checked[c.parts[i].first:end:end]
}

func (c *FetchChecker) flexible() bool { return c.version >= 12 }

// checkReader reads a response's fields from p on. Reading past the bytes
// at hand sets short; a field no valid response holds sets bad.
type checkReader struct {
	b     []byte
	p     int
	n     int // a count or length the caller asked for
	short bool
	bad   bool
}

// checkMax bounds any length or count a response may declare: a frame's
// size is an int32.
const checkMax = 1<<31 - 1

func (r *checkReader) skip(n int) {
	if r.short || r.bad {
		return
	}
	if n < 0 || n > checkMax {
		r.bad = true
		return
	}
	if int64(r.p)+int64(n) > int64(len(r.b)) {
		r.short = true
		return
	}
	r.p += n
}

// uvarint reads an unsigned varint of at most 32 bits.
func (r *checkReader) uvarint() int {
	var v uint64
	for i := 0; i < 5; i++ {
		if r.short || r.bad {
			return 0
		}
		if r.p >= len(r.b) {
			r.short = true
			return 0
		}
		c := r.b[r.p]
		r.p++
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			if v > checkMax {
				r.bad = true
				return 0
			}
			return int(v)
		}
	}
	r.bad = true
	return 0
}

// count reads an array's length, or a nullable bytes field's (null as 0).
func (r *checkReader) count(compact bool) int {
	if compact {
		return max(r.uvarint()-1, 0)
	}
	if r.short || r.bad {
		return 0
	}
	if r.p+4 > len(r.b) {
		r.short = true
		return 0
	}
	n := int32(binary.BigEndian.Uint32(r.b[r.p:]))
	r.p += 4
	if n < -1 || int64(n) > checkMax {
		r.bad = true
		return 0
	}
	return max(int(n), 0)
}

// str skips a string.
func (r *checkReader) str(compact bool) {
	if compact {
		r.skip(max(r.uvarint()-1, 0))
		return
	}
	if r.short || r.bad {
		return
	}
	if r.p+2 > len(r.b) {
		r.short = true
		return
	}
	n := int16(binary.BigEndian.Uint16(r.b[r.p:]))
	r.p += 2
	r.skip(max(int(n), 0))
}

// tags skips a tagged-field section.
func (r *checkReader) tags() {
	n := r.uvarint()
	for i := 0; i < n && !r.short && !r.bad; i++ {
		r.uvarint() // tag
		r.skip(r.uvarint())
	}
}
