package protocol

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFixedWidthPrimitives(t *testing.T) {
	b := AppendInt8(nil, -2)
	b = AppendInt16(b, -3)
	b = AppendInt32(b, 0x01020304)
	b = AppendInt64(b, -1)
	b = AppendUint16(b, 0xfffe)
	b = AppendUint32(b, 7)
	b = AppendFloat64(b, 1.5)
	b = AppendBool(b, true)
	b = AppendBool(b, false)
	b = AppendUUID(b, UUID{0: 1, 15: 2})
	require.Equal(t, []byte{0xfe, 0xff, 0xfd, 1, 2, 3, 4}, b[:7])

	d := NewDecoder(b)
	require.Equal(t, int8(-2), d.ReadInt8())
	require.Equal(t, int16(-3), d.ReadInt16())
	require.Equal(t, int32(0x01020304), d.ReadInt32())
	require.Equal(t, int64(-1), d.ReadInt64())
	require.Equal(t, uint16(0xfffe), d.ReadUint16())
	require.Equal(t, uint32(7), d.ReadUint32())
	require.Equal(t, 1.5, d.ReadFloat64())
	require.True(t, d.ReadBool())
	require.False(t, d.ReadBool())
	require.Equal(t, UUID{0: 1, 15: 2}, d.ReadUUID())
	require.NoError(t, d.Err())
	require.Zero(t, d.Remaining())
	require.Equal(t, len(b), d.Offset())

	// Reading past the end fails, and the failure sticks.
	require.Zero(t, d.ReadInt32())
	require.ErrorIs(t, d.Err(), ErrTruncated)
	d.Reset([]byte{1, 2, 3, 4})
	require.NoError(t, d.Err())
	require.Equal(t, int16(0x0102), d.ReadInt16())
}

func TestVarints(t *testing.T) {
	// Values from Kafka's own varint tests: zigzag maps 0,-1,1,-2 to 0,1,2,3.
	for _, tc := range []struct {
		v    int32
		want []byte
	}{
		{0, []byte{0}},
		{-1, []byte{1}},
		{1, []byte{2}},
		{-64, []byte{0x7f}},
		{64, []byte{0x80, 0x01}},
		{300, []byte{0xd8, 0x04}},
		{math.MaxInt32, []byte{0xfe, 0xff, 0xff, 0xff, 0x0f}},
		{math.MinInt32, []byte{0xff, 0xff, 0xff, 0xff, 0x0f}},
	} {
		b := AppendVarint(nil, tc.v)
		require.Equal(t, tc.want, b, "%d", tc.v)
		require.Equal(t, binary.AppendVarint(nil, int64(tc.v)), b, "same as encoding/binary")
		d := NewDecoder(b)
		require.Equal(t, tc.v, d.ReadVarint())
		require.NoError(t, d.Err())
	}
	for _, v := range []int64{0, -1, 1, math.MaxInt64, math.MinInt64, 1 << 40} {
		b := AppendVarlong(nil, v)
		require.Equal(t, binary.AppendVarint(nil, v), b)
		d := NewDecoder(b)
		require.Equal(t, v, d.ReadVarlong())
		require.NoError(t, d.Err())
	}
	for _, v := range []uint32{0, 127, 128, 16383, 16384, math.MaxUint32} {
		b := AppendUvarint(nil, v)
		require.Equal(t, binary.AppendUvarint(nil, uint64(v)), b)
		require.Equal(t, uvarintLen(v), len(b))
		d := NewDecoder(b)
		require.Equal(t, v, d.ReadUvarint())
		require.NoError(t, d.Err())
	}
}

func TestVarintsMalformed(t *testing.T) {
	for _, b := range [][]byte{
		{0x80, 0x80, 0x80, 0x80, 0x80, 0x01}, // six bytes
		{0xff, 0xff, 0xff, 0xff, 0x1f},       // 33 bits
	} {
		d := NewDecoder(b)
		d.ReadUvarint()
		require.ErrorIs(t, d.Err(), ErrMalformed, "% x", b)
	}
	d := NewDecoder([]byte{0x80, 0x80})
	d.ReadUvarint()
	require.ErrorIs(t, d.Err(), ErrTruncated)

	d = NewDecoder(append(make([]byte, 0, 11), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01))
	d.ReadUvarlong()
	require.ErrorIs(t, d.Err(), ErrMalformed)
}

