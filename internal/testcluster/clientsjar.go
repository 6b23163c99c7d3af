package testcluster

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// ClientsJar returns the path of the pinned release's kafka-clients jar (which carries Kafka's JSON message
// schemas under common/message), resolving the release first if needed.
func ClientsJar(ctx context.Context, version string) (string, error) {
	if _, err := Classpath(ctx, version); err != nil {
		return "", err
	}
	cache, err := CacheDir()
	if err != nil {
		return "", err
	}
	jar := filepath.Join(cache, "kafka-"+version, "lib", "kafka-clients-"+version+".jar")
	if _, err := os.Stat(jar); err != nil {
		return "", fmt.Errorf("testcluster: %w", err)
	}
	return jar, nil
}

// ClientsSourcesJar returns the path of the pinned release's kafka-clients sources jar (Errors.java and the
// exception classes, from which the error-code table is generated), fetching it with Maven on first use.
func ClientsSourcesJar(ctx context.Context, version string) (string, error) {
	if _, ok := releases[version]; !ok {
		return "", fmt.Errorf("testcluster: Kafka %s is not pinned", version)
	}
	cache, err := CacheDir()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(cache, "kafka-"+version, "sources")
	jar := filepath.Join(dir, "kafka-clients-"+version+"-sources.jar")
	if _, err := os.Stat(jar); err == nil {
		return jar, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	unlock, err := lockFile(filepath.Join(dir, ".lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	if _, err := os.Stat(jar); err == nil {
		return jar, nil
	}
	mvn, err := lookTool("mvn", "Maven fetches the kafka-clients sources jar from Maven Central on first use")
	if err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(dir, "fetch-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	cmd := exec.CommandContext(ctx, mvn, "-q", "-B", "dependency:copy",
		"-Dartifact=org.apache.kafka:kafka-clients:"+version+":jar:sources", "-DoutputDirectory="+tmp)
	cmd.Dir = tmp
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("testcluster: fetching kafka-clients %s sources with Maven: %v\n%s", version, err, tail(out.String(), 4000))
	}
	// Renamed into place only when complete, so a cut download is never mistaken for the jar.
	if err := os.Rename(filepath.Join(tmp, filepath.Base(jar)), jar); err != nil {
		return "", err
	}
	return jar, nil
}
