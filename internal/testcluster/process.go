package testcluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// process is one child JVM (a broker or ZooKeeper).
type process struct {
	name    string
	cmd     *exec.Cmd
	logFile string // the JVM's stdout and stderr
	appLog  string // the server's own log4j file
	done    chan struct{}
	exitErr error
}

// jvmSpec says how to launch a JVM.
type jvmSpec struct {
	name      string
	classpath string
	mainClass string
	args      []string
	dir       string // working and log directory
	tag       string
	log4j2    bool
	perf      bool
}

func startJVM(spec jvmSpec) (*process, error) {
	java, err := lookTool("java", "Java 17+ runs the Kafka and ZooKeeper servers")
	if err != nil {
		return nil, err
	}
	appLog := filepath.Join(spec.dir, "server.log")
	logConf, err := writeLogConfig(spec.dir, appLog, spec.log4j2)
	if err != nil {
		return nil, err
	}
	args := []string{"-Djava.awt.headless=true",
		"-Dgregor.testcluster=" + spec.tag, "-Dkafka.logs.dir=" + spec.dir, logConf}
	if spec.perf {
		// A fixed heap with a 1 GiB young generation. With a heap that started at 128 MiB, G1 kept the young
		// generation near 100 MiB to meet its pause goal: a broker taking 2,000 requests a second collected
		// every 4-5 s, paused 6-18 ms each time (one core), and ran a concurrent cycle with an 11 ms remark
		// every other time, its 160 MiB live set being over 45% of the heap. Those pauses were every client's
		// p99.9 in bench/'s latency cells. Now such a broker collects about every 50 s, and bench/ asks it to
		// collect just before each latency run (see Broker.Pid), so a run of a few seconds sees none.
		args = append(args, "-Xms1536m", "-Xmx1536m", "-Xmn1g", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20")
	} else {
		// Tests move little data: a small heap, a C1-only JIT and the serial collector start faster and
		// leave the two cores to the code under test.
		args = append(args, "-Xms128m", "-Xmx768m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")
	}
	args = append(args, "-cp", spec.classpath, spec.mainClass)
	args = append(args, spec.args...)

	logPath := filepath.Join(spec.dir, "stdout.log")
	out, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(java, args...)
	cmd.Dir = spec.dir
	cmd.Stdout, cmd.Stderr = out, out
	// Own process group, so a Ctrl-C aimed at "go test" is handled by us (an orderly Close) rather than
	// delivered to the JVMs directly; Pdeathsig kills the JVM if the test binary dies without cleaning up.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		out.Close()
		return nil, fmt.Errorf("testcluster: starting %s: %w", spec.name, err)
	}
	p := &process{name: spec.name, cmd: cmd, logFile: logPath, appLog: appLog, done: make(chan struct{})}
	go func() {
		p.exitErr = cmd.Wait()
		out.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop asks the JVM to shut down (SIGTERM runs Kafka's orderly shutdown) and kills it if it has not exited
// within grace.
func (p *process) stop(grace time.Duration) {
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		p.kill()
	}
}

// kill sends SIGKILL, as a crashed machine would, and waits for the process to be gone.
func (p *process) kill() {
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

// diagnostics returns the tail of the process's logs, for error messages.
func (p *process) diagnostics() string {
	var b strings.Builder
	for _, f := range []string{p.logFile, p.appLog} {
		data, err := os.ReadFile(f)
		if err != nil || len(data) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n--- %s (%s) ---\n%s", p.name, filepath.Base(f), tailLines(string(data), 30))
	}
	return b.String()
}

func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// errExited reports a process that died while we waited for it to become ready.
var errExited = errors.New("process exited")

// waitFor polls check until it succeeds, the process exits, or ctx ends.
func (p *process) waitFor(ctx context.Context, what string, check func(context.Context) error) error {
	var last error
	for {
		if p.exited() {
			return fmt.Errorf("testcluster: %s %w before %s (%v)%s", p.name, errExited, what, p.exitErr, p.diagnostics())
		}
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		last = check(cctx)
		cancel()
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("testcluster: %s not %s: %v (last: %v)%s", p.name, what, ctx.Err(), last, p.diagnostics())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func writeLogConfig(dir, logFile string, log4j2 bool) (string, error) {
	if log4j2 {
		conf := filepath.Join(dir, "log4j2.properties")
		body := "status = error\n" +
			"appender.file.type = File\n" +
			"appender.file.name = FILE\n" +
			"appender.file.fileName = " + logFile + "\n" +
			"appender.file.layout.type = PatternLayout\n" +
			"appender.file.layout.pattern = [%d] %p %m (%c)%n\n" +
			"rootLogger.level = INFO\n" +
			"rootLogger.appenderRef.file.ref = FILE\n"
		return "-Dlog4j2.configurationFile=" + conf, os.WriteFile(conf, []byte(body), 0o644)
	}
	conf := filepath.Join(dir, "log4j.properties")
	body := "log4j.rootLogger=INFO, file\n" +
		"log4j.appender.file=org.apache.log4j.FileAppender\n" +
		"log4j.appender.file.File=" + logFile + "\n" +
		"log4j.appender.file.layout=org.apache.log4j.PatternLayout\n" +
		"log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n\n"
	return "-Dlog4j.configuration=file:" + conf, os.WriteFile(conf, []byte(body), 0o644)
}
