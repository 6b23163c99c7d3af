// Command errorsgen turns the error table of a pinned Kafka release
// (org/apache/kafka/common/protocol/Errors.java in the kafka-clients sources
// jar) into protocol/errors_table.go: each code's name, message, and whether
// its exception class derives from RetriableException.
//
// Usage (from protocol/, see generate.go):
//
//	go run ../internal/errorsgen [-kafka 4.3.1 | -jar sources.jar] -o errors_table.go
package main

import (
	"archive/zip"
	"bytes"
	"context"
	"flag"
	"fmt"
	"go/format"
	"io"
	"log"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/gregorkafka/gregor/internal/testcluster"
)

type errorCode struct {
	code      int
	name      string
	message   string
	exception string // simple class name, "" for NONE
	retriable bool
}

func main() {
	out := flag.String("o", "errors_table.go", "output Go file")
	release := flag.String("kafka", testcluster.KRaftVersion, "Kafka release whose kafka-clients sources jar holds Errors.java")
	jar := flag.String("jar", "", "kafka-clients sources jar to read instead of resolving -kafka")
	flag.Parse()
	src, err := run(*release, *jar)
	if err != nil {
		log.Fatal("errorsgen: ", err)
	}
	if old, err := os.ReadFile(*out); err == nil && bytes.Equal(old, src) {
		return
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		log.Fatal(err)
	}
}

// run reads the release's sources jar and renders the table.
func run(release, jar string) ([]byte, error) {
	if jar == "" {
		var err error
		if jar, err = testcluster.ClientsSourcesJar(context.Background(), release); err != nil {
			return nil, err
		}
	}
	zr, err := zip.OpenReader(jar)
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	sources := map[string]string{} // path -> Java source, for the classes the table needs
	for _, f := range zr.File {
		if !strings.HasSuffix(f.Name, ".java") || !strings.HasPrefix(f.Name, "org/apache/kafka/common/") {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, err
		}
		sources[f.Name] = string(b)
	}
	codes, err := parseErrors(sources)
	if err != nil {
		return nil, err
	}
	return render(release, codes)
}

const errorsJava = "org/apache/kafka/common/protocol/Errors.java"

var (
	// NAME(code, "message" + "more", Exception::new) or NAME(0, null, lambda)
	entryRE   = regexp.MustCompile(`(?s)^([A-Z][A-Z0-9_]*)\(\s*(-?\d+)\s*,\s*(null|"(?:[^"\\]|\\.)*"(?:\s*\+\s*"(?:[^"\\]|\\.)*")*)\s*,\s*(?:([A-Za-z0-9_.]+)::new|[^)]*->[^)]*)\s*\)$`)
	stringRE  = regexp.MustCompile(`"((?:[^"\\]|\\.)*)"`)
	importRE  = regexp.MustCompile(`(?m)^import\s+([a-z0-9_.]+)\.([A-Z][A-Za-z0-9_]*)\s*;`)
	packageRE = regexp.MustCompile(`(?m)^package\s+([a-z0-9_.]+)\s*;`)
	extendsRE = regexp.MustCompile(`class\s+([A-Za-z0-9_]+)\s+extends\s+([A-Za-z0-9_.]+)`)
)

// parseErrors reads the enum constants of Errors.java and classifies each
// exception class by walking its superclasses.
func parseErrors(sources map[string]string) ([]errorCode, error) {
	src, ok := sources[errorsJava]
	if !ok {
		return nil, fmt.Errorf("%s not in the sources jar", errorsJava)
	}
	body, err := enumBody(src)
	if err != nil {
		return nil, err
	}
	var codes []errorCode
	seen := map[int]bool{}
	for _, entry := range splitTopLevel(body) {
		m := entryRE.FindStringSubmatch(entry)
		if m == nil {
			return nil, fmt.Errorf("%s: cannot parse enum constant %q", errorsJava, firstLine(entry))
		}
		code, err := strconv.Atoi(m[2])
		if err != nil || code < -1 || code > 32767 {
			return nil, fmt.Errorf("%s: %s: bad code %q", errorsJava, m[1], m[2])
		}
		if seen[code] {
			return nil, fmt.Errorf("%s: duplicate code %d", errorsJava, code)
		}
		seen[code] = true
		c := errorCode{code: code, name: m[1], exception: m[4]}
		for _, s := range stringRE.FindAllStringSubmatch(m[3], -1) {
			u, err := strconv.Unquote(`"` + s[1] + `"`)
			if err != nil {
				return nil, fmt.Errorf("%s: %s: message: %v", errorsJava, m[1], err)
			}
			c.message += u
		}
		if c.exception != "" {
			if c.retriable, err = isRetriable(sources, errorsJava, c.exception); err != nil {
				return nil, fmt.Errorf("%s: %w", c.name, err)
			}
		}
		codes = append(codes, c)
	}
	if !seen[0] || !seen[-1] {
		return nil, fmt.Errorf("%s: NONE or UNKNOWN_SERVER_ERROR missing; parse went wrong", errorsJava)
	}
	sort.Slice(codes, func(i, j int) bool { return codes[i].code < codes[j].code })
	return codes, nil
}

