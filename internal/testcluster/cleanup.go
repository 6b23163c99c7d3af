package testcluster

import (
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// live tracks every cluster this process started, so an interrupt can stop them all before exiting.
var live struct {
	sync.Mutex
	clusters map[*Cluster]struct{}
	once     sync.Once
}

func register(c *Cluster) {
	live.once.Do(func() {
		live.clusters = map[*Cluster]struct{}{}
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
		go func() {
			sig := <-ch
			CloseAll()
			signal.Reset()
			// Re-raise so the process ends the way it was asked to.
			_ = syscall.Kill(os.Getpid(), sig.(syscall.Signal))
		}()
	})
	live.Lock()
	live.clusters[c] = struct{}{}
	live.Unlock()
}

func unregister(c *Cluster) {
	live.Lock()
	delete(live.clusters, c)
	live.Unlock()
}

// CloseAll closes every cluster this process started. TestMain functions call it after m.Run so that a
// panicking or failing test still leaves nothing running.
func CloseAll() {
	live.Lock()
	cs := make([]*Cluster, 0, len(live.clusters))
	for c := range live.clusters {
		cs = append(cs, c)
	}
	live.Unlock()
	for _, c := range cs {
		c.Close()
	}
}

// sweepStaleDirs removes directories left by test processes that were killed before they could clean up.
// The owning pid is part of the directory name.
func sweepStaleDirs() {
	matches, _ := filepath.Glob(filepath.Join(os.TempDir(), "gregor-testcluster-*"))
	for _, m := range matches {
		rest := strings.TrimPrefix(filepath.Base(m), "gregor-testcluster-")
		pidStr, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidStr)
		if err != nil || pid == os.Getpid() {
			continue
		}
		if syscall.Kill(pid, 0) == syscall.ESRCH {
			os.RemoveAll(m)
		}
	}
}
