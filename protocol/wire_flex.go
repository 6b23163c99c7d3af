package protocol

import "strconv"

// Helpers used by the generated message code. Each takes flex (the message
// version uses compact encodings) and, for nullable kinds, nullable (null is
// allowed at this version). Both are usually constants or a single version
// comparison at the call site, and the helpers are small enough to inline.

func appendStr(dst []byte, s string, flex bool) ([]byte, error) {
	if len(s) > MaxStringLen {
		return dst, stringTooLong(len(s))
	}
	if flex {
		return AppendCompactString(dst, s), nil
	}
	return AppendString(dst, s), nil
}

// appendNullStr writes nil as null where the version allows it and as the
// empty string where it does not.
func appendNullStr(dst []byte, s *string, flex, nullable bool) ([]byte, error) {
	if s == nil {
		switch {
		case !nullable && flex:
			return append(dst, 1), nil
		case !nullable:
			return AppendInt16(dst, 0), nil
		case flex:
			return append(dst, 0), nil
		default:
			return AppendInt16(dst, -1), nil
		}
	}
	return appendStr(dst, *s, flex)
}

func appendBytesF(dst, b []byte, flex bool) []byte {
	if flex {
		return AppendCompactBytes(dst, b)
	}
	return AppendBytes(dst, b)
}

func appendNullBytesF(dst, b []byte, flex, nullable bool) []byte {
	if b == nil && nullable {
		if flex {
			return append(dst, 0)
		}
		return AppendInt32(dst, -1)
	}
	return appendBytesF(dst, b, flex)
}

// appendArrayLen writes the count of a non-nullable array.
func appendArrayLen(dst []byte, n int, flex bool) []byte {
	switch {
	case !flex:
		return AppendInt32(dst, int32(n))
	case n < 0x7f:
		return append(dst, byte(n+1))
	}
	return AppendUvarint(dst, uint32(n)+1)
}

// appendArrayLenF writes an element count; null (n < 0) only where nullable,
// otherwise as an empty array.
func appendArrayLenF(dst []byte, n int, flex, nullable bool) []byte {
	if n < 0 && !nullable {
		n = 0
	}
	if flex {
		return AppendCompactArrayLen(dst, n)
	}
	return AppendArrayLen(dst, n)
}

func (d *Decoder) readStr(flex bool) string {
	if flex {
		return d.ReadCompactString()
	}
	return d.ReadString()
}

// readNullStr reads a string of a type that is nullable in some versions.
// Where this version does not allow null, the empty string decodes as nil,
// mirroring appendNullStr writing nil as empty.
func (d *Decoder) readNullStr(flex, nullable bool) *string {
	if !nullable {
		s := d.readStr(flex)
		if d.err != nil || s == "" {
			return nil
		}
		return &s
	}
	if flex {
		return d.ReadCompactNullableString()
	}
	return d.ReadNullableString()
}

func (d *Decoder) readBytesF(flex bool) []byte {
	if flex {
		return d.ReadCompactBytes()
	}
	return d.ReadBytes()
}

func (d *Decoder) readNullBytesF(flex, nullable bool) []byte {
	if !nullable {
		return d.readBytesF(flex)
	}
	if flex {
		return d.ReadCompactNullableBytes()
	}
	return d.ReadNullableBytes()
}

// readArrayLenF returns the element count, or -1 for null; null where the
// version does not allow it is malformed.
func (d *Decoder) readArrayLenF(flex, nullable bool, minSize int) int {
	var n int
	if flex {
		n = d.ReadCompactArrayLen(minSize)
	} else {
		n = d.ReadArrayLen(minSize)
	}
	if n < 0 && !nullable && d.err == nil {
		d.fail(ErrMalformed, "null for a non-nullable array")
	}
	return n
}

// setDecodeContext names the message (and version, if not negative) in a
// decode error.
func setDecodeContext(err error, message string, version int16) error {
	if e, ok := err.(*decodeError); ok && e.message == "" {
		e.message = message
		if version >= 0 {
			e.message += " v" + strconv.Itoa(int(version))
		}
	}
	return err
}

func stringPtr(s string) *string { return &s }

// sliceLen is len(s), or -1 for a nil slice (a null array).
func sliceLen[T any](s []T) int {
	if s == nil {
		return -1
	}
	return len(s)
}
