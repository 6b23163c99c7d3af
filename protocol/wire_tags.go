package protocol

// RawTaggedField is a tagged field the decoder did not know. Generated
// structs keep them in UnknownTags and write them back when encoding, so a
// message passes through gregor without losing fields from newer brokers.
type RawTaggedField struct {
	Tag  uint32
	Data []byte // the field's encoded value, without tag and size
}

// AppendRawTaggedFields appends a complete tag section holding only fields
// (count, then tag, size and data of each).
func AppendRawTaggedFields(dst []byte, fields []RawTaggedField) []byte {
	if len(fields) == 0 {
		return append(dst, 0) // the common case, kept small enough to inline
	}
	return appendRawTaggedFields(dst, fields)
}

func appendRawTaggedFields(dst []byte, fields []RawTaggedField) []byte {
	dst = AppendUvarint(dst, uint32(len(fields)))
	for i := range fields {
		dst = appendRawTag(dst, &fields[i])
	}
	return dst
}

func appendRawTag(dst []byte, f *RawTaggedField) []byte {
	dst = AppendUvarint(dst, f.Tag)
	dst = AppendUvarint(dst, uint32(len(f.Data)))
	return append(dst, f.Data...)
}

// appendUnknownTagsBefore writes the unknown fields from index i on whose tag
// is below tag, keeping the section in ascending tag order, and returns the
// next index.
func appendUnknownTagsBefore(dst []byte, fields []RawTaggedField, i int, tag uint32) ([]byte, int) {
	for ; i < len(fields) && fields[i].Tag < tag; i++ {
		dst = appendRawTag(dst, &fields[i])
	}
	return dst, i
}

// appendUnknownTagsFrom writes the unknown fields from index i on.
func appendUnknownTagsFrom(dst []byte, fields []RawTaggedField, i int) []byte {
	for ; i < len(fields); i++ {
		dst = appendRawTag(dst, &fields[i])
	}
	return dst
}

// beginTaggedField writes the tag and a one-byte placeholder for the size;
// the placeholder is the last byte of the result. The value is then appended
// directly and endTaggedField fills in the size: no scratch buffer, and for
// the usual value under 128 bytes no copying either.
func beginTaggedField(dst []byte, tag uint32) []byte {
	dst = AppendUvarint(dst, tag)
	return append(dst, 0)
}

var tagSizePad [4]byte

func endTaggedField(dst []byte, mark int) []byte {
	size := len(dst) - mark - 1
	if size < 0x80 {
		dst[mark] = byte(size)
		return dst
	}
	n := uvarintLen(uint32(size))
	dst = append(dst, tagSizePad[:n-1]...)
	copy(dst[mark+n:], dst[mark+1:mark+1+size])
	v := uint32(size)
	for i := 0; i < n-1; i++ {
		dst[mark+i] = byte(v) | 0x80
		v >>= 7
	}
	dst[mark+n-1] = byte(v)
	return dst
}

// readTagHeader reads a tagged field's tag and size and checks the size
// against the remaining bytes.
func (d *Decoder) readTagHeader() (tag uint32, size int) {
	tag = d.ReadUvarint()
	size = int(d.ReadUvarint())
	if size > len(d.src)-d.off {
		d.short("tagged field size exceeds remaining bytes")
		return 0, 0
	}
	return tag, size
}

// sub consumes the next size bytes and returns a Decoder over just them, used
// to decode one known tagged field.
func (d *Decoder) sub(size int) Decoder {
	return Decoder{src: d.take(size, "tagged field")}
}

// endSub propagates the sub-decoder's error and insists the field consumed
// exactly its declared size.
func (d *Decoder) endSub(s *Decoder) {
	if s.err != nil {
		if d.err == nil {
			if e, ok := s.err.(*decodeError); ok {
				e.offset += d.off - len(s.src)
			}
			d.err = s.err
		}
		d.off = len(d.src)
		return
	}
	if s.off != len(s.src) {
		d.fail(ErrMalformed, "tagged field has trailing bytes")
	}
}

// skipTaggedFields reads a tag section and discards it (used for headers).
func (d *Decoder) skipTaggedFields() {
	for n := d.ReadUvarint(); n > 0 && d.err == nil; n-- {
		_, size := d.readTagHeader()
		d.take(size, "tagged field")
	}
}

// ReadRawTaggedFields reads a complete tag section, keeping every field raw;
// the data aliases the input.
func (d *Decoder) ReadRawTaggedFields() []RawTaggedField {
	var out []RawTaggedField
	for n := d.ReadUvarint(); n > 0 && d.err == nil; n-- {
		tag, size := d.readTagHeader()
		data := d.take(size, "tagged field")
		if d.err != nil {
			return nil
		}
		out = append(out, RawTaggedField{Tag: tag, Data: data})
	}
	return out
}
