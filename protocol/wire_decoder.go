package protocol

import (
	"encoding/binary"
	"math"
)

// Decoder reads primitives from a byte slice. Errors are sticky: the first
// failure is kept, the read position jumps to the end, and every later read
// returns a zero value, so a caller can read a whole structure and check Err
// once at the end.
//
// Every length and count is checked against the bytes that remain before
// anything is allocated, so hostile input costs an error, never a large
// allocation.
//
// Byte slices returned by the Read*Bytes methods alias the input; strings are
// copies.
type Decoder struct {
	src []byte
	off int
	err error
	i32 []int32 // slab for int32 arrays, see int32s
}

// NewDecoder returns a Decoder reading src.
func NewDecoder(src []byte) *Decoder { return &Decoder{src: src} }

// Reset makes d read src from the start with no error.
func (d *Decoder) Reset(src []byte) { *d = Decoder{src: src} }

// Err returns the first error met, or nil.
func (d *Decoder) Err() error { return d.err }

// Offset returns how many bytes have been consumed.
func (d *Decoder) Offset() int { return d.off }

// Remaining returns how many bytes are left.
func (d *Decoder) Remaining() int { return len(d.src) - d.off }

// Rest returns the unread bytes (aliasing the input) and consumes them.
func (d *Decoder) Rest() []byte {
	b := d.src[d.off:len(d.src):len(d.src)]
	d.off = len(d.src)
	return b
}

// fail records err as the sticky error (unless one is already set) and moves
// to the end so that all later reads fail fast on the length check alone.
func (d *Decoder) fail(kind error, detail string) {
	if d.err == nil {
		d.err = &decodeError{kind: kind, offset: d.off, detail: detail}
	}
	d.off = len(d.src)
}

func (d *Decoder) short(what string) { d.fail(ErrTruncated, what) }

// take consumes n bytes and returns them, or fails with ErrTruncated.
func (d *Decoder) take(n int, what string) []byte {
	if n < 0 || n > len(d.src)-d.off {
		d.short(what)
		return nil
	}
	b := d.src[d.off : d.off+n : d.off+n]
	d.off += n
	return b
}

// ReadInt8 reads one signed byte.
func (d *Decoder) ReadInt8() int8 {
	if len(d.src)-d.off < 1 {
		d.short("int8")
		return 0
	}
	v := d.src[d.off]
	d.off++
	return int8(v)
}

// ReadBool reads one byte; any non-zero value is true, as in Kafka.
func (d *Decoder) ReadBool() bool { return d.ReadInt8() != 0 }

// ReadInt16 reads a big-endian int16.
func (d *Decoder) ReadInt16() int16 { return int16(d.ReadUint16()) }

// ReadUint16 reads a big-endian uint16.
func (d *Decoder) ReadUint16() uint16 {
	if len(d.src)-d.off < 2 {
		d.short("int16")
		return 0
	}
	v := binary.BigEndian.Uint16(d.src[d.off:])
	d.off += 2
	return v
}

// ReadInt32 reads a big-endian int32.
func (d *Decoder) ReadInt32() int32 { return int32(d.ReadUint32()) }

// ReadUint32 reads a big-endian uint32.
func (d *Decoder) ReadUint32() uint32 {
	if len(d.src)-d.off < 4 {
		d.short("int32")
		return 0
	}
	v := binary.BigEndian.Uint32(d.src[d.off:])
	d.off += 4
	return v
}

// ReadInt64 reads a big-endian int64.
func (d *Decoder) ReadInt64() int64 {
	if len(d.src)-d.off < 8 {
		d.short("int64")
		return 0
	}
	v := binary.BigEndian.Uint64(d.src[d.off:])
	d.off += 8
	return int64(v)
}

// ReadFloat64 reads a big-endian IEEE 754 double.
func (d *Decoder) ReadFloat64() float64 { return math.Float64frombits(uint64(d.ReadInt64())) }

