package kafka

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gregorkafka/gregor/internal/testcluster"
)

// pykafkaVersion is the pykafka the interop tests run, from PyPI, as
// bench/ does for its comparison.
const pykafkaVersion = "2.8.0"

var pykafkaOnce struct {
	sync.Once
	python string
	skip   string
	err    error
}

// pykafkaPython returns the python of a virtualenv holding pykafka, made on
// first use under the harness's cache directory (GREGOR_CACHE_DIR, or the
// git-ignored .cache/), so later runs start at once. The test is skipped
// only when python3 or its venv module is missing.
func pykafkaPython(t *testing.T) string {
	t.Helper()
	o := &pykafkaOnce
	o.Do(func() { o.python, o.skip, o.err = setupPykafka() })
	if o.skip != "" {
		t.Skip(o.skip)
	}
	if o.err != nil {
		t.Fatal(o.err)
	}
	return o.python
}

func setupPykafka() (python, skip string, err error) {
	cache, err := testcluster.CacheDir()
	if err != nil {
		return "", "", err
	}
	dir := filepath.Join(cache, "pykafka-"+pykafkaVersion)
	python = filepath.Join(dir, "bin", "python")
	stamp := filepath.Join(dir, ".installed")
	if _, err := os.Stat(stamp); err == nil {
		return python, "", nil
	}
	py, err := exec.LookPath("python3")
	if err != nil {
		return "", "python3 is not on PATH: the pykafka interop tests need it to install pykafka " + pykafkaVersion, nil
	}
	if out, err := exec.Command(py, "-c", "import venv, ensurepip").CombinedOutput(); err != nil {
		return "", fmt.Sprintf("python3 has no venv/ensurepip module (%s): the pykafka interop tests need one", strings.TrimSpace(string(out))), nil
	}
	// Built beside the final place and renamed into it, so that a
	// concurrent test binary never sees half an environment.
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", "", err
	}
	tmp, err := os.MkdirTemp(cache, "pykafka-venv-")
	if err != nil {
		return "", "", err
	}
	defer os.RemoveAll(tmp)
	steps := [][]string{
		{py, "-m", "venv", tmp},
		{filepath.Join(tmp, "bin", "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
			"pykafka==" + pykafkaVersion},
	}
	for _, s := range steps {
		if out, err := exec.Command(s[0], s[1:]...).CombinedOutput(); err != nil {
			return "", "", fmt.Errorf("%s: %v: %s", strings.Join(s, " "), err, out)
		}
	}
	if err := os.WriteFile(filepath.Join(tmp, ".installed"), nil, 0o644); err != nil {
		return "", "", err
	}
	// Moved into place whole. A directory there without the stamp is a
	// leftover of an interrupted set-up.
	if _, err := os.Stat(stamp); err == nil {
		return python, "", nil // another test binary was faster
	}
	_ = os.RemoveAll(dir)
	if err := os.Rename(tmp, dir); err != nil {
		if _, serr := os.Stat(stamp); serr == nil {
			return python, "", nil // another test binary won the race
		}
		return "", "", err
	}
	return python, "", nil
}
