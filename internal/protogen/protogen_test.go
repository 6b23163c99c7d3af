package main

import (
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/internal/testcluster"
)

func TestStripComments(t *testing.T) {
	in := `{ // a comment
  "about": "see https://kafka.apache.org // not a comment", // trailing
  "q": "escaped \" quote // still a string"
}
// last line`
	out := string(stripComments([]byte(in)))
	require.Equal(t, `{ 
  "about": "see https://kafka.apache.org // not a comment", 
  "q": "escaped \" quote // still a string"
}
`, out)
}

func TestParseVersions(t *testing.T) {
	for in, want := range map[string]vrange{
		"3+":   {3, math.MaxInt16},
		"0-2":  {0, 2},
		"5":    {5, 5},
		"none": noVersions,
		"":     noVersions,
	} {
		got, err := parseVersions(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, bad := range []string{"x", "3-1", "-1+", "2-x", "1.5"} {
		_, err := parseVersions(bad)
		require.Error(t, err, bad)
	}
	require.Equal(t, "3+", vrange{3, math.MaxInt16}.String())
	require.Equal(t, "0-2", vrange{0, 2}.String())
	require.Equal(t, "none", noVersions.String())
}

func TestCond(t *testing.T) {
	ctx := vrange{0, 12}
	require.Equal(t, "true", cond(vrange{0, math.MaxInt16}, ctx))
	require.Equal(t, "version >= 3", cond(vrange{3, math.MaxInt16}, ctx))
	require.Equal(t, "version <= 2", cond(vrange{0, 2}, ctx))
	require.Equal(t, "version >= 8 && version <= 10", cond(vrange{8, 10}, ctx))
	require.Equal(t, "false", cond(vrange{13, 20}, ctx))
	require.Equal(t, "false", cond(noVersions, ctx))
	require.Equal(t, "true", cond(vrange{12, math.MaxInt16}, vrange{12, 17}))
}

func TestNames(t *testing.T) {
	require.Equal(t, "TopicID", goName("TopicId"))
	require.Equal(t, "APIKeys", goName("ApiKeys"))
	require.Equal(t, "MemberIdentity", goName("MemberIdentity"))
	require.Equal(t, "ProducerIDs", goName("ProducerIds"))
	require.Equal(t, "ThrottleTimeMs", goName("ThrottleTimeMs"))
	require.Equal(t, "offset_for_leader_epoch", snakeName("OffsetForLeaderEpoch"))
	require.Equal(t, "api_versions", snakeName("ApiVersions"))

	fetch := &message{schemaName: "FetchRequest", goName: "FetchRequest", apiName: "Fetch"}
	require.Equal(t, "FetchRequestTopic", structGoName(fetch, "FetchTopic"))
	require.Equal(t, "FetchRequestForgottenTopic", structGoName(fetch, "ForgottenTopic"))
	lo := &message{schemaName: "ListOffsetsResponse", goName: "ListOffsetsResponse", apiName: "ListOffsets"}
	require.Equal(t, "ListOffsetsResponseTopic", structGoName(lo, "ListOffsetsTopicResponse"))
	md := &message{schemaName: "MetadataResponse", goName: "MetadataResponse", apiName: "Metadata"}
	require.Equal(t, "MetadataResponseBroker", structGoName(md, "MetadataResponseBroker"))
	pr := &message{schemaName: "ProduceResponse", goName: "ProduceResponse", apiName: "Produce"}
	require.Equal(t, "ProduceResponseTopic", structGoName(pr, "TopicProduceResponse"), "from structRenames")
}

// writeSchemas writes synthetic schema files into a temporary directory.
func writeSchemas(t *testing.T, files map[string]string) string {
	dir := t.TempDir()
	for name, body := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name+".json"), []byte(body), 0o644))
	}
	return dir
}

const testRequest = `// header comment
{
  "apiKey": 90, "type": "request", "name": "TestThingRequest",
  "validVersions": "0-3", "flexibleVersions": "2+",
  "fields": [
    { "name": "Ratio", "type": "float64", "versions": "0+", "default": "1.5" },
    { "name": "Port", "type": "uint16", "versions": "1+", "default": "9092" },
    { "name": "Leader", "type": "Endpoint", "versions": "2+", "taggedVersions": "2+", "tag": 4 },
    { "name": "Others", "type": "[]Endpoint", "versions": "0+" },
    { "name": "Legacy", "type": "string", "versions": "0+", "flexibleVersions": "none",
      "about": "// kept classic, like the request header's client id" }
  ],
  "commonStructs": [
    { "name": "Endpoint", "versions": "0+", "fields": [
      { "name": "Host", "type": "string", "versions": "0+", "nullableVersions": "1+", "default": "null" }
    ]}
  ]
}`

const testResponse = `{
  "apiKey": 90, "type": "response", "name": "TestThingResponse",
  "validVersions": "0-3", "flexibleVersions": "2+",
  "fields": [ { "name": "ErrorCode", "type": "int16", "versions": "0+" } ]
}`

