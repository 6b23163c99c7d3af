package archtest

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// The rule (DESIGN.md, invariant 3): code in conn/ and kafka/ (and
// internal/zookeeper, which kafka runs its ZooKeeper groups on) spawns tasks,
// waits on time and dials only through the injected handler.Handler, so the
// whole client runs on the runtime the user chose and its timing can be
// tested on a virtual clock. This test parses their non-test files and fails
// on any of the calls below outside the allowlist.

// forbidden maps an import path to the names in it that bypass the handler,
// with what the handler offers instead.
var forbidden = map[string]map[string]string{
	"time": {
		"After":     "Handler.AfterFunc or Sleep",
		"AfterFunc": "Handler.AfterFunc",
		"NewTimer":  "Handler.AfterFunc",
		"NewTicker": "Handler.Sleep in a loop",
		"Sleep":     "Handler.Sleep",
		"Tick":      "Handler.Sleep in a loop",
		"Now":       "Handler.Now",
		"Since":     "Handler.Now().Sub",
		"Until":     "t.Sub(Handler.Now())",
	},
	"context": {
		"WithTimeout":       "handler.WithTimeout",
		"WithTimeoutCause":  "handler.WithTimeout",
		"WithDeadline":      "handler.WithTimeout",
		"WithDeadlineCause": "handler.WithTimeout",
	},
	"net": {
		"Dial":        "Handler.Dial",
		"DialTimeout": "Handler.Dial",
		"DialTCP":     "Handler.Dial",
		"DialUDP":     "Handler.Dial",
		"DialIP":      "Handler.Dial",
		"DialUnix":    "Handler.Dial",
		"Dialer":      "Handler.Dial",
		"Listen":      "nothing: the client does not listen",
	},
	"crypto/tls": {
		"Dial":           "DialConfig.TLSConfig",
		"DialWithDialer": "DialConfig.TLSConfig",
		"Dialer":         "DialConfig.TLSConfig",
	},
	"github.com/go-zookeeper/zk": {
		"Connect": "nothing yet: the library dials and runs goroutines of its own",
	},
}

// allowed is the whole list of exceptions, each with its reason. An entry
// that no longer matches anything fails the test too, so the list (and
// DESIGN.md, which repeats it) stays true.
var allowed = []struct {
	file, fn, call, why string
}{
	{"internal/zookeeper/group.go", "(*Member).Open", "zk.Connect",
		"go-zookeeper dials through the handler (zk.WithDialer) but runs its own goroutines and timers for the session's life"},
	{"internal/zookeeper/connect.go", "Brokers", "zk.Connect",
		"go-zookeeper, for the bootstrap read of broker registrations: as (*Member).Open"},
	{"internal/zookeeper/dial.go", "(*netConn).wait", "time.Until",
		"go-zookeeper sets read deadlines as wall-clock instants; the time left is read on the wall clock, then waited for on the handler's clock"},
}

// checked are the directories under the rule, relative to the module root.
var checked = []string{"conn", "kafka", "internal/zookeeper"}

type violation struct {
	file, fn, call, pos, instead string
}

func TestRuntimeGoesThroughTheHandler(t *testing.T) {
	root := moduleRoot(t)
	var found []violation
	for _, dir := range checked {
		found = append(found, scanDir(t, root, dir)...)
	}
	if len(found) == 0 {
		t.Fatal("no calls found at all: the scan is broken (the allowlist has entries that must match)")
	}

	used := make([]bool, len(allowed))
	for _, v := range found {
		ok := false
		for i, a := range allowed {
			if a.file == v.file && a.fn == v.fn && a.call == v.call {
				used[i], ok = true, true
			}
		}
		if !ok {
			t.Errorf("%s: %s in %s bypasses the handler; use %s (or add an allowlist entry saying why)",
				v.pos, v.call, v.fn, v.instead)
		}
	}
	for i, a := range allowed {
		if !used[i] {
			t.Errorf("allowlist entry %s %s %s matches nothing: remove it (and its line in DESIGN.md)", a.file, a.fn, a.call)
		}
	}
}

// scanDir reports every forbidden call or reference, and every go statement,
// in dir's non-test Go files.
func scanDir(t *testing.T, root, dir string) []violation {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(root, dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	var out []violation
	fset := token.NewFileSet()
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		rel := filepath.ToSlash(filepath.Join(dir, filepath.Base(path)))
		imports := importNames(f)
		for _, decl := range f.Decls {
			fn := declName(decl)
			ast.Inspect(decl, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.GoStmt:
					out = append(out, violation{rel, fn, "go", fset.Position(n.Pos()).String(), "Handler.Go"})
				case *ast.SelectorExpr:
					x, ok := n.X.(*ast.Ident)
					if !ok {
						return true
					}
					path, ok := imports[x.Name]
					if !ok {
						return true
					}
					if instead, bad := forbidden[path][n.Sel.Name]; bad {
						out = append(out, violation{rel, fn, x.Name + "." + n.Sel.Name, fset.Position(n.Pos()).String(), instead})
					}
				}
				return true
			})
		}
	}
	return out
}

// importNames maps the names a file uses for its imports to their paths.
func importNames(f *ast.File) map[string]string {
	m := make(map[string]string)
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		name := path[strings.LastIndex(path, "/")+1:]
		if imp.Name != nil {
			name = imp.Name.Name
		}
		if name == "_" || name == "." {
			continue
		}
		m[name] = path
	}
	return m
}

// declName names a top-level declaration as the allowlist does: "f",
// "(*T).m", "T.m", or "var"/"const"/"type" for the rest.
func declName(d ast.Decl) string {
	fd, ok := d.(*ast.FuncDecl)
	if !ok {
		return d.(*ast.GenDecl).Tok.String()
	}
	if fd.Recv == nil || len(fd.Recv.List) == 0 {
		return fd.Name.Name
	}
	return fmt.Sprintf("%s.%s", recvName(fd.Recv.List[0].Type), fd.Name.Name)
}

func recvName(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.StarExpr:
		return "(*" + recvName(e.X) + ")"
	case *ast.IndexExpr: // generic receiver T[P]
		return recvName(e.X)
	case *ast.IndexListExpr:
		return recvName(e.X)
	case *ast.Ident:
		return e.Name
	}
	return "?"
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found")
		}
		dir = parent
	}
}

// The scan itself: every kind of violation is caught, under renamed imports,
// and attributed to its function.
func TestScanFindsEveryKind(t *testing.T) {
	got := map[string]bool{}
	for _, v := range scanDir(t, moduleRoot(t), "internal/archtest/testdata/sample") {
		got[v.fn+" "+v.call] = true
	}
	want := []string{
		"(*worker).run go",
		"(*worker).run clock.Sleep",
		"(*worker).run clock.After",
		"(*worker).run context.WithDeadline",
		"(*worker).run clock.Now",
		"(*worker).run stdnet.Dialer",
		"dial stdnet.DialTimeout",
	}
	for _, w := range want {
		if !got[w] {
			t.Errorf("scan missed %q; found %v", w, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("scan found %d kinds, want %d: %v", len(got), len(want), got)
	}
}
