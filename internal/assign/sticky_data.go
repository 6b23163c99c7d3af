package assign

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"unicode/utf16"
)

// errStickyUserData is wrapped by the errors of decodeStickyUserData: the
// bytes are not the user data the Java StickyAssignor writes.
var errStickyUserData = errors.New("kafka: malformed sticky assignor user data")

// stickyUserData is the Java StickyAssignor's subscription user data: the
// member's previous assignment and the generation it was made in. Version
// 0 has no generation (-1 here); version 1 appends it.
//
//	previous_assignment: [topic: int16-length string, partitions: [int32]]
//	generation:          int32 (version 1)
//
// Arrays carry an int32 count, as Java's protocol Struct writes them.
type stickyUserData struct {
	owned      map[string][]int32
	generation int32 // -1 when absent
}

// encodeStickyUserData writes version 1, topics in the order a Java
// HashMap of them iterates, so the bytes equal the Java client's.
func encodeStickyUserData(owned map[string][]int32, generation int32) []byte {
	topics := make([]string, 0, len(owned))
	for t := range owned {
		topics = append(topics, t)
	}
	slices.Sort(topics)
	topics = javaHashOrder(topics)
	b := binary.BigEndian.AppendUint32(nil, uint32(len(topics)))
	for _, t := range topics {
		b = binary.BigEndian.AppendUint16(b, uint16(len(t)))
		b = append(b, t...)
		b = binary.BigEndian.AppendUint32(b, uint32(len(owned[t])))
		for _, p := range owned[t] {
			b = binary.BigEndian.AppendUint32(b, uint32(p))
		}
	}
	return binary.BigEndian.AppendUint32(b, uint32(generation))
}

// decodeStickyUserData reads either version: like Java, version 1 first,
// and version 0 when the generation is missing. Bytes after the fields are
// ignored, as Java's Schema.read does.
func decodeStickyUserData(b []byte) (stickyUserData, error) {
	out := stickyUserData{owned: map[string][]int32{}, generation: -1}
	r := stickyReader{b: b}
	n := r.int32()
	if n < 0 && r.err == nil {
		r.err = fmt.Errorf("%w: %d topics", errStickyUserData, n)
	}
	for i := int32(0); i < n && r.err == nil; i++ {
		tl := r.int16()
		if tl < 0 && r.err == nil {
			r.err = fmt.Errorf("%w: null topic name", errStickyUserData)
		}
		topic := string(r.bytes(int(tl)))
		pn := r.int32()
		if pn < 0 && r.err == nil {
			r.err = fmt.Errorf("%w: %d partitions", errStickyUserData, pn)
		}
		if r.err == nil && int(pn) > len(r.b)/4 {
			r.err = fmt.Errorf("%w: %d partitions in %d bytes", errStickyUserData, pn, len(r.b))
		}
		for j := int32(0); j < pn && r.err == nil; j++ {
			out.owned[topic] = append(out.owned[topic], r.int32())
		}
	}
	if r.err != nil {
		return stickyUserData{}, r.err
	}
	if len(r.b) >= 4 {
		out.generation = r.int32()
	}
	return out, nil
}

type stickyReader struct {
	b   []byte
	err error
}

func (r *stickyReader) bytes(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n > len(r.b) {
		r.err = fmt.Errorf("%w: %d bytes wanted, %d left", errStickyUserData, n, len(r.b))
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *stickyReader) int32() int32 {
	b := r.bytes(4)
	if b == nil {
		return 0
	}
	return int32(binary.BigEndian.Uint32(b))
}

func (r *stickyReader) int16() int16 {
	b := r.bytes(2)
	if b == nil {
		return 0
	}
	return int16(binary.BigEndian.Uint16(b))
}

// encodeCooperativeUserData is the Java CooperativeStickyAssignor's user
// data: the member's generation alone, for subscriptions older than v2.
func encodeCooperativeUserData(generation int32) []byte {
	return binary.BigEndian.AppendUint32(nil, uint32(generation))
}

// decodeCooperativeUserData reads it; like Java, unreadable user data
// means the default generation.
func decodeCooperativeUserData(b []byte) (int32, bool) {
	if b == nil {
		return -1, false
	}
	if len(b) < 4 {
		return -1, true
	}
	return int32(binary.BigEndian.Uint32(b)), true
}

// javaStringHash is Java's String.hashCode over UTF-16 code units.
func javaStringHash(s string) int32 {
	var h int32
	if isASCII(s) {
		for i := 0; i < len(s); i++ {
			h = 31*h + int32(s[i])
		}
		return h
	}
	for _, u := range utf16.Encode([]rune(s)) {
		h = 31*h + int32(u)
	}
	return h
}

// javaHashOrder orders keys as a java.util.HashMap filled with them in the
// given order iterates: by bucket of the spread hash in the table the map
// grew to, then by insertion. The Java assignors walk such maps, so their
// results depend on this order.
func javaHashOrder(keys []string) []string {
	capacity := 16
	for len(keys) > capacity*3/4 {
		capacity *= 2
	}
	bucket := func(k string) int {
		h := uint32(javaStringHash(k))
		return int((h ^ h>>16) & uint32(capacity-1))
	}
	out := slices.Clone(keys)
	slices.SortStableFunc(out, func(a, b string) int { return bucket(a) - bucket(b) })
	return out
}
