package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// message is one schema file turned into Go terms.
type message struct {
	schemaName string // "FetchRequest"
	goName     string // "FetchRequest"
	apiName    string // "Fetch"; for data types the schema name
	kind       string // "request", "response" or "data"
	apiKey     int16
	valid      vrange
	flexible   vrange
	top        *structDef
	structs    []*structDef // top first, then nested in order of appearance
}

type structDef struct {
	msg        *message
	schemaName string
	goName     string
	fields     []*field
	// usage is the hull of the versions in which this struct is encoded; code
	// for it only checks versions inside this range.
	usage       vrange
	parentField string // "FetchRequest.Topics", for the doc comment
	parentArray bool   // parentField is an array of this struct
	isDefaultFn bool   // an isDefault method is needed (tagged use)
	canFail     bool   // encoding can return an error (holds strings)
}

type field struct {
	schemaName string
	goName     string
	t          *ftype
	versions   vrange
	nullable   vrange
	tagged     vrange
	tag        int64 // -1 when never tagged
	flex       *vrange
	def        string // raw schema default, "" when absent
	hasDef     bool
	about      string // the schema's description of the field
}

type kind int

const (
	kInt8 kind = iota
	kInt16
	kInt32
	kInt64
	kUint16
	kUint32
	kFloat64
	kBool
	kString
	kBytes
	kRecords
	kUUID
	kStruct
	kArray
)

type ftype struct {
	k    kind
	elem *ftype
	st   *structDef
	// ptr marks a nullable struct field: a Go pointer, encoded after an int8
	// presence marker (-1 null, 1 present).
	ptr bool
}

var primitives = map[string]kind{
	"int8": kInt8, "int16": kInt16, "int32": kInt32, "int64": kInt64,
	"uint16": kUint16, "uint32": kUint32, "float64": kFloat64, "bool": kBool,
	"string": kString, "bytes": kBytes, "records": kRecords, "uuid": kUUID,
}

// builder turns a schema into a message.
type builder struct {
	m       *message
	common  map[string]schemaStruct
	defined map[string]*structDef // schema struct name -> definition
}

func buildMessage(s *schemaFile, kind string) (*message, error) {
	m := &message{schemaName: s.Name, goName: goName(s.Name), kind: kind}
	switch kind {
	case "request", "response":
		if s.Type != kind || s.APIKey == nil {
			return nil, fmt.Errorf("%s: expected a %s with an apiKey", s.Name, kind)
		}
		m.apiKey = *s.APIKey
		m.apiName = strings.TrimSuffix(strings.TrimSuffix(s.Name, "Request"), "Response")
	case "data":
		if s.Type != "data" {
			return nil, fmt.Errorf("%s: expected type data", s.Name)
		}
		m.apiName = s.Name
	}
	var err error
	if m.valid, err = parseVersions(s.ValidVersions); err != nil || m.valid.empty() {
		return nil, fmt.Errorf("%s: validVersions %q: %v", s.Name, s.ValidVersions, err)
	}
	if m.flexible, err = parseVersions(s.FlexibleVersions); err != nil {
		return nil, fmt.Errorf("%s: flexibleVersions: %w", s.Name, err)
	}
	b := &builder{m: m, common: map[string]schemaStruct{}, defined: map[string]*structDef{}}
	for _, c := range s.CommonStructs {
		b.common[c.Name] = c
	}
	top := &structDef{msg: m, schemaName: s.Name, goName: m.goName, usage: noVersions}
	m.structs = append(m.structs, top)
	m.top = top
	if err := b.fillStruct(top, s.Fields); err != nil {
		return nil, fmt.Errorf("%s: %w", s.Name, err)
	}
	b.markUsage(top, m.valid)
	markIsDefault(m)
	for _, st := range m.structs {
		if err := checkStruct(st); err != nil {
			return nil, fmt.Errorf("%s: %w", s.Name, err)
		}
	}
	markCanFail(m)
	return m, nil
}

func (b *builder) fillStruct(st *structDef, fields []schemaField) error {
	seen := map[string]bool{}
	for _, sf := range fields {
		f, err := b.buildField(st, sf)
		if err != nil {
			return fmt.Errorf("field %s: %w", sf.Name, err)
		}
		if seen[f.goName] || f.goName == "UnknownTags" {
			return fmt.Errorf("field %s: Go name %s is taken", sf.Name, f.goName)
		}
		seen[f.goName] = true
		st.fields = append(st.fields, f)
	}
	return nil
}