// enumBody returns the text between "public enum Errors {" and the ";" that
// ends the constants.
func enumBody(src string) (string, error) {
	start := strings.Index(src, "public enum Errors {")
	if start < 0 {
		return "", fmt.Errorf("%s: enum declaration not found", errorsJava)
	}
	rest := src[start+len("public enum Errors {"):]
	depth, inStr := 0, false
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		switch {
		case inStr:
			if c == '\\' {
				i++
			} else if c == '"' {
				inStr = false
			}
		case c == '"':
			inStr = true
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == ';' && depth == 0:
			return rest[:i], nil
		}
	}
	return "", fmt.Errorf("%s: end of enum constants not found", errorsJava)
}

// splitTopLevel splits the constants at commas outside parentheses and strings.
func splitTopLevel(body string) []string {
	var parts []string
	depth, inStr, from := 0, false, 0
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case inStr:
			if c == '\\' {
				i++
			} else if c == '"' {
				inStr = false
			}
		case c == '"':
			inStr = true
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == ',' && depth == 0:
			parts = append(parts, strings.TrimSpace(body[from:i]))
			from = i + 1
		}
	}
	if s := strings.TrimSpace(body[from:]); s != "" {
		parts = append(parts, s)
	}
	return parts
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// isRetriable follows class's superclasses, resolved through the imports and
// package of the file that names each, until RetriableException (true) or a
// class outside the sources (false: ApiException, KafkaException, ...).
func isRetriable(sources map[string]string, fromFile, class string) (bool, error) {
	for range 32 {
		if class == "RetriableException" || class == "org.apache.kafka.common.errors.RetriableException" {
			return true, nil
		}
		path, ok := resolveClass(sources, fromFile, class)
		if !ok {
			return false, nil
		}
		m := extendsRE.FindStringSubmatch(sources[path])
		if m == nil {
			return false, nil
		}
		fromFile, class = path, m[2]
	}
	return false, fmt.Errorf("class hierarchy of %s too deep", class)
}

// resolveClass finds the source file of a class named in fromFile.
func resolveClass(sources map[string]string, fromFile, class string) (string, bool) {
	if strings.Contains(class, ".") {
		p := strings.ReplaceAll(class, ".", "/") + ".java"
		_, ok := sources[p]
		return p, ok
	}
	src := sources[fromFile]
	for _, m := range importRE.FindAllStringSubmatch(src, -1) {
		if m[2] == class {
			p := strings.ReplaceAll(m[1], ".", "/") + "/" + class + ".java"
			_, ok := sources[p]
			return p, ok
		}
	}
	if m := packageRE.FindStringSubmatch(src); m != nil {
		p := strings.ReplaceAll(m[1], ".", "/") + "/" + class + ".java"
		if _, ok := sources[p]; ok {
			return p, true
		}
	}
	return "", false
}

// initialisms are spelled in capitals, as Go names do.
var initialisms = map[string]string{"ID": "ID", "SASL": "SASL"}

// goName maps OFFSET_OUT_OF_RANGE to ErrOffsetOutOfRange.
func goName(name string) string {
	var b strings.Builder
	b.WriteString("Err")
	for _, w := range strings.Split(name, "_") {
		if w == "" {
			continue
		}
		if s, ok := initialisms[w]; ok {
			b.WriteString(s)
			continue
		}
		b.WriteString(w[:1])
		b.WriteString(strings.ToLower(w[1:]))
	}
	return b.String()
}

func render(release string, codes []errorCode) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "// Code generated by internal/errorsgen from Kafka %s's Errors.java. DO NOT EDIT.\n\n", release)
	b.WriteString("package protocol\n\n")
	b.WriteString("// Kafka error codes. Each is a *Error usable with errors.Is and errors.As.\n")
	b.WriteString("var (\n")
	maxCode := 0
	for _, c := range codes {
		if c.code == 0 {
			continue // NONE is not an error: ErrorForCode(0) is nil.
		}
		if c.message != "" {
			fmt.Fprintf(&b, "\t// %s: %s\n", goName(c.name), strings.ReplaceAll(c.message, "\n", " "))
		}
		fmt.Fprintf(&b, "\t%s = &Error{Code: %d, Name: %q, Retriable: %t}\n", goName(c.name), c.code, c.name, c.retriable)
		maxCode = max(maxCode, c.code)
	}
	b.WriteString(")\n\n")
	fmt.Fprintf(&b, "// errorMaxCode is the highest code in errorTable.\nconst errorMaxCode = %d\n\n", maxCode)
	b.WriteString("// errorTable is indexed by code+1 so that UNKNOWN_SERVER_ERROR (-1) fits; gaps are nil.\n")
	b.WriteString("var errorTable = [errorMaxCode + 2]*Error{\n")
	for _, c := range codes {
		if c.code == 0 {
			continue
		}
		fmt.Fprintf(&b, "\t%d: %s,\n", c.code+1, goName(c.name))
	}
	b.WriteString("}\n")
	return format.Source(b.Bytes())
}
