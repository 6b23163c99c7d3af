package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// script writes an executable shell script named name into dir.
func script(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755))
	return p
}

func TestStartClusterReadsBrokerPids(t *testing.T) {
	dir := t.TempDir()
	// The testcluster command prints its brokers' pids before the bootstrap line, then runs until interrupted.
	bin := script(t, dir, "testcluster", "echo 'pids: 4242,4343'\necho 'bootstrap: 127.0.0.1:9092'\nexec sleep 60\n")
	c, err := startCluster(context.Background(), bin, "kraft", "4.3.1", 2, "", filepath.Join(dir, "tc.log"), pinning{})
	require.NoError(t, err)
	defer c.stop()
	assert.Equal(t, []int{4242, 4343}, c.pids)
	assert.Equal(t, []string{"127.0.0.1:9092"}, c.bootstrap)
}

func TestCollectRunsJcmdOnEveryBroker(t *testing.T) {
	dir := t.TempDir()
	calls := filepath.Join(dir, "calls")
	jcmd := script(t, dir, "jcmd", "echo \"$@\" >> "+calls+"\n")
	c := &cluster{pids: []int{11, 22, 33}}
	require.NoError(t, c.collect(context.Background(), jcmd, pinning{}))
	b, err := os.ReadFile(calls)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"11 GC.run", "22 GC.run", "33 GC.run"}, strings.Split(strings.TrimSpace(string(b)), "\n"),
		"one GC.run per broker JVM")

	failing := script(t, dir, "jcmd-failing", "echo \"$1: no such process\"\n[ \"$1\" = 22 ] && exit 1\nexit 0\n")
	err = c.collect(context.Background(), failing, pinning{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "jcmd 22 GC.run")
	assert.Contains(t, err.Error(), "22: no such process", "the tool's own words")
	assert.NotContains(t, err.Error(), "jcmd 11", "only the broker that failed")

	assert.NoError(t, (&cluster{}).collect(context.Background(), failing, pinning{}), "no brokers, nothing to run")
}

func TestFindJcmd(t *testing.T) {
	dir := t.TempDir()
	jdk := filepath.Join(dir, "jdk", "bin")
	require.NoError(t, os.MkdirAll(jdk, 0o755))
	java := script(t, jdk, "java", "")
	script(t, jdk, "jcmd", "")
	link := filepath.Join(dir, "java") // as /usr/bin/java links into the JDK
	require.NoError(t, os.Symlink(java, link))
	missing := errors.New("not found")

	onPath := func(name string) (string, error) { return "/opt/jdk/bin/" + name, nil }
	assert.Equal(t, "/opt/jdk/bin/jcmd", findJcmd(onPath))

	besideJava := func(name string) (string, error) {
		if name == "java" {
			return link, nil
		}
		return "", missing
	}
	assert.Equal(t, filepath.Join(jdk, "jcmd"), findJcmd(besideJava), "beside the java the link leads to")

	require.NoError(t, os.Remove(filepath.Join(jdk, "jcmd")))
	assert.Equal(t, "", findJcmd(besideJava), "a runtime without jcmd")
	assert.Equal(t, "", findJcmd(func(string) (string, error) { return "", missing }), "no java at all")
}