func (b *builder) buildField(parent *structDef, sf schemaField) (*field, error) {
	f := &field{schemaName: sf.Name, goName: goName(sf.Name), tag: -1, about: strings.TrimSpace(sf.About)}
	var err error
	if f.versions, err = parseVersions(sf.Versions); err != nil || f.versions.empty() {
		return nil, fmt.Errorf("versions %q: %v", sf.Versions, err)
	}
	if f.nullable, err = parseVersions(sf.NullableVersions); err != nil {
		return nil, err
	}
	if f.tagged, err = parseVersions(sf.TaggedVersions); err != nil {
		return nil, err
	}
	if sf.FlexibleVersions != "" {
		r, err := parseVersions(sf.FlexibleVersions)
		if err != nil {
			return nil, err
		}
		f.flex = &r
	}
	switch {
	case sf.Tag != nil && f.tagged.empty():
		return nil, fmt.Errorf("tag without taggedVersions")
	case sf.Tag == nil && !f.tagged.empty():
		return nil, fmt.Errorf("taggedVersions without tag")
	case sf.Tag != nil:
		if *sf.Tag < 0 || *sf.Tag > math.MaxUint32 {
			return nil, fmt.Errorf("tag %d out of range", *sf.Tag)
		}
		f.tag = *sf.Tag
		// A field is tagged either in all its versions or from some version
		// to its last; anything else would need two regular ranges.
		if !f.versions.covers(f.tagged) || f.tagged.hi != f.versions.hi {
			return nil, fmt.Errorf("taggedVersions %s must end where versions %s end", f.tagged, f.versions)
		}
		if !m(b).flexible.covers(f.tagged.intersect(m(b).valid)) {
			return nil, fmt.Errorf("tagged in non-flexible versions")
		}
	}
	if len(sf.Default) > 0 {
		f.hasDef = true
		f.def = string(sf.Default)
		if sf.Default[0] == '"' {
			if f.def, err = strconv.Unquote(string(sf.Default)); err != nil {
				return nil, fmt.Errorf("default %s: %v", sf.Default, err)
			}
		}
	}
	if f.t, err = b.buildType(parent, f, sf); err != nil {
		return nil, err
	}
	if !f.nullable.empty() && f.t.k == kStruct {
		// Java's generator writes the marker only in nullable versions; every
		// schema so far makes such a field nullable wherever it exists.
		if f.nullable != f.versions.intersect(m(b).valid) && f.nullable != f.versions {
			return nil, fmt.Errorf("struct %s nullable in %s, not in all its versions %s", sf.Type, f.nullable, f.versions)
		}
		if f.tag >= 0 {
			return nil, fmt.Errorf("tagged nullable struct %s is not supported", sf.Type)
		}
		if f.hasDef && f.def != "null" {
			return nil, fmt.Errorf("nullable struct %s: default %q", sf.Type, f.def)
		}
		f.t.ptr = true
	}
	if !f.nullable.empty() && !f.t.nullableKind() {
		return nil, fmt.Errorf("type %s cannot be nullable", sf.Type)
	}
	if err := checkDefault(f); err != nil {
		return nil, err
	}
	return f, nil
}

func m(b *builder) *message { return b.m }

func (t *ftype) nullableKind() bool {
	if t.ptr {
		return true
	}
	switch t.k {
	case kString, kBytes, kRecords, kArray:
		return true
	}
	return false
}

func (b *builder) buildType(parent *structDef, f *field, sf schemaField) (*ftype, error) {
	name := sf.Type
	isArray := strings.HasPrefix(name, "[]")
	elemName := strings.TrimPrefix(name, "[]")
	var elem *ftype
	if k, ok := primitives[elemName]; ok {
		if len(sf.Fields) > 0 {
			return nil, fmt.Errorf("primitive type %s with fields", name)
		}
		if isArray && (k == kRecords || k == kBytes) {
			return nil, fmt.Errorf("arrays of %s are not supported", elemName)
		}
		elem = &ftype{k: k}
	} else {
		if strings.HasPrefix(elemName, "[]") || elemName == "" || !strings.ContainsAny(elemName[:1], "ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
			return nil, fmt.Errorf("unsupported type %s", name)
		}
		st, err := b.structType(parent, f, elemName, sf.Fields, isArray)
		if err != nil {
			return nil, err
		}
		elem = &ftype{k: kStruct, st: st}
	}
	if isArray {
		return &ftype{k: kArray, elem: elem}, nil
	}
	return elem, nil
}