// ReadUUID reads 16 bytes.
func (d *Decoder) ReadUUID() UUID {
	var u UUID
	if len(d.src)-d.off < len(u) {
		d.short("uuid")
		return u
	}
	copy(u[:], d.src[d.off:])
	d.off += len(u)
	return u
}

// ReadUvarint reads an unsigned LEB128 varint of at most 5 bytes whose value
// fits in 32 bits.
func (d *Decoder) ReadUvarint() uint32 {
	// Fast path: most varints on the wire (lengths, tag counts) are one byte.
	if d.off < len(d.src) && d.src[d.off] < 0x80 {
		v := d.src[d.off]
		d.off++
		return uint32(v)
	}
	var v uint32
	for i := 0; i < 5; i++ {
		if d.off >= len(d.src) {
			d.short("uvarint")
			return 0
		}
		b := d.src[d.off]
		d.off++
		if i == 4 && b > 0x0f {
			d.fail(ErrMalformed, "uvarint overflows 32 bits")
			return 0
		}
		v |= uint32(b&0x7f) << (7 * i)
		if b < 0x80 {
			return v
		}
	}
	d.fail(ErrMalformed, "uvarint longer than 5 bytes")
	return 0
}

// ReadUvarlong reads an unsigned LEB128 varint of at most 10 bytes.
func (d *Decoder) ReadUvarlong() uint64 {
	var v uint64
	for i := 0; i < 10; i++ {
		if d.off >= len(d.src) {
			d.short("uvarlong")
			return 0
		}
		b := d.src[d.off]
		d.off++
		if i == 9 && b > 1 {
			d.fail(ErrMalformed, "uvarlong overflows 64 bits")
			return 0
		}
		v |= uint64(b&0x7f) << (7 * i)
		if b < 0x80 {
			return v
		}
	}
	d.fail(ErrMalformed, "uvarlong longer than 10 bytes")
	return 0
}

// ReadVarint reads a zigzag-encoded int32.
func (d *Decoder) ReadVarint() int32 {
	u := d.ReadUvarint()
	return int32(u>>1) ^ -int32(u&1)
}

// ReadVarlong reads a zigzag-encoded int64.
func (d *Decoder) ReadVarlong() int64 {
	u := d.ReadUvarlong()
	return int64(u>>1) ^ -int64(u&1)
}

// readStringBody reads n bytes as a string, enforcing MaxStringLen.
func (d *Decoder) readStringBody(n int) string {
	if n > MaxStringLen {
		d.fail(ErrMalformed, "string longer than 32767 bytes")
		return ""
	}
	return string(d.take(n, "string"))
}

// ReadString reads a string with an int16 length; null is an error.
func (d *Decoder) ReadString() string {
	n := d.ReadInt16()
	if n < 0 {
		if d.err == nil {
			d.fail(ErrMalformed, "null or negative length for a non-nullable string")
		}
		return ""
	}
	return d.readStringBody(int(n))
}

// ReadNullableString reads a string with an int16 length; -1 gives nil.
func (d *Decoder) ReadNullableString() *string {
	n := d.ReadInt16()
	if n < 0 {
		if n != -1 {
			d.fail(ErrMalformed, "negative string length")
		}
		return nil
	}
	s := d.readStringBody(int(n))
	if d.err != nil {
		return nil
	}
	return &s
}

// ReadCompactString reads a string with a uvarint length+1; null is an error.
func (d *Decoder) ReadCompactString() string {
	n := d.ReadUvarint()
	if n == 0 {
		if d.err == nil {
			d.fail(ErrMalformed, "null for a non-nullable compact string")
		}
		return ""
	}
	return d.readStringBody(int(n - 1))
}

// ReadCompactNullableString reads a string with a uvarint length+1; 0 gives
// nil.
func (d *Decoder) ReadCompactNullableString() *string {
	n := d.ReadUvarint()
	if n == 0 {
		return nil
	}
	s := d.readStringBody(int(n - 1))
	if d.err != nil {
		return nil
	}
	return &s
}

