package testcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
)

// ErrMissingTool is returned when java or mvn is not on PATH; the message names the missing tool.
var ErrMissingTool = errors.New("testcluster: required tool not found")

// RepoRoot returns the top of the gregor checkout: GREGOR_ROOT if set, else the nearest directory above the
// working directory whose go.mod declares gregor's module, else the one above this source file.
func RepoRoot() (string, error) {
	if r := os.Getenv("GREGOR_ROOT"); r != "" {
		return r, nil
	}
	if wd, err := os.Getwd(); err == nil {
		if r, ok := findModuleRoot(wd); ok {
			return r, nil
		}
	}
	if _, file, _, ok := runtime.Caller(0); ok {
		if r, ok := findModuleRoot(filepath.Dir(file)); ok {
			return r, nil
		}
	}
	return "", errors.New("testcluster: gregor's repository root not found (set GREGOR_ROOT)")
}

func findModuleRoot(dir string) (string, bool) {
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil &&
			bytes.Contains(b, []byte("module github.com/gregorkafka/gregor\n")) {
			return dir, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

// CacheDir is where resolved jars live: GREGOR_CACHE_DIR if set, else .cache/ in the repository.
func CacheDir() (string, error) {
	if d := os.Getenv("GREGOR_CACHE_DIR"); d != "" {
		return d, nil
	}
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, ".cache"), nil
}

// lookTool finds a command on PATH or explains what is missing.
func lookTool(name, why string) (string, error) {
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%w: %q is not on PATH (%s)", ErrMissingTool, name, why)
	}
	return p, nil
}

// Classpath returns the jar class path for a pinned Kafka version, resolving it with Maven on first use.
// Concurrent test binaries serialise on a file lock so the cache is filled once.
func Classpath(ctx context.Context, version string) (string, error) {
	rel, ok := releases[version]
	if !ok {
		return "", fmt.Errorf("testcluster: Kafka %s is not pinned", version)
	}
	cache, err := CacheDir()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(cache, "kafka-"+version)
	lib := filepath.Join(dir, "lib")
	stamp := filepath.Join(dir, "complete")
	if _, err := os.Stat(stamp); err == nil {
		return jarsIn(lib)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	unlock, err := lockFile(filepath.Join(dir, ".lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	if _, err := os.Stat(stamp); err == nil { // another process filled it while we waited
		return jarsIn(lib)
	}
	mvn, err := lookTool("mvn", "Maven resolves the Kafka jars from Maven Central on first use")
	if err != nil {
		return "", err
	}
	if err := os.RemoveAll(lib); err != nil {
		return "", err
	}
	pom := filepath.Join(dir, "pom.xml")
	if err := os.WriteFile(pom, []byte(pomFor(rel)), 0o644); err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, mvn, "-q", "-B", "-f", pom, "dependency:copy-dependencies",
		"-DincludeScope=runtime", "-DoutputDirectory="+lib)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("testcluster: resolving Kafka %s with Maven: %v\n%s", version, err, tail(out.String(), 4000))
	}
	if err := os.WriteFile(stamp, nil, 0o644); err != nil {
		return "", err
	}
	return jarsIn(lib)
}

func pomFor(rel release) string {
	var deps strings.Builder
	for _, a := range rel.artifacts {
		parts := strings.Split(string(a), ":")
		fmt.Fprintf(&deps, "    <dependency><groupId>%s</groupId><artifactId>%s</artifactId><version>%s</version></dependency>\n",
			parts[0], parts[1], parts[2])
	}
	return `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>gregor.testcluster</groupId>
  <artifactId>kafka-` + rel.version + `</artifactId>
  <version>1</version>
  <dependencies>
` + deps.String() + `  </dependencies>
</project>
`
}

func jarsIn(lib string) (string, error) {
	jars, err := filepath.Glob(filepath.Join(lib, "*.jar"))
	if err != nil {
		return "", err
	}
	if len(jars) == 0 {
		return "", fmt.Errorf("testcluster: no jars in %s (delete its parent to re-resolve)", lib)
	}
	return strings.Join(jars, string(os.PathListSeparator)), nil
}

// lockFile takes an exclusive flock, released by the returned func.
func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}
