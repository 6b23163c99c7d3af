package protocol

import (
	"encoding/binary"
	"errors"
	"math"
)

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
		// it is, so one cut short (ErrTruncated) is read again with more
		// bytes. Any other decoding error ends the scan.
		r := Decoder{src: frame, off: c.pos}
		flex := c.flexible()
		var n int // the count or length the element ends with
		var next checkStage
		switch c.stage {
		case checkHeader:
			r.take(4, "correlation id")
			if hv, _ := ResponseHeaderVersion(APIKeyFetch, c.version); hv >= 1 {
				r.skipTaggedFields()
			}
			r.take(4, "throttle time")
			if c.version >= 7 {
				r.take(2+4, "error code and session id")
			}
			n = checkArrayLen(&r, flex, 1) // topics
			next = checkTopic
		case checkTopic:
			if c.topics == 0 {
				next = checkDone // the response's own tagged fields need no scan
				break
			}
			if c.version >= 13 {
				r.take(16, "topic id")
			} else if l := checkStringLen(&r, flex); l > 0 {
				r.take(l, "topic")
			}
			n = checkArrayLen(&r, flex, 1) // partitions
			next = checkPart
		case checkPart:
			if c.partsLeft == 0 {
				if flex {
					r.skipTaggedFields() // the topic's
				}
				next = checkTopic
				break
			}
			n = c.partHead(&r)
			next = checkBatches
		case checkBatches:
			c.batches(frame)
			if c.pos < c.recEnd {
				return // waiting for the rest of a batch
			}
			r.off = c.recEnd
			next = checkPartEnd
		case checkPartEnd:
			if flex {
				r.skipTaggedFields()
			}
			next = checkPart
		}
		if r.err != nil {
			if !errors.Is(r.err, ErrTruncated) {
				c.stage = checkDone
			}
			return
		}
		switch {
		case c.stage == checkHeader:
			c.topics = n
		case c.stage == checkTopic && next == checkPart:
			c.partsLeft = n
		case c.stage == checkPart && next == checkTopic:
			c.topics--
		case c.stage == checkPart:
			c.parts = append(c.parts, checkedPart{at: r.off, first: len(c.checked)})
			c.recStart, c.recEnd = r.off, r.off+n
		case c.stage == checkPartEnd:
			c.partsLeft--
		}
		c.pos, c.stage = r.off, next
	}
}

// partHead reads a partition's fields up to its records' bytes and
// returns their length.
func (c *FetchChecker) partHead(r *Decoder) int {
	flex := c.flexible()
	r.take(4+2+8+8, "partition head") // index, error code, high watermark, last stable offset
	if c.version >= 5 {
		r.take(8, "log start offset")
	}
	// Aborted transactions: producer id and first offset each.
	if flex {
		for n := checkArrayLen(r, flex, 17); n > 0 && r.err == nil; n-- {
			r.take(16, "aborted transaction")
			r.skipTaggedFields()
		}
	} else {
		r.take(16*checkArrayLen(r, flex, 16), "aborted transactions")
	}
	if c.version >= 11 {
		r.take(4, "preferred read replica")
	}
	// The records' length; null reads as none.
	if flex {
		l := r.ReadUvarint()
		if l > math.MaxInt32 {
			r.fail(ErrMalformed, "records length")
		}
		return max(int(l)-1, 0)
	}
	l := r.ReadInt32()
	if l < -1 {
		r.fail(ErrMalformed, "negative records length")
	}
	return max(int(l), 0)
}

// checkArrayLen reads an array's element count, null as none. minSize is
// an element's least size on the wire (see Decoder.ReadArrayLen): a count
// the bytes at hand cannot hold is cut short, to be read again.
func checkArrayLen(r *Decoder, flex bool, minSize int) int {
	if flex {
		return max(r.ReadCompactArrayLen(minSize), 0)
	}
	return max(r.ReadArrayLen(minSize), 0)
}

// checkStringLen reads a string's length, null as none, leaving the
// string itself to skip.
func checkStringLen(r *Decoder, flex bool) int {
	if flex {
		return int(r.ReadUvarint()) - 1
	}
	return int(r.ReadInt16())
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
