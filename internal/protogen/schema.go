package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"math"
	"strconv"
	"strings"
)

// schemaFile is one message definition as Kafka's JSON schema files write it.
type schemaFile struct {
	APIKey                *int16         `json:"apiKey"`
	Type                  string         `json:"type"`
	Name                  string         `json:"name"`
	ValidVersions         string         `json:"validVersions"`
	FlexibleVersions      string         `json:"flexibleVersions"`
	Fields                []schemaField  `json:"fields"`
	CommonStructs         []schemaStruct `json:"commonStructs"`
	Listeners             []string       `json:"listeners"`
	DeprecatedVersions    string         `json:"deprecatedVersions"`
	LatestVersionUnstable bool           `json:"latestVersionUnstable"`
}

type schemaStruct struct {
	Name     string        `json:"name"`
	Versions string        `json:"versions"`
	Fields   []schemaField `json:"fields"`
}

type schemaField struct {
	Name             string          `json:"name"`
	Type             string          `json:"type"`
	Versions         string          `json:"versions"`
	NullableVersions string          `json:"nullableVersions"`
	TaggedVersions   string          `json:"taggedVersions"`
	FlexibleVersions string          `json:"flexibleVersions"`
	Tag              *int64          `json:"tag"`
	Default          json.RawMessage `json:"default"`
	Fields           []schemaField   `json:"fields"`
	About            string          `json:"about"` // becomes the Go field's doc comment
	// Read so that unknown keys are caught, but not needed for encoding.
	Ignorable  bool   `json:"ignorable"`
	MapKey     bool   `json:"mapKey"`
	EntityType string `json:"entityType"`
	ZeroCopy   bool   `json:"zeroCopy"`
}

// loadSchema reads name.json from fsys. Unknown keys are an error so that a
// schema feature this generator does not implement cannot be silently ignored.
func loadSchema(fsys fs.FS, name string) (*schemaFile, error) {
	path := name + ".json"
	raw, err := fs.ReadFile(fsys, path)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(stripComments(raw)))
	dec.DisallowUnknownFields()
	var s schemaFile
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if s.Name != name {
		return nil, fmt.Errorf("%s: name is %q", path, s.Name)
	}
	return &s, nil
}

// stripComments removes // comments, leaving string literals (which may hold
// URLs) untouched. Newlines are kept so JSON error offsets stay meaningful.
func stripComments(src []byte) []byte {
	out := make([]byte, 0, len(src))
	inString, escaped := false, false
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case inString:
			out = append(out, c)
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
			out = append(out, c)
		case c == '/' && i+1 < len(src) && src[i+1] == '/':
			for i < len(src) && src[i] != '\n' {
				i++
			}
			if i < len(src) {
				out = append(out, '\n')
			}
		default:
			out = append(out, c)
		}
	}
	return out
}

// vrange is an inclusive version range; lo > hi means no versions.
type vrange struct{ lo, hi int16 }

var noVersions = vrange{1, 0}

func (r vrange) empty() bool           { return r.lo > r.hi }
func (r vrange) contains(v int16) bool { return v >= r.lo && v <= r.hi }
func (r vrange) covers(o vrange) bool {
	return o.empty() || (!r.empty() && r.lo <= o.lo && o.hi <= r.hi)
}
func (r vrange) intersect(o vrange) vrange { return vrange{max(r.lo, o.lo), min(r.hi, o.hi)} }

// hull is the smallest range containing both.
func (r vrange) hull(o vrange) vrange {
	switch {
	case r.empty():
		return o
	case o.empty():
		return r
	}
	return vrange{min(r.lo, o.lo), max(r.hi, o.hi)}
}

func (r vrange) String() string {
	switch {
	case r.empty():
		return "none"
	case r.hi == math.MaxInt16:
		return strconv.Itoa(int(r.lo)) + "+"
	case r.lo == r.hi:
		return strconv.Itoa(int(r.lo))
	}
	return strconv.Itoa(int(r.lo)) + "-" + strconv.Itoa(int(r.hi))
}

// parseVersions parses "3+", "0-2", "5" and "none". An empty string means
// none.
func parseVersions(s string) (vrange, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "none" {
		return noVersions, nil
	}
	num := func(t string) (int16, error) {
		n, err := strconv.ParseInt(t, 10, 16)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("bad version %q", s)
		}
		return int16(n), nil
	}
	if strings.HasSuffix(s, "+") {
		lo, err := num(strings.TrimSuffix(s, "+"))
		return vrange{lo, math.MaxInt16}, err
	}
	if lo, hi, ok := strings.Cut(s, "-"); ok {
		l, err := num(lo)
		if err != nil {
			return noVersions, err
		}
		h, err := num(hi)
		if err != nil {
			return noVersions, err
		}
		if l > h {
			return noVersions, fmt.Errorf("bad version range %q", s)
		}
		return vrange{l, h}, nil
	}
	v, err := num(s)
	return vrange{v, v}, err
}

// cond renders a Go condition on the variable "version" that is true exactly
// for versions in r, assuming version is already known to lie in ctx.
func cond(r, ctx vrange) string {
	r = r.intersect(ctx)
	if r.empty() {
		return "false"
	}
	var parts []string
	if r.lo > ctx.lo {
		parts = append(parts, "version >= "+strconv.Itoa(int(r.lo)))
	}
	if r.hi < ctx.hi {
		parts = append(parts, "version <= "+strconv.Itoa(int(r.hi)))
	}
	if len(parts) == 0 {
		return "true"
	}
	return strings.Join(parts, " && ")
}
