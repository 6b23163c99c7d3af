// Command protogen generates gregor's Kafka message types from Kafka's JSON
// message schemas. It is run by "go generate ./protocol":
//
//	protogen -schemas <dir with *.json> -out <protocol dir>
//
// It writes one api_<name>.gen.go per API in apis, one file per data type,
// and api_registry.gen.go, and deletes generated files for APIs no longer
// listed. Output is deterministic: running it twice gives identical files.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

func main() {
	schemas := flag.String("schemas", "", "directory holding Kafka's message schema JSON files")
	outDir := flag.String("out", ".", "directory to write the generated Go files to")
	flag.Parse()
	if *schemas == "" {
		fmt.Fprintln(os.Stderr, "protogen: -schemas is required")
		os.Exit(2)
	}
	files, err := generate(*schemas, apis, dataTypes)
	if err == nil {
		err = writeFiles(*outDir, files)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "protogen:", err)
		os.Exit(1)
	}
}

// generate returns the generated files by name.
func generate(schemaDir string, apis []string, dataTypes []dataType) (map[string][]byte, error) {
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
			s, err := loadSchema(schemaDir, api+strings.ToUpper(kind[:1])+kind[1:])
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
		src, err := genAPIFile(req, resp)
		if err != nil {
			return nil, err
		}
		files["api_"+snakeName(api)+".gen.go"] = src
		pairs = append(pairs, pair)
	}
	sort.Slice(pairs, func(i, j int) bool { return pairs[i][0].apiKey < pairs[j][0].apiKey })
	src, err := genRegistry(pairs)
	if err != nil {
		return nil, err
	}
	files["api_registry.gen.go"] = src
	for _, dt := range dataTypes {
		s, err := loadSchema(schemaDir, dt.schema)
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
		if files[dt.file], err = genDataFile(m); err != nil {
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