// structType defines the struct a field refers to: inline (the field lists
// its fields) or from commonStructs (defined once, shared).
func (b *builder) structType(parent *structDef, f *field, name string, fields []schemaField, isArray bool) (*structDef, error) {
	if st, ok := b.defined[name]; ok {
		if len(fields) > 0 {
			return nil, fmt.Errorf("struct %s defined twice", name)
		}
		return st, nil
	}
	if len(fields) == 0 {
		c, ok := b.common[name]
		if !ok {
			return nil, fmt.Errorf("unknown struct type %s", name)
		}
		fields = c.Fields
	} else if _, ok := b.common[name]; ok {
		return nil, fmt.Errorf("struct %s is both inline and common", name)
	}
	st := &structDef{
		msg:         b.m,
		schemaName:  name,
		goName:      structGoName(b.m, name),
		parentField: parent.goName + "." + f.goName,
		parentArray: isArray,
		usage:       noVersions,
	}
	b.defined[name] = st
	b.m.structs = append(b.m.structs, st)
	if err := b.fillStruct(st, fields); err != nil {
		return nil, fmt.Errorf("struct %s: %w", name, err)
	}
	return st, nil
}

// markUsage widens each struct's usage range by the versions in which it is
// reached from the top level.
func (b *builder) markUsage(st *structDef, r vrange) {
	if r.empty() || st.usage.covers(r) {
		return
	}
	st.usage = st.usage.hull(r)
	for _, f := range st.fields {
		sub := f.versions.intersect(r)
		t := f.t
		if t.k == kArray {
			t = t.elem
		}
		if t.k == kStruct {
			b.markUsage(t.st, sub)
			if !f.tagged.empty() && f.t.k == kStruct {
				t.st.isDefaultFn = true
			}
		}
	}
}

// checkStruct rejects duplicate tags and structures the decoder could not
// bound: an element that may encode to zero bytes would let a count exceed
// the remaining bytes.
func checkStruct(st *structDef) error {
	tags := map[int64]bool{}
	for _, f := range st.fields {
		if f.tag >= 0 {
			if tags[f.tag] {
				return fmt.Errorf("struct %s uses tag %d twice", st.schemaName, f.tag)
			}
			tags[f.tag] = true
		}
	}
	if st == st.msg.top {
		return nil // only array elements need a non-zero size
	}
	for v := st.usage.lo; !st.usage.empty() && v <= st.usage.hi; v++ {
		if minSize(st, v) == 0 {
			return fmt.Errorf("struct %s encodes to zero bytes at version %d", st.schemaName, v)
		}
		if v == math.MaxInt16 {
			break
		}
	}
	return nil
}

// markIsDefault extends the need for isDefault to the structs it recurses
// into.
func markIsDefault(m *message) {
	for changed := true; changed; {
		changed = false
		for _, st := range m.structs {
			if !st.isDefaultFn {
				continue
			}
			for _, f := range st.fields {
				if f.t.k == kStruct && !f.t.st.isDefaultFn {
					f.t.st.isDefaultFn, changed = true, true
				}
			}
		}
	}
}

func markCanFail(m *message) {
	// Iterate to a fixed point: a struct can fail if it holds a string or a
	// struct that can fail.
	for changed := true; changed; {
		changed = false
		for _, st := range m.structs {
			if st.canFail {
				continue
			}
			for _, f := range st.fields {
				t := f.t
				if t.k == kArray {
					t = t.elem
				}
				if t.k == kString || (t.k == kStruct && t.st.canFail) {
					st.canFail, changed = true, true
					break
				}
			}
		}
	}
}

// isFlexible reports whether field f is encoded compactly at version v.
func (f *field) isFlexible(msg *message, v int16) bool {
	if f.flex != nil {
		return f.flex.contains(v)
	}
	return msg.flexible.contains(v)
}

// regular is the range in which f is encoded in the fixed part of its
// struct (not as a tagged field).
func (f *field) regular() vrange {
	if f.tagged.empty() {
		return f.versions
	}
	if f.tagged.lo <= f.versions.lo {
		return noVersions
	}
	return vrange{f.versions.lo, f.tagged.lo - 1}
}

