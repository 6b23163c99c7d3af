package protocol

import (
	"encoding/binary"
	"math"
)

// MaxStringLen is the longest string Kafka accepts in any string field. The
// classic encoding stores the length in an int16, and brokers apply the same
// limit to compact strings.
const MaxStringLen = math.MaxInt16

// The Append functions encode one primitive at the end of dst and return the
// extended slice, in the style of strconv.AppendInt. They never fail: callers
// that take lengths from user input (strings longer than MaxStringLen) must
// check them first, as the generated message code does.

// AppendInt8 appends v as one byte.
func AppendInt8(dst []byte, v int8) []byte { return append(dst, byte(v)) }

// AppendInt16 appends v big-endian.
func AppendInt16(dst []byte, v int16) []byte { return binary.BigEndian.AppendUint16(dst, uint16(v)) }

// AppendInt32 appends v big-endian.
func AppendInt32(dst []byte, v int32) []byte { return binary.BigEndian.AppendUint32(dst, uint32(v)) }

// AppendInt64 appends v big-endian.
func AppendInt64(dst []byte, v int64) []byte { return binary.BigEndian.AppendUint64(dst, uint64(v)) }

// AppendUint16 appends v big-endian.
func AppendUint16(dst []byte, v uint16) []byte { return binary.BigEndian.AppendUint16(dst, v) }

// AppendUint32 appends v big-endian.
func AppendUint32(dst []byte, v uint32) []byte { return binary.BigEndian.AppendUint32(dst, v) }

// AppendFloat64 appends the IEEE 754 bits of v big-endian.
func AppendFloat64(dst []byte, v float64) []byte {
	return binary.BigEndian.AppendUint64(dst, math.Float64bits(v))
}

// AppendBool appends 1 for true and 0 for false.
func AppendBool(dst []byte, v bool) []byte {
	if v {
		return append(dst, 1)
	}
	return append(dst, 0)
}

// AppendUvarint appends v as an unsigned LEB128 varint (at most 5 bytes).
func AppendUvarint(dst []byte, v uint32) []byte {
	for v >= 0x80 {
		dst = append(dst, byte(v)|0x80)
		v >>= 7
	}
	return append(dst, byte(v))
}

// AppendUvarlong appends v as an unsigned LEB128 varint (at most 10 bytes).
func AppendUvarlong(dst []byte, v uint64) []byte {
	for v >= 0x80 {
		dst = append(dst, byte(v)|0x80)
		v >>= 7
	}
	return append(dst, byte(v))
}

// AppendVarint appends v zigzag-encoded, as Kafka's record fields use it.
func AppendVarint(dst []byte, v int32) []byte {
	return AppendUvarint(dst, uint32(v<<1)^uint32(v>>31))
}

// AppendVarlong appends v zigzag-encoded (the same bytes encoding/binary's
// AppendVarint produces).
func AppendVarlong(dst []byte, v int64) []byte {
	return AppendUvarlong(dst, uint64(v<<1)^uint64(v>>63))
}

// uvarintLen is the number of bytes AppendUvarint uses for v.
func uvarintLen(v uint32) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// AppendString appends s with an int16 length. len(s) must be at most
// MaxStringLen.
func AppendString(dst []byte, s string) []byte {
	dst = AppendInt16(dst, int16(len(s)))
	return append(dst, s...)
}

// AppendNullableString appends s with an int16 length; nil is encoded as
// length -1.
func AppendNullableString(dst []byte, s *string) []byte {
	if s == nil {
		return AppendInt16(dst, -1)
	}
	return AppendString(dst, *s)
}

// AppendCompactString appends s with a uvarint length+1.
func AppendCompactString(dst []byte, s string) []byte {
	dst = AppendUvarint(dst, uint32(len(s))+1)
	return append(dst, s...)
}

// AppendCompactNullableString appends s with a uvarint length+1; nil is
// encoded as 0.
func AppendCompactNullableString(dst []byte, s *string) []byte {
	if s == nil {
		return append(dst, 0)
	}
	return AppendCompactString(dst, *s)
}

// AppendBytes appends b with an int32 length. A nil b is written as empty.
func AppendBytes(dst, b []byte) []byte {
	dst = AppendInt32(dst, int32(len(b)))
	return append(dst, b...)
}

// AppendNullableBytes appends b with an int32 length; nil is encoded as -1.
func AppendNullableBytes(dst, b []byte) []byte {
	if b == nil {
		return AppendInt32(dst, -1)
	}
	return AppendBytes(dst, b)
}

// AppendCompactBytes appends b with a uvarint length+1. A nil b is written as
// empty.
func AppendCompactBytes(dst, b []byte) []byte {
	dst = AppendUvarint(dst, uint32(len(b))+1)
	return append(dst, b...)
}

// AppendCompactNullableBytes appends b with a uvarint length+1; nil is encoded
// as 0.
func AppendCompactNullableBytes(dst, b []byte) []byte {
	if b == nil {
		return append(dst, 0)
	}
	return AppendCompactBytes(dst, b)
}

// AppendArrayLen appends an int32 element count; n < 0 encodes a null array.
func AppendArrayLen(dst []byte, n int) []byte {
	if n < 0 {
		return AppendInt32(dst, -1)
	}
	return AppendInt32(dst, int32(n))
}

// AppendCompactArrayLen appends a uvarint count+1; n < 0 encodes a null array
// (0).
func AppendCompactArrayLen(dst []byte, n int) []byte {
	if n < 0 {
		return append(dst, 0)
	}
	return AppendUvarint(dst, uint32(n)+1)
}

// AppendUUID appends the 16 bytes of u.
func AppendUUID(dst []byte, u UUID) []byte { return append(dst, u[:]...) }
