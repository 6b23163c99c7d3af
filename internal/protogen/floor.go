package main

import (
	"fmt"
	"io/fs"
	"math"
)

// Kafka 4 removed the oldest versions of many APIs (Produce 0-2, Fetch 0-3,
// ListOffsets 0, ...) and the fields only those versions had. gregor still
// speaks to brokers that need them, so the schemas of the release before the
// removal (the floor) put them back: withFloor lowers a schema's first
// version to the floor's and re-inserts the floor's fields that the newer
// schema dropped, in the floor's order.

// loadWithFloor loads a schema and, when it no longer starts at version 0,
// merges it with the floor release's schema of the same name.
func loadWithFloor(fsys, floor fs.FS, name string) (*schemaFile, error) {
	s, err := loadSchema(fsys, name)
	if err != nil || floor == nil {
		return s, err
	}
	if v, err := parseVersions(s.ValidVersions); err != nil || v.lo == 0 {
		return s, nil // nothing removed (a bad range is reported by buildMessage)
	}
	old, err := loadSchema(floor, name)
	if err != nil {
		if _, statErr := fs.Stat(floor, name+".json"); statErr != nil {
			return s, nil // an API newer than the floor
		}
		return nil, fmt.Errorf("floor: %w", err)
	}
	return withFloor(s, old)
}

// withFloor returns s extended down to old's first version.
func withFloor(s, old *schemaFile) (*schemaFile, error) {
	nv, err := parseVersions(s.ValidVersions)
	if err != nil {
		return nil, err
	}
	ov, err := parseVersions(old.ValidVersions)
	if err != nil {
		return nil, err
	}
	// Only a cut prefix of versions still in use is restored: where the floor
	// ends before the newer range begins (early-access share-group v0), the
	// old versions were replaced, not removed.
	if ov.empty() || nv.empty() || ov.lo >= nv.lo || ov.hi < nv.lo {
		return s, nil
	}
	out := *s
	out.ValidVersions = vrange{ov.lo, nv.hi}.String()
	if out.Fields, err = mergeFields(s.Fields, old.Fields, nv.lo); err != nil {
		return nil, fmt.Errorf("%s: %w", s.Name, err)
	}
	out.CommonStructs = append([]schemaStruct(nil), s.CommonStructs...)
	for _, oc := range old.CommonStructs {
		i := indexStruct(out.CommonStructs, oc.Name)
		if i < 0 {
			out.CommonStructs = append(out.CommonStructs, oc)
			continue
		}
		c := out.CommonStructs[i]
		if c.Fields, err = mergeFields(c.Fields, oc.Fields, nv.lo); err != nil {
			return nil, fmt.Errorf("%s.%s: %w", s.Name, c.Name, err)
		}
		if c.Versions, err = lowerTo(c.Versions, oc.Versions, nv.lo); err != nil {
			return nil, err
		}
		out.CommonStructs[i] = c
	}
	return &out, nil
}

// mergeFields returns cur with the fields of old that cur lacks inserted
// after the field that precedes them in old. A field both have keeps cur's
// definition, with its versions lowered when cur starts them at the removal
// point (newLo) and old started them earlier.
func mergeFields(cur, old []schemaField, newLo int16) ([]schemaField, error) {
	out := append([]schemaField(nil), cur...)
	pos := 0 // insertion point: after the last old field found in out
	for _, of := range old {
		i := indexField(out, of.Name)
		if i < 0 {
			ov, err := parseVersions(of.Versions)
			if err != nil {
				return nil, err
			}
			if !ov.empty() && ov.hi != math.MaxInt16 && ov.hi >= newLo {
				return nil, fmt.Errorf("field %s (versions %s) was removed from versions the newer schema still has", of.Name, ov)
			}
			out = append(out[:pos], append([]schemaField{of}, out[pos:]...)...)
			pos++
			continue
		}
		f := out[i]
		var err error
		if f.Versions, err = lowerTo(f.Versions, of.Versions, newLo); err != nil {
			return nil, fmt.Errorf("field %s: %w", f.Name, err)
		}
		if len(of.Fields) > 0 {
			if f.Fields, err = mergeFields(f.Fields, of.Fields, newLo); err != nil {
				return nil, fmt.Errorf("field %s: %w", f.Name, err)
			}
		}
		out[i] = f
		pos = i + 1
	}
	return out, nil
}

// lowerTo returns cur's range started at old's first version when cur starts
// exactly at newLo (the newer schema cut it there) and old started earlier.
func lowerTo(cur, old string, newLo int16) (string, error) {
	cv, err := parseVersions(cur)
	if err != nil {
		return "", err
	}
	ov, err := parseVersions(old)
	if err != nil {
		return "", err
	}
	if cv.empty() || ov.empty() || cv.lo != newLo || ov.lo >= newLo {
		return cur, nil
	}
	return vrange{ov.lo, cv.hi}.String(), nil
}

func indexField(fs []schemaField, name string) int {
	for i, f := range fs {
		if f.Name == name {
			return i
		}
	}
	return -1
}

func indexStruct(ss []schemaStruct, name string) int {
	for i, s := range ss {
		if s.Name == name {
			return i
		}
	}
	return -1
}