func TestStringsAndBytes(t *testing.T) {
	s := "héllo"
	var b []byte
	b = AppendString(b, s)
	b = AppendNullableString(b, nil)
	b = AppendNullableString(b, &s)
	b = AppendCompactString(b, s)
	b = AppendCompactNullableString(b, nil)
	b = AppendCompactNullableString(b, &s)
	b = AppendBytes(b, []byte{1})
	b = AppendNullableBytes(b, nil)
	b = AppendNullableBytes(b, []byte{})
	b = AppendCompactBytes(b, []byte{2, 3})
	b = AppendCompactNullableBytes(b, nil)
	b = AppendCompactNullableBytes(b, []byte{})
	b = AppendArrayLen(b, 3)
	b = AppendArrayLen(b, -1)
	b = AppendCompactArrayLen(b, 1)
	b = AppendCompactArrayLen(b, -1)

	d := NewDecoder(b)
	require.Equal(t, s, d.ReadString())
	require.Nil(t, d.ReadNullableString())
	require.Equal(t, s, *d.ReadNullableString())
	require.Equal(t, s, d.ReadCompactString())
	require.Nil(t, d.ReadCompactNullableString())
	require.Equal(t, s, *d.ReadCompactNullableString())
	require.Equal(t, []byte{1}, d.ReadBytes())
	require.Nil(t, d.ReadNullableBytes())
	empty := d.ReadNullableBytes()
	require.NotNil(t, empty)
	require.Empty(t, empty)
	require.Equal(t, []byte{2, 3}, d.ReadCompactBytes())
	require.Nil(t, d.ReadCompactNullableBytes())
	empty = d.ReadCompactNullableBytes()
	require.NotNil(t, empty)
	require.Empty(t, empty)
	// Counts are checked against what remains: 3 elements of 1 byte need
	// 3 bytes, and 6 remain after the first count.
	require.Equal(t, 3, d.ReadArrayLen(1))
	require.Equal(t, -1, d.ReadArrayLen(1))
	require.Equal(t, 1, d.ReadCompactArrayLen(1))
	require.Equal(t, -1, d.ReadCompactArrayLen(1))
	require.NoError(t, d.Err())
	require.Zero(t, d.Remaining())
}

func TestDecodedBytesCannotGrowIntoInput(t *testing.T) {
	d := NewDecoder([]byte{0, 0, 0, 1, 7, 8, 9})
	b := d.ReadBytes()
	_ = append(b, 0xff)
	require.Equal(t, byte(8), d.src[5], "append to a decoded slice must not overwrite the input")
}

func TestNullsWhereNotAllowed(t *testing.T) {
	for name, read := range map[string]func(*Decoder){
		"string":         func(d *Decoder) { d.ReadString() },
		"compact string": func(d *Decoder) { d.ReadCompactString() },
		"bytes":          func(d *Decoder) { d.ReadBytes() },
		"compact bytes":  func(d *Decoder) { d.ReadCompactBytes() },
	} {
		var in []byte
		switch name {
		case "string":
			in = []byte{0xff, 0xff}
		case "bytes":
			in = []byte{0xff, 0xff, 0xff, 0xff}
		default:
			in = []byte{0}
		}
		d := NewDecoder(in)
		read(d)
		require.ErrorIs(t, d.Err(), ErrMalformed, name)
	}
	d := NewDecoder([]byte{0xff, 0xfe})
	d.ReadNullableString()
	require.ErrorIs(t, d.Err(), ErrMalformed, "length -2")
	d = NewDecoder([]byte{0xff, 0xff, 0xff, 0xfe})
	d.ReadArrayLen(1)
	require.ErrorIs(t, d.Err(), ErrMalformed, "count -2")
}