func TestGenerateSyntheticSchema(t *testing.T) {
	dir := writeSchemas(t, map[string]string{"TestThingRequest": testRequest, "TestThingResponse": testResponse})
	files, err := generate(os.DirFS(dir), nil, "0.0.1", nil)
	require.NoError(t, err)
	src := string(files["api_test_thing.gen.go"])
	for _, want := range []string{
		"type TestThingRequestEndpoint struct", // common struct named after the message
		"Leader TestThingRequestEndpoint `kafka:\"2+,tag=4\"`",
		"Ratio:  1.5", // non-zero defaults in Default
		"Port:   9092",
		"dst = AppendFloat64(dst, s.Ratio)",
		"appendStr(dst, s.Legacy, false)", // field-level flexibleVersions: none
		"case tag == 4:",                  // the tagged struct is decoded by tag
		"!s.Leader.isDefault()",           // and written only when not default
		"func (s *TestThingRequestEndpoint) isDefault() bool",
		"appendNullStr(dst, s.Host, version >= 2, version >= 1)",
	} {
		require.Contains(t, strings.Join(strings.Fields(src), " "), strings.Join(strings.Fields(want), " "))
	}
	require.Contains(t, string(files["api_registry.gen.go"]), "APIKeyTestThing int16 = 90")
}

func TestGenerateRejectsUnknownSchemaFeatures(t *testing.T) {
	for name, req := range map[string]string{
		"unknown key":  strings.Replace(testRequest, `"default": "1.5"`, `"default": "1.5", "frobnicate": true`, 1),
		"unknown type": strings.Replace(testRequest, `"type": "float64"`, `"type": "int128"`, 1),
		"bad default":  strings.Replace(testRequest, `"default": "9092"`, `"default": "70000"`, 1),
		"tag twice":    strings.Replace(testRequest, `"tag": 4`, `"tag": 4 }, { "name": "Dup", "type": "int8", "versions": "2+", "taggedVersions": "2+", "tag": 4`, 1),
	} {
		dir := writeSchemas(t, map[string]string{"TestThingRequest": req, "TestThingResponse": testResponse})
		_, err := generate(os.DirFS(dir), nil, "0.0.1", nil)
		require.Error(t, err, name)
	}
}

// TestGeneratedFilesUpToDate regenerates from the pinned release's
// kafka-clients jar into a temporary directory and compares with the
// committed files, so a change to the generator or the release cannot be
// committed without regenerating.
func TestGeneratedFilesUpToDate(t *testing.T) {
	files, err := generateRelease(testcluster.KRaftVersion, testcluster.ZooKeeperVersion)
	if errors.Is(err, testcluster.ErrMissingTool) {
		t.Skip("cannot resolve the kafka-clients jars to compare against:", err)
	}
	require.NoError(t, err)
	again, err := generateRelease(testcluster.KRaftVersion, testcluster.ZooKeeperVersion)
	require.NoError(t, err)
	require.Equal(t, files, again, "generation must be deterministic")
	require.Greater(t, len(files), 90, "every API of the release")

	tmp := t.TempDir()
	require.NoError(t, writeFiles(tmp, files))
	out := "../../protocol"
	for name := range files {
		want, err := os.ReadFile(filepath.Join(tmp, name))
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join(out, name))
		require.NoError(t, err, "%s is missing: run make generate", name)
		require.True(t, string(got) == string(want), "%s is stale: run make generate", name)
	}
	entries, err := os.ReadDir(out)
	require.NoError(t, err)
	for _, e := range entries {
		if isGenerated(e.Name()) {
			require.Contains(t, files, e.Name(), "stale generated file: run make generate")
		}
	}
}

func TestWriteFilesRemovesStale(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, "api_gone.gen.go")
	other := filepath.Join(dir, "record.go")
	require.NoError(t, os.WriteFile(stale, []byte("x"), 0o644))
	require.NoError(t, os.WriteFile(other, []byte("y"), 0o644))
	require.NoError(t, writeFiles(dir, map[string][]byte{"api_new.gen.go": []byte("package p\n")}))
	_, err := os.Stat(stale)
	require.True(t, os.IsNotExist(err))
	_, err = os.Stat(other)
	require.NoError(t, err, "files the generator does not own are left alone")
	b, err := os.ReadFile(filepath.Join(dir, "api_new.gen.go"))
	require.NoError(t, err)
	require.Equal(t, "package p\n", string(b))
}

// TestSyntheticOutputCompiles builds the generated code for the synthetic
// schema together with the protocol package's hand-written runtime, which
// exercises the schema features the real APIs do not use (float64, uint16,
// common structs, field-level flexibleVersions).
func TestSyntheticOutputCompiles(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go tool")
	}
	dir := writeSchemas(t, map[string]string{"TestThingRequest": testRequest, "TestThingResponse": testResponse})
	files, err := generate(os.DirFS(dir), nil, "0.0.1", nil)
	require.NoError(t, err)
	pkg := t.TempDir()
	for name, src := range files {
		require.NoError(t, os.WriteFile(filepath.Join(pkg, name), src, 0o644))
	}
	runtime, err := filepath.Glob("../../protocol/wire*.go")
	require.NoError(t, err)
	runtime = append(runtime, "../../protocol/message.go")
	for _, f := range runtime {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(pkg, filepath.Base(f)), b, 0o644))
	}
	require.NoError(t, os.WriteFile(filepath.Join(pkg, "go.mod"), []byte("module synthetic\n\ngo 1.24\n"), 0o644))
	cmd := exec.Command("go", "vet", ".")
	cmd.Dir = pkg
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
}
