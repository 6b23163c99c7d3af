package main

import (
	"fmt"
	"strconv"
)

// encoder emits the body of one encode method.
type encoder struct {
	o       out
	st      *structDef
	usesErr bool
}

func (e *encoder) p(format string, args ...any) { e.o.p(format, args...) }

func (e *encoder) fail() string {
	e.usesErr = true
	return "return dst, err"
}

func genEncode(o *out, st *structDef) {
	e := &encoder{st: st}
	ctx := st.usage
	for _, g := range groupFields(st) {
		if g.cond == "false" {
			continue
		}
		if g.cond != "true" {
			e.p("if %s {", g.cond)
		}
		for _, f := range g.fields {
			r := f.regular().intersect(ctx)
			e.value(f, f.t, "s."+f.goName, flexExpr(f, st.msg, r), cond(f.nullable, r), r)
		}
		if g.cond != "true" {
			e.p("}")
		}
	}
	if hasTags(st) {
		e.tags()
	}
	o.p("")
	if st.canFail {
		o.p("func (s *%s) encode(dst []byte, version int16) ([]byte, error) {", st.goName)
		if e.usesErr {
			o.p("var err error")
		}
		o.Write(e.o.Bytes())
		o.p("return dst, nil")
	} else {
		o.p("func (s *%s) encode(dst []byte, version int16) []byte {", st.goName)
		o.Write(e.o.Bytes())
		o.p("return dst")
	}
	o.p("}")
}

type fieldGroup struct {
	cond   string
	fields []*field
}

// groupFields splits st's fields into runs that share the condition under
// which they are in the fixed part of the encoding, so that consecutive
// fields added in the same version share one version check.
func groupFields(st *structDef) []fieldGroup {
	var gs []fieldGroup
	for _, f := range st.fields {
		c := cond(f.regular(), st.usage)
		if n := len(gs); n > 0 && gs[n-1].cond == c {
			gs[n-1].fields = append(gs[n-1].fields, f)
			continue
		}
		gs = append(gs, fieldGroup{cond: c, fields: []*field{f}})
	}
	return gs
}

// value emits the encoding of x, of type t belonging to field f, in the
// versions r.
func (e *encoder) value(f *field, t *ftype, x, flex, nullable string, r vrange) {
	switch t.k {
	case kInt8:
		e.p("dst = AppendInt8(dst, %s)", x)
	case kInt16:
		e.p("dst = AppendInt16(dst, %s)", x)
	case kInt32:
		e.p("dst = AppendInt32(dst, %s)", x)
	case kInt64:
		e.p("dst = AppendInt64(dst, %s)", x)
	case kUint16:
		e.p("dst = AppendUint16(dst, %s)", x)
	case kUint32:
		e.p("dst = AppendUint32(dst, %s)", x)
	case kFloat64:
		e.p("dst = AppendFloat64(dst, %s)", x)
	case kBool:
		e.p("dst = AppendBool(dst, %s)", x)
	case kUUID:
		e.p("dst = AppendUUID(dst, %s)", x)
	case kString:
		if f.nullableAnywhere() && t == f.t {
			e.p("if dst, err = appendNullStr(dst, %s, %s, %s); err != nil {", x, flex, nullable)
		} else {
			e.p("if dst, err = appendStr(dst, %s, %s); err != nil {", x, flex)
		}
		e.p("%s", e.fail())
		e.p("}")
	case kBytes, kRecords:
		if f.nullableAnywhere() {
			e.p("dst = appendNullBytesF(dst, %s, %s, %s)", x, flex, nullable)
		} else {
			e.p("dst = appendBytesF(dst, %s, %s)", x, flex)
		}
	case kStruct:
		if t.ptr {
			e.p("if %s == nil {", x)
			e.p("dst = AppendInt8(dst, -1)")
			e.p("} else {")
			e.p("dst = AppendInt8(dst, 1)")
			inner := *t
			inner.ptr = false
			e.value(f, &inner, x, flex, nullable, r)
			e.p("}")
			return
		}
		if t.st.canFail {
			e.p("if dst, err = %s.encode(dst, version); err != nil {", x)
			e.p("%s", e.fail())
			e.p("}")
		} else {
			e.p("dst = %s.encode(dst, version)", x)
		}
	case kArray:
		if f.nullableAnywhere() {
			e.p("dst = appendArrayLenF(dst, sliceLen(%s), %s, %s)", x, flex, nullable)
		} else {
			e.p("dst = appendArrayLen(dst, len(%s), %s)", x, flex)
		}
		if t.elem.k == kStruct {
			e.p("for i := range %s {", x)
			e.value(f, t.elem, x+"[i]", flex, "false", r)
		} else {
			e.p("for _, v := range %s {", x)
			e.value(f, t.elem, "v", flex, "false", r)
		}
		e.p("}")
	default:
		panic("unreachable")
	}
}

