// Command protogen generates gregor's Kafka message types from the JSON
// message schemas inside a pinned Kafka release's kafka-clients jar. It is
// run by "go generate ./protocol":
//
//	protogen -kafka 4.3.1 -floor 3.9.2 -out <protocol dir>
//
// The jars are resolved like the test harness resolves brokers (Maven into
// GREGOR_CACHE_DIR or .cache). The floor release's schemas restore the old
// versions the newer release removed (see floor.go). Every request/response
// pair in the jar becomes one api_<name>.gen.go; the data types listed in
// dataTypes get a file each; api_registry.gen.go indexes them. Generated files
// for APIs no longer in the release are deleted. Output is deterministic:
// running it twice gives identical files.
package main

import (
	"archive/zip"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/gregorkafka/gregor/internal/testcluster"
)

// schemaPath is where kafka-clients keeps the message schemas.
const schemaPath = "common/message"

func main() {
	release := flag.String("kafka", testcluster.KRaftVersion, "Kafka release whose kafka-clients jar holds the schemas")
	floor := flag.String("floor", testcluster.ZooKeeperVersion, "older Kafka release whose schemas restore the versions -kafka removed")
	outDir := flag.String("out", ".", "directory to write the generated Go files to")
	flag.Parse()
	if err := run(*release, *floor, *outDir); err != nil {
		fmt.Fprintln(os.Stderr, "protogen:", err)
		os.Exit(1)
	}
}

func run(release, floor, outDir string) error {
	files, err := generateRelease(release, floor)
	if err != nil {
		return err
	}
	return writeFiles(outDir, files)
}

// generateRelease resolves both releases' kafka-clients jars and generates.
func generateRelease(release, floor string) (map[string][]byte, error) {
	ctx := context.Background()
	jar, err := testcluster.ClientsJar(ctx, release)
	if err != nil {
		return nil, err
	}
	fsys, closeJar, err := openSchemas(jar)
	if err != nil {
		return nil, err
	}
	defer closeJar()
	var floorFS fs.FS
	if floor != "" {
		floorJar, err := testcluster.ClientsJar(ctx, floor)
		if err != nil {
			return nil, err
		}
		f, closeFloor, err := openSchemas(floorJar)
		if err != nil {
			return nil, err
		}
		defer closeFloor()
		floorFS = f
	}
	return generate(fsys, floorFS, release, dataTypes)
}

// openSchemas opens the schema directory inside a kafka-clients jar.
func openSchemas(jar string) (fs.FS, func() error, error) {
	zr, err := zip.OpenReader(jar)
	if err != nil {
		return nil, nil, err
	}
	sub, err := fs.Sub(zr, schemaPath)
	if err != nil {
		zr.Close()
		return nil, nil, err
	}
	return sub, zr.Close, nil
}

// listAPIs returns the API names (schema name without "Request") of every
// request schema in fsys, sorted. Schemas with no valid versions (APIs the
// release has removed, kept only to reserve their key) are left out.
func listAPIs(fsys fs.FS) ([]string, error) {
	names, err := fs.Glob(fsys, "*Request.json")
	if err != nil {
		return nil, err
	}
	apis := make([]string, 0, len(names))
	for _, n := range names {
		api := strings.TrimSuffix(n, ".json")
		s, err := loadSchema(fsys, api)
		if err != nil {
			return nil, err
		}
		if v, err := parseVersions(s.ValidVersions); err != nil {
			return nil, fmt.Errorf("%s: validVersions: %w", n, err)
		} else if v.empty() {
			continue
		}
		apis = append(apis, strings.TrimSuffix(api, "Request"))
	}
	sort.Strings(apis)
	return apis, nil
}

// generate returns the generated files by name for every API in fsys.
func generate(fsys, floor fs.FS, release string, dataTypes []dataType) (map[string][]byte, error) {
	apis, err := listAPIs(fsys)
	if err != nil {
		return nil, err
	}
	if len(apis) == 0 {
		return nil, fmt.Errorf("no *Request.json schemas found")
	}
	return generateAPIs(fsys, floor, release, apis, dataTypes)
}

// generateAPIs returns the generated files for the named APIs.
func generateAPIs(fsys, floor fs.FS, release string, apis []string, dataTypes []dataType) (map[string][]byte, error) {
	files := map[string][]byte{}
	var pairs [][2]*message
	names := map[string]string{} // Go type name -> where it came from
	claim := func(m *message) error {
		for _, st := range m.structs {
			for _, n := range []string{st.goName, "New" + st.goName} {
				if prev, ok := names[n]; ok {
					return fmt.Errorf("Go name %s of %s.%s collides with %s", n, m.schemaName, st.schemaName, prev)
				}
				names[n] = m.schemaName + "." + st.schemaName
			}
		}
		return nil
	}
	seenKeys := map[int16]string{}
	for _, api := range apis {
		var pair [2]*message
		for i, kind := range []string{"request", "response"} {
			s, err := loadWithFloor(fsys, floor, api+strings.ToUpper(kind[:1])+kind[1:])
			if err != nil {
				return nil, err
			}
			if pair[i], err = buildMessage(s, kind); err != nil {
				return nil, err
			}
			if err := claim(pair[i]); err != nil {
				return nil, err
			}
		}
		req, resp := pair[0], pair[1]
		if req.apiKey != resp.apiKey || req.valid != resp.valid {
			return nil, fmt.Errorf("%s: request and response disagree on key or versions", api)
		}
		if prev, ok := seenKeys[req.apiKey]; ok {
			return nil, fmt.Errorf("%s: API key %d already used by %s", api, req.apiKey, prev)
		}
		seenKeys[req.apiKey] = api
		src, err := genAPIFile(release, req, resp)
		if err != nil {
			return nil, err
		}
		files["api_"+snakeName(api)+".gen.go"] = src
		pairs = append(pairs, pair)
	}
	sort.Slice(pairs, func(i, j int) bool { return pairs[i][0].apiKey < pairs[j][0].apiKey })
	src, err := genRegistry(release, pairs)
	if err != nil {
		return nil, err
	}
	files["api_registry.gen.go"] = src
	for _, dt := range dataTypes {
		s, err := loadWithFloor(fsys, floor, dt.schema)
		if err != nil {
			return nil, err
		}
		m, err := buildMessage(s, "data")
		if err != nil {
			return nil, err
		}
		if err := claim(m); err != nil {
			return nil, err
		}
		if files[dt.file], err = genDataFile(release, m); err != nil {
			return nil, err
		}
	}
	return files, nil
}

// isGenerated matches the files this command owns in the output directory.
func isGenerated(name string) bool {
	return strings.HasSuffix(name, ".gen.go") &&
		(strings.HasPrefix(name, "api_") || strings.HasPrefix(name, "consumer_protocol_"))
}

// writeFiles writes files into dir, leaving unchanged files untouched, and
// removes generated files that are no longer produced.
func writeFiles(dir string, files map[string][]byte) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if isGenerated(e.Name()) && files[e.Name()] == nil {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		path := filepath.Join(dir, n)
		if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, files[n]) {
			continue
		}
		if err := os.WriteFile(path, files[n], 0o644); err != nil {
			return err
		}
	}
	return nil
}