// ReadBytes reads bytes with an int32 length; null is an error. An empty
// value is returned as nil. The result aliases the input.
func (d *Decoder) ReadBytes() []byte {
	n := d.ReadInt32()
	if n < 0 {
		if d.err == nil {
			d.fail(ErrMalformed, "null or negative length for non-nullable bytes")
		}
		return nil
	}
	if n == 0 {
		return nil
	}
	return d.take(int(n), "bytes")
}

// ReadNullableBytes reads bytes with an int32 length; -1 gives nil and an
// empty value a non-nil empty slice. The result aliases the input.
func (d *Decoder) ReadNullableBytes() []byte {
	n := d.ReadInt32()
	if n < 0 {
		if n != -1 {
			d.fail(ErrMalformed, "negative bytes length")
		}
		return nil
	}
	return d.take(int(n), "bytes")
}

// ReadCompactBytes reads bytes with a uvarint length+1; null is an error. An
// empty value is returned as nil. The result aliases the input.
func (d *Decoder) ReadCompactBytes() []byte {
	n := d.ReadUvarint()
	if n == 0 {
		if d.err == nil {
			d.fail(ErrMalformed, "null for non-nullable compact bytes")
		}
		return nil
	}
	if n == 1 {
		return nil
	}
	return d.take(int(n-1), "bytes")
}

// ReadCompactNullableBytes reads bytes with a uvarint length+1; 0 gives nil
// and an empty value a non-nil empty slice. The result aliases the input.
func (d *Decoder) ReadCompactNullableBytes() []byte {
	n := d.ReadUvarint()
	if n == 0 {
		return nil
	}
	return d.take(int(n-1), "bytes")
}

// checkCount validates an element count against the bytes left, assuming each
// element takes at least minSize bytes on the wire.
func (d *Decoder) checkCount(n int, minSize int) int {
	if minSize < 1 {
		minSize = 1
	}
	// Multiply rather than divide (cheaper), in 64 bits so n*minSize cannot
	// overflow even where int is 32 bits.
	if uint64(n)*uint64(minSize) > uint64(len(d.src)-d.off) {
		d.short("array count exceeds remaining bytes")
		return -1
	}
	return n
}

// ReadArrayLen reads an int32 element count and returns it, or -1 for a null
// array. minSize is the smallest encoded size of one element; a count that
// cannot fit in the remaining bytes fails with ErrTruncated, so the result is
// safe to pre-size a slice with.
func (d *Decoder) ReadArrayLen(minSize int) int {
	n := d.ReadInt32()
	if n < 0 {
		if n != -1 {
			d.fail(ErrMalformed, "negative array length")
		}
		return -1
	}
	return d.checkCount(int(n), minSize)
}

// ReadCompactArrayLen reads a uvarint count+1 and returns the count, or -1 for
// a null array (0). See ReadArrayLen for minSize.
func (d *Decoder) ReadCompactArrayLen(minSize int) int {
	n := d.ReadUvarint()
	if n == 0 {
		return -1
	}
	return d.checkCount(int(n-1), minSize)
}

// int32s returns a slice of n int32s for a decoded array. Messages such as
// Metadata carry thousands of tiny int32 arrays (replicas, ISR), so they are
// carved from a shared slab instead of allocated one by one. Each slab is
// bounded by the bytes left (an int32 takes 4), so memory stays proportional
// to the input; a slice returned here keeps its slab alive.
func (d *Decoder) int32s(n int) []int32 {
	if n > len(d.i32) {
		size := max(n, 2*cap(d.i32), 16)
		size = min(size, max(n, (len(d.src)-d.off)/4))
		d.i32 = make([]int32, size)
	}
	s := d.i32[:n:n]
	d.i32 = d.i32[n:]
	return s
}