func TestHostileLengths(t *testing.T) {
	// Lengths far beyond the input fail before allocating anything.
	inputs := map[string][]byte{
		"array":   {0x7f, 0xff, 0xff, 0xff, 0, 0},
		"bytes":   {0x7f, 0xff, 0xff, 0xff, 0, 0},
		"string":  {0x7f, 0xff, 0, 0},
		"compact": {0xff, 0xff, 0xff, 0xff, 0x07, 0},
	}
	allocs := testing.AllocsPerRun(10, func() {
		for name, in := range inputs {
			d := Decoder{src: in}
			switch name {
			case "array":
				d.ReadArrayLen(1)
			case "bytes":
				d.ReadBytes()
			case "string":
				d.ReadString()
			case "compact":
				d.ReadCompactArrayLen(1)
			}
			if d.err == nil {
				panic(name + " accepted")
			}
		}
	})
	require.LessOrEqual(t, allocs, float64(len(inputs)), "only the error values")

	// A count of 2 elements of at least 8 bytes does not fit in 12 bytes.
	d := NewDecoder(append([]byte{0, 0, 0, 2}, make([]byte, 12)...))
	require.Equal(t, -1, d.ReadArrayLen(8))
	require.ErrorIs(t, d.Err(), ErrTruncated)

	// Strings longer than Kafka allows are malformed even when present.
	long := AppendCompactString(nil, string(make([]byte, MaxStringLen+1)))
	d = NewDecoder(long)
	d.ReadCompactString()
	require.ErrorIs(t, d.Err(), ErrMalformed)
}

func TestRest(t *testing.T) {
	d := NewDecoder([]byte{1, 2, 3})
	d.ReadInt8()
	require.Equal(t, []byte{2, 3}, d.Rest())
	require.Zero(t, d.Remaining())
}

func TestUUIDString(t *testing.T) {
	var u UUID
	require.Equal(t, "AAAAAAAAAAAAAAAAAAAAAA", u.String())
	require.True(t, u.IsZero())
	u = UUID{0xfb, 0xff, 15: 1}
	p, err := ParseUUID(u.String())
	require.NoError(t, err)
	require.Equal(t, u, p)
	require.False(t, p.IsZero())
	_, err = ParseUUID("short")
	require.Error(t, err)
	_, err = ParseUUID("!!!!!!!!!!!!!!!!!!!!!!")
	require.Error(t, err)
}

func TestTaggedFieldHelpers(t *testing.T) {
	unknown := []RawTaggedField{{Tag: 1, Data: []byte{1}}, {Tag: 4, Data: nil}, {Tag: 9, Data: []byte{9, 9}}}
	b, i := appendUnknownTagsBefore(nil, unknown, 0, 4)
	require.Equal(t, 1, i)
	require.Equal(t, []byte{1, 1, 1}, b)
	b = appendUnknownTagsFrom(b, unknown, i)
	require.Equal(t, []byte{1, 1, 1, 4, 0, 9, 2, 9, 9}, b)

	all := AppendRawTaggedFields(nil, unknown)
	d := NewDecoder(all)
	got := d.ReadRawTaggedFields()
	require.NoError(t, d.Err())
	require.Equal(t, unknown[0], got[0])
	require.Equal(t, uint32(4), got[1].Tag)
	require.Empty(t, got[1].Data)

	for _, size := range []int{0, 127, 128, 300, 20000} {
		b := beginTaggedField([]byte{0xaa}, 5)
		mark := len(b) - 1
		for i := 0; i < size; i++ {
			b = append(b, byte(i))
		}
		b = endTaggedField(b, mark)
		d := NewDecoder(b[1:])
		tag, n := d.readTagHeader()
		require.Equal(t, uint32(5), tag)
		require.Equal(t, size, n)
		require.Equal(t, size, d.Remaining())
		if size > 0 {
			require.Equal(t, byte(size-1), b[len(b)-1])
		}
	}
}