// tags emits the tag section: known tagged fields that differ from their
// default, merged in tag order with the preserved unknown ones.
func (e *encoder) tags() {
	st := e.st
	ctx := st.usage
	fc := cond(st.msg.flexible, ctx)
	if fc != "true" {
		e.p("if %s {", fc)
	}
	known := taggedFields(st)
	fctx := st.msg.flexible.intersect(ctx)
	if len(known) == 0 {
		e.p("dst = AppendRawTaggedFields(dst, s.UnknownTags)")
	} else {
		present := make([]string, len(known))
		for i, f := range known {
			c := cond(f.tagged, fctx)
			nd := nonDefaultExpr(f, "s."+f.goName)
			if c != "true" {
				nd = c + " && " + nd
			}
			present[i] = nd
		}
		e.p("nt := uint32(len(s.UnknownTags))")
		for _, p := range present {
			e.p("if %s {", p)
			e.p("nt++")
			e.p("}")
		}
		e.p("dst = AppendUvarint(dst, nt)")
		e.p("ui := 0")
		for i, f := range known {
			r := f.tagged.intersect(ctx)
			e.p("if %s {", present[i])
			e.p("dst, ui = appendUnknownTagsBefore(dst, s.UnknownTags, ui, %d)", f.tag)
			e.p("dst = beginTaggedField(dst, %d)", f.tag)
			e.p("mark := len(dst) - 1")
			e.value(f, f.t, "s."+f.goName, "true", cond(f.nullable, r), r)
			e.p("dst = endTaggedField(dst, mark)")
			e.p("}")
		}
		e.p("dst = appendUnknownTagsFrom(dst, s.UnknownTags, ui)")
	}
	if fc != "true" {
		e.p("}")
	}
}

// decoder emits the body of one decode method.
type decoder struct {
	o  out
	st *structDef
}

func (d *decoder) p(format string, args ...any) { d.o.p(format, args...) }

func genDecode(o *out, st *structDef) {
	d := &decoder{st: st}
	ctx := st.usage
	read := func(f *field) {
		r := f.regular().intersect(ctx)
		d.value(f, f.t, "s."+f.goName, "d", "d", flexExpr(f, st.msg, r), cond(f.nullable, r), r)
	}
	for _, g := range groupFields(st) {
		switch g.cond {
		case "false":
			for _, f := range g.fields {
				d.p("%s", setDefaultStmt(f, "s."+f.goName))
			}
		case "true":
			for _, f := range g.fields {
				read(f)
			}
		default:
			d.p("if %s {", g.cond)
			for _, f := range g.fields {
				read(f)
			}
			d.p("} else {")
			for _, f := range g.fields {
				d.p("%s", setDefaultStmt(f, "s."+f.goName))
			}
			d.p("}")
		}
	}
	if hasTags(st) {
		d.tags()
	}
	o.p("")
	o.p("func (s *%s) decode(d *Decoder, version int16) {", st.goName)
	o.Write(d.o.Bytes())
	o.p("}")
}

// value emits the decoding of x. dm is the expression to call Decoder methods
// on and dp the *Decoder to pass to nested decode methods.
func (d *decoder) value(f *field, t *ftype, x, dm, dp, flex, nullable string, r vrange) {
	switch t.k {
	case kInt8:
		d.p("%s = %s.ReadInt8()", x, dm)
	case kInt16:
		d.p("%s = %s.ReadInt16()", x, dm)
	case kInt32:
		d.p("%s = %s.ReadInt32()", x, dm)
	case kInt64:
		d.p("%s = %s.ReadInt64()", x, dm)
	case kUint16:
		d.p("%s = %s.ReadUint16()", x, dm)
	case kUint32:
		d.p("%s = %s.ReadUint32()", x, dm)
	case kFloat64:
		d.p("%s = %s.ReadFloat64()", x, dm)
	case kBool:
		d.p("%s = %s.ReadBool()", x, dm)
	case kUUID:
		d.p("%s = %s.ReadUUID()", x, dm)
	case kString:
		if f.nullableAnywhere() && t == f.t {
			d.p("%s = %s.readNullStr(%s, %s)", x, dm, flex, nullable)
		} else {
			d.p("%s = %s.readStr(%s)", x, dm, flex)
		}
	case kBytes, kRecords:
		if f.nullableAnywhere() {
			d.p("%s = %s.readNullBytesF(%s, %s)", x, dm, flex, nullable)
		} else {
			d.p("%s = %s.readBytesF(%s)", x, dm, flex)
		}
	case kStruct:
		if t.ptr {
			d.p("if %s.ReadInt8() < 0 {", dm)
			d.p("%s = nil", x)
			d.p("} else {")
			d.p("if %s == nil {", x)
			d.p("%s = new(%s)", x, t.st.goName)
			d.p("}")
			d.p("%s.decode(%s, version)", x, dp)
			d.p("}")
			return
		}
		d.p("%s.decode(%s, version)", x, dp)
	case kArray:
		elemType := goType(t.elem, nil)
		d.p("if n := %s.readArrayLenF(%s, %s, %d); n > 0 {", dm, flex, nullable, minElemSize(f, d.st.msg, r))
		d.p("if cap(%s) >= n {", x)
		d.p("%s = %s[:n]", x, x)
		d.p("} else {")
		if t.elem.k == kInt32 {
			d.p("%s = %s.int32s(n)", x, dm)
		} else {
			d.p("%s = make([]%s, n)", x, elemType)
		}
		d.p("}")
		d.p("for i := range %s {", x)
		d.value(f, t.elem, x+"[i]", dm, dp, flex, "false", r)
		d.p("}")
		// Empty decodes as nil where null is not allowed, matching nil
		// encoding as empty there; only a nullable version keeps them apart.
		switch nullable {
		case "true":
			d.p("} else if n == 0 {")
			d.p("%s = []%s{}", x, elemType)
		case "false":
		default:
			d.p("} else if n == 0 && %s {", nullable)
			d.p("%s = []%s{}", x, elemType)
		}
		d.p("} else {")
		d.p("%s = nil", x)
		d.p("}")
	default:
		panic("unreachable")
	}
}

