package protocol

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
)

// fillMode selects how the test filler treats fields that are nullable at
// the version being filled.
type fillMode int

const (
	fillFull  fillMode = iota // every field set to a non-default value
	fillNull                  // nullable fields null
	fillEmpty                 // nullable fields empty but not null
)

func (m fillMode) String() string { return [...]string{"full", "null", "empty"}[m] }

// filler populates generated structs for one version by walking them with
// reflection, reading each field's version range from its kafka struct tag.
// Fields absent at the version keep their defaults, which is what decoding
// produces for them, so a filled value must survive encode+decode unchanged.
type filler struct {
	version  int16
	flexible bool
	mode     fillMode
	elems    int // elements per array
	seq      int
}

type fieldVersions struct{ versions, nullable versionSpan }

type versionSpan struct{ lo, hi int16 }

func (s versionSpan) contains(v int16) bool { return v >= s.lo && v <= s.hi }

func parseSpan(s string) versionSpan {
	if s == "" || s == "none" {
		return versionSpan{1, 0}
	}
	if lo, ok := strings.CutSuffix(s, "+"); ok {
		n, _ := strconv.Atoi(lo)
		return versionSpan{int16(n), math.MaxInt16}
	}
	if lo, hi, ok := strings.Cut(s, "-"); ok {
		l, _ := strconv.Atoi(lo)
		h, _ := strconv.Atoi(hi)
		return versionSpan{int16(l), int16(h)}
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		panic(fmt.Sprintf("bad kafka tag %q", s))
	}
	return versionSpan{int16(n), int16(n)}
}

func parseKafkaTag(tag string) fieldVersions {
	parts := strings.Split(tag, ",")
	fv := fieldVersions{versions: parseSpan(parts[0]), nullable: versionSpan{1, 0}}
	for _, p := range parts[1:] {
		if v, ok := strings.CutPrefix(p, "nullable="); ok {
			fv.nullable = parseSpan(v)
		}
	}
	return fv
}

type defaulter interface{ Default() }

// fill populates the struct pointed to by ptr, which must already hold its
// defaults.
func (f *filler) fill(ptr any) {
	f.fillStruct(reflect.ValueOf(ptr).Elem())
}

func (f *filler) next() int {
	f.seq++
	return f.seq
}

func (f *filler) fillStruct(v reflect.Value) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		fv := v.Field(i)
		if sf.Name == "UnknownTags" {
			if f.flexible {
				// Above every tag the schemas use, so it sorts after the
				// known ones.
				fv.Set(reflect.ValueOf([]RawTaggedField{{Tag: uint32(1000 + f.next()), Data: []byte{0xde, 0xad, byte(f.seq)}}}))
			}
			continue
		}
		tag, ok := sf.Tag.Lookup("kafka")
		if !ok {
			panic("field without kafka tag: " + t.Name() + "." + sf.Name)
		}
		fvs := parseKafkaTag(tag)
		if !fvs.versions.contains(f.version) {
			continue
		}
		f.fillValue(fv, fvs.nullable.contains(f.version))
	}
}

func (f *filler) fillValue(v reflect.Value, nullable bool) {
	n := f.next()
	switch v.Kind() {
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(v.Int() + int64(n%100+1))
	case reflect.Uint16, reflect.Uint32:
		v.SetUint(v.Uint() + uint64(n%100+1))
	case reflect.Float64:
		v.SetFloat(v.Float() + 1.5)
	case reflect.Bool:
		v.SetBool(!v.Bool())
	case reflect.String:
		v.SetString("s" + strconv.Itoa(n))
	case reflect.Pointer: // *string, or a nullable struct
		if v.Type().Elem().Kind() == reflect.Struct {
			if nullable && f.mode == fillNull {
				v.Set(reflect.Zero(v.Type()))
				return
			}
			p := reflect.New(v.Type().Elem())
			if d, ok := p.Interface().(defaulter); ok {
				d.Default()
			}
			f.fillStruct(p.Elem())
			v.Set(p)
			return
		}
		switch {
		case nullable && f.mode == fillNull:
			v.Set(reflect.Zero(v.Type()))
		case nullable && f.mode == fillEmpty:
			s := ""
			v.Set(reflect.ValueOf(&s))
		default:
			s := "p" + strconv.Itoa(n)
			v.Set(reflect.ValueOf(&s))
		}
	case reflect.Array: // UUID
		for i := 0; i < v.Len(); i++ {
			v.Index(i).SetUint(uint64(n + i))
		}
	case reflect.Struct:
		f.fillStruct(v)
	case reflect.Slice:
		switch {
		case nullable && f.mode == fillNull:
			v.Set(reflect.Zero(v.Type()))
			return
		case nullable && f.mode == fillEmpty:
			v.Set(reflect.MakeSlice(v.Type(), 0, 0))
			return
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			v.SetBytes([]byte{1, 2, 3, byte(n)})
			return
		}
		s := reflect.MakeSlice(v.Type(), f.elems, f.elems)
		for i := 0; i < f.elems; i++ {
			e := s.Index(i)
			if d, ok := e.Addr().Interface().(defaulter); ok {
				d.Default()
			}
			f.fillValue(e, false)
		}
		v.Set(s)
	default:
		panic("unexpected kind " + v.Kind().String())
	}
}

// testMessage is what the table-driven tests need from a request, response
// or data type.
type testMessage interface {
	SupportedVersions() (minVersion, maxVersion int16)
	AppendTo(dst []byte, version int16) ([]byte, error)
	DecodeFrom(src []byte, version int16) error
}

// msgCase is one message type to test, with a constructor for a value at
// defaults.
type msgCase struct {
	name     string
	new      func() testMessage
	flexible func(version int16) bool
}

// allMessages lists every generated request, response and data type.
func allMessages() []msgCase {
	var cases []msgCase
	for _, key := range APIKeys() {
		req, _ := NewRequest(key)
		resp, _ := NewResponse(key)
		cases = append(cases,
			msgCase{
				name:     typeName(req),
				new:      func() testMessage { r, _ := NewRequest(key); return r },
				flexible: req.IsFlexible,
			},
			msgCase{
				name:     typeName(resp),
				new:      func() testMessage { r, _ := NewResponse(key); return r },
				flexible: resp.IsFlexible,
			})
	}
	never := func(int16) bool { return false }
	cases = append(cases,
		msgCase{name: "ConsumerProtocolSubscription", new: func() testMessage { return NewConsumerProtocolSubscription() }, flexible: never},
		msgCase{name: "ConsumerProtocolAssignment", new: func() testMessage { return NewConsumerProtocolAssignment() }, flexible: never},
	)
	return cases
}

func typeName(m any) string { return reflect.TypeOf(m).Elem().Name() }

// filled returns a message of case c at version filled in mode.
func (c msgCase) filled(version int16, mode fillMode, elems int) testMessage {
	m := c.new()
	f := &filler{version: version, flexible: c.flexible(version), mode: mode, elems: elems}
	f.fill(m)
	return m
}

// zero returns a message of the case's type with every field at the Go zero
// value (not the schema defaults), to check that decoding sets every field.
func (c msgCase) zero() testMessage {
	return reflect.New(reflect.TypeOf(c.new()).Elem()).Interface().(testMessage)
}

func (c msgCase) versions() []int16 {
	lo, hi := c.new().SupportedVersions()
	var vs []int16
	for v := lo; v <= hi; v++ {
		vs = append(vs, v)
	}
	return vs
}
