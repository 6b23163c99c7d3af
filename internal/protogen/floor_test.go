package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestWithFloorRestoresRemovedVersions(t *testing.T) {
	cur := &schemaFile{Name: "ThingRequest", ValidVersions: "2-5", Fields: []schemaField{
		{Name: "A", Versions: "0+"},
		{Name: "C", Versions: "2+", Fields: []schemaField{{Name: "X", Versions: "2+"}}},
		{Name: "D", Versions: "4+"},
	}}
	old := &schemaFile{Name: "ThingRequest", ValidVersions: "0-4", Fields: []schemaField{
		{Name: "A", Versions: "0+"},
		{Name: "B", Versions: "0-1"}, // only the removed versions had it
		{Name: "C", Versions: "0+", Fields: []schemaField{{Name: "Old", Versions: "0"}, {Name: "X", Versions: "0+"}}},
		{Name: "D", Versions: "4+"},
	}}
	got, err := withFloor(cur, old)
	require.NoError(t, err)
	require.Equal(t, "0-5", got.ValidVersions)
	require.Equal(t, []schemaField{
		{Name: "A", Versions: "0+"},
		{Name: "B", Versions: "0-1"},
		{Name: "C", Versions: "0+", Fields: []schemaField{{Name: "Old", Versions: "0"}, {Name: "X", Versions: "0+"}}},
		{Name: "D", Versions: "4+"},
	}, got.Fields)
	require.Equal(t, "2-5", cur.ValidVersions, "the input is not modified")

	// A field the floor had in versions the newer schema still defines
	// cannot be restored: the schemas disagree.
	old.Fields[1].Versions = "0-3"
	_, err = withFloor(cur, old)
	require.ErrorContains(t, err, "field B")

	// Early-access versions replaced wholesale are not merged.
	early := &schemaFile{Name: "ThingRequest", ValidVersions: "0", Fields: []schemaField{{Name: "Z", Versions: "0+"}}}
	got, err = withFloor(cur, early)
	require.NoError(t, err)
	require.Same(t, cur, got)
}