// tags emits the loop over a tag section.
func (d *decoder) tags() {
	st := d.st
	ctx := st.usage
	d.p("s.UnknownTags = nil")
	fc := cond(st.msg.flexible, ctx)
	if fc != "true" {
		d.p("if %s {", fc)
	}
	known := taggedFields(st)
	d.p("for nt := d.ReadUvarint(); nt > 0 && d.err == nil; nt-- {")
	d.p("tag, size := d.readTagHeader()")
	d.p("if d.err != nil {")
	d.p("break")
	d.p("}")
	unknown := `s.UnknownTags = append(s.UnknownTags, RawTaggedField{Tag: tag, Data: d.take(size, "tagged field")})`
	if len(known) == 0 {
		d.p("%s", unknown)
	} else {
		d.p("switch {")
		fctx := st.msg.flexible.intersect(ctx)
		for _, f := range known {
			r := f.tagged.intersect(ctx)
			c := cond(f.tagged, fctx)
			test := "tag == " + strconv.FormatInt(f.tag, 10)
			if c != "true" {
				test += " && " + c
			}
			d.p("case %s:", test)
			d.p("sd := d.sub(size)")
			d.value(f, f.t, "s."+f.goName, "sd", "&sd", "true", cond(f.nullable, r), r)
			d.p("d.endSub(&sd)")
		}
		d.p("default:")
		d.p("%s", unknown)
		d.p("}")
	}
	d.p("}")
	if fc != "true" {
		d.p("}")
	}
}

// genRegistry writes the table of APIs, indexed by key.
func genRegistry(release string, pairs [][2]*message) ([]byte, error) {
	var o out
	o.p("// Code generated by protogen from Kafka %s's message schemas; DO NOT EDIT.", release)
	o.p("")
	o.p("package protocol")
	o.p("")
	o.p("// SchemaRelease is the Kafka release whose message schemas the API types were generated from.")
	o.p("const SchemaRelease = %q", release)
	o.p("")
	o.p("// Keys of the APIs this package encodes.")
	o.p("const (")
	for _, p := range pairs {
		o.p("APIKey%s int16 = %d", goName(p[0].apiName), p[0].apiKey)
	}
	o.p(")")
	o.p("")
	o.p("// apiTable describes every generated API; the index is the API key.")
	o.p("var apiTable = [...]apiInfo{")
	for _, p := range pairs {
		req, resp := p[0], p[1]
		o.p("APIKey%s: {", goName(req.apiName))
		o.p("name: %q,", req.apiName)
		o.p("minVersion: %d, maxVersion: %d,", req.valid.lo, req.valid.hi)
		o.p("requestFlexible: %s, responseFlexible: %s,", firstFlexible(req), firstFlexible(resp))
		o.p("newRequest: func() Request { return New%s() },", req.goName)
		o.p("newResponse: func() Message { return New%s() },", resp.goName)
		o.p("},")
	}
	o.p("}")
	return formatSource("registry", o.Bytes())
}

func firstFlexible(m *message) string {
	f := m.flexible.intersect(m.valid)
	if f.empty() {
		return "noFlexibleVersions"
	}
	return fmt.Sprint(f.lo)
}