// nullableAnywhere reports whether the Go type must represent null.
func (f *field) nullableAnywhere() bool { return !f.nullable.empty() }

// minSize is the smallest number of bytes st can encode to at version v.
func minSize(st *structDef, v int16) int {
	n := 0
	for _, f := range st.fields {
		if f.regular().contains(v) {
			n += minTypeSize(f.t, f.isFlexible(st.msg, v), st, v)
		}
	}
	if st.msg.flexible.contains(v) {
		n++ // the tag section's count
	}
	return n
}

func minTypeSize(t *ftype, flex bool, st *structDef, v int16) int {
	switch t.k {
	case kInt8, kBool:
		return 1
	case kInt16, kUint16:
		return 2
	case kInt32, kUint32:
		return 4
	case kInt64, kFloat64:
		return 8
	case kUUID:
		return 16
	case kString:
		if flex {
			return 1
		}
		return 2
	case kBytes, kRecords, kArray:
		if flex {
			return 1
		}
		return 4
	case kStruct:
		if t.ptr {
			return 1 // the null marker
		}
		return minSize(t.st, v)
	}
	panic("unreachable")
}

// minElemSize is the smallest encoded size of one element of array field f
// over all versions in which the field appears inside r.
func minElemSize(f *field, msg *message, r vrange) int {
	r = r.intersect(f.versions)
	best := math.MaxInt
	for v := r.lo; !r.empty() && v <= r.hi; v++ {
		flex := f.isFlexible(msg, v)
		var n int
		if f.t.elem.k == kStruct {
			n = minSize(f.t.elem.st, v)
		} else {
			n = minTypeSize(f.t.elem, flex, nil, v)
		}
		best = min(best, n)
		if v == math.MaxInt16 {
			break
		}
	}
	if best == math.MaxInt || best < 1 {
		return 1
	}
	return best
}

// checkDefault validates a schema default against the field type.
func checkDefault(f *field) error {
	if !f.hasDef {
		return nil
	}
	switch f.t.k {
	case kInt8, kInt16, kInt32, kInt64:
		bits := map[kind]int{kInt8: 8, kInt16: 16, kInt32: 32, kInt64: 64}[f.t.k]
		if _, err := strconv.ParseInt(f.def, 0, bits); err != nil {
			return fmt.Errorf("default %q: %v", f.def, err)
		}
	case kUint16, kUint32:
		bits := map[kind]int{kUint16: 16, kUint32: 32}[f.t.k]
		if _, err := strconv.ParseUint(f.def, 0, bits); err != nil {
			return fmt.Errorf("default %q: %v", f.def, err)
		}
	case kFloat64:
		if _, err := strconv.ParseFloat(f.def, 64); err != nil {
			return fmt.Errorf("default %q: %v", f.def, err)
		}
	case kBool:
		if f.def != "true" && f.def != "false" {
			return fmt.Errorf("default %q for bool", f.def)
		}
	case kString:
		if f.def == "null" && !f.nullableAnywhere() {
			return fmt.Errorf("null default for a non-nullable string")
		}
	case kBytes, kRecords, kArray:
		if f.def != "null" || !f.nullableAnywhere() {
			return fmt.Errorf("default %q for %s", f.def, "a non-scalar")
		}
	case kStruct:
		if !f.t.ptr || f.def != "null" {
			return fmt.Errorf("default %q for a struct", f.def)
		}
	default:
		return fmt.Errorf("defaults for this type are not supported")
	}
	return nil
}

// defaultLiteral is the Go expression for a scalar field's default, or "" for
// the Go zero value.
func defaultLiteral(f *field) string {
	if !f.hasDef {
		return ""
	}
	switch f.t.k {
	case kString:
		if f.nullableAnywhere() {
			if f.def == "null" {
				return ""
			}
			return "stringPtr(" + strconv.Quote(f.def) + ")"
		}
		if f.def == "" {
			return ""
		}
		return strconv.Quote(f.def)
	case kBytes, kRecords, kArray, kStruct:
		return ""
	case kBool:
		if f.def == "false" {
			return ""
		}
		return f.def
	}
	if n, err := strconv.ParseFloat(f.def, 64); err == nil && n == 0 {
		return ""
	}
	return f.def
}
