package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// cluster is a harness cluster run by the testcluster command, stopped with SIGINT (its orderly shutdown).
type cluster struct {
	name      string // "kraft-3"
	version   string // Kafka version, for the Java tools' class path
	brokers   int
	bootstrap []string
	// With TLS: the SSL listeners and the PEM file of the CA that signed their certificates.
	sslBootstrap []string
	caFile       string
	// With SASL: the SASL_SSL listeners (the CA is caFile).
	saslBootstrap []string
	// pids are the broker JVMs' process ids.
	pids []int
	cmd  *exec.Cmd
	done chan struct{}
}

// kafka4 reports whether the cluster runs Kafka 4 or later, rather than the 3.9 of the ZooKeeper cluster.
func (c *cluster) kafka4() bool { return !strings.HasPrefix(c.version, "3.") }

// startCluster runs bin (the built testcluster command) and waits for its "bootstrap:" line.
// security is the testcluster command's -security: "" (plaintext only), "ssl" or "sasl".
// The harness runs on pin's broker CPUs, and its JVMs inherit them.
func startCluster(ctx context.Context, bin, mode, version string, brokers int, security string, logPath string, pin pinning) (*cluster, error) {
	args := []string{"-mode", mode, "-brokers", fmt.Sprint(brokers), "-perf", "-tag", "bench"}
	if security != "" {
		args = append(args, "-security", security)
	}
	argv := pin.brokerArgv(append([]string{bin}, args...))
	cmd := exec.Command(argv[0], argv[1:]...)
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	// Pdeathsig: if the runner dies, the harness gets SIGTERM and stops its JVMs.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &cluster{name: fmt.Sprintf("%s-%d", mode, brokers), version: version, brokers: brokers, cmd: cmd, done: make(chan struct{})}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		io.Copy(io.Discard, out)
	}()
	go func() {
		cmd.Wait()
		logf.Close()
		close(c.done)
	}()
	timeout := time.After(5 * time.Minute)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				return nil, fmt.Errorf("testcluster %s exited before it was ready; see %s", c.name, logPath)
			}
			if list, ok := strings.CutPrefix(l, "pids: "); ok {
				for _, f := range strings.Split(strings.TrimSpace(list), ",") {
					if pid, err := strconv.Atoi(f); err == nil && pid > 0 {
						c.pids = append(c.pids, pid)
					}
				}
			}
			if addrs, ok := strings.CutPrefix(l, "bootstrap: "); ok {
				c.bootstrap = strings.Split(strings.TrimSpace(addrs), ",")
			}
			if addrs, ok := strings.CutPrefix(l, "ssl: "); ok {
				c.sslBootstrap = strings.Split(strings.TrimSpace(addrs), ",")
			}
			if addrs, ok := strings.CutPrefix(l, "sasl_ssl: "); ok {
				c.saslBootstrap = strings.Split(strings.TrimSpace(addrs), ",")
			}
			if f, ok := strings.CutPrefix(l, "ca: "); ok {
				c.caFile = strings.TrimSpace(f)
			}
			// The TLS lines follow the bootstrap line.
			if c.bootstrap != nil && (security == "" || c.caFile != "") {
				go func() {
					for range lines {
					}
				}()
				return c, nil
			}
		case <-timeout:
			c.stop()
			return nil, fmt.Errorf("testcluster %s not ready after 5 minutes; see %s", c.name, logPath)
		case <-ctx.Done():
			c.stop()
			return nil, ctx.Err()
		}
	}
}

// stop interrupts the harness, which kills its brokers and removes their data, and waits for it.
func (c *cluster) stop() {
	_ = c.cmd.Process.Signal(os.Interrupt)
	select {
	case <-c.done:
	case <-time.After(90 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

// collect has every broker JVM run a full garbage collection (jcmd PID GC.run, pinned to the brokers' CPUs),
// and returns once all have. A latency run that starts after it meets no collection of its own: a broker taking
// 2,000 requests a second fills the harness's 1 GiB young generation in about 50 s.
func (c *cluster) collect(ctx context.Context, jcmd string, pin pinning) error {
	errs := make([]error, len(c.pids))
	var wg sync.WaitGroup
	for i, pid := range c.pids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			argv := pin.brokerArgv([]string{jcmd, strconv.Itoa(pid), "GC.run"})
			if out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput(); err != nil {
				errs[i] = fmt.Errorf("jcmd %d GC.run: %v: %s", pid, err, strings.TrimSpace(string(out)))
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// findJcmd returns the path of the JDK's jcmd: on the PATH, or beside the java that runs the brokers. It
// returns "" when there is none (a runtime without the JDK's tools).
func findJcmd(lookPath func(string) (string, error)) string {
	if p, err := lookPath("jcmd"); err == nil {
		return p
	}
	java, err := lookPath("java")
	if err != nil {
		return ""
	}
	if real, err := filepath.EvalSymlinks(java); err == nil {
		java = real
	}
	p := filepath.Join(filepath.Dir(java), "jcmd")
	if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
		return p
	}
	return ""
}
