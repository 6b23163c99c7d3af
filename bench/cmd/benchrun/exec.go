package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gregorkafka/gregor/bench/internal/report"
	"github.com/gregorkafka/gregor/bench/internal/workload"

	"github.com/gregorkafka/gregor/internal/testcluster"
)

// Contender names that are not Go adapters in benchclient.
const (
	javaName    = report.JavaPerf
	pykafkaName = report.PyKafka
)

// job is one contender's run in one cell.
type job struct {
	cell       report.Cell
	cl         *cluster
	topic      string
	partitions int
	payload    string
	ends       map[int32]int64
	n          int // produce: messages; latency: ignored
	group      string
	duration   time.Duration // latency: the measured part
	warmup     time.Duration // latency: sent before it, not counted
	profile    string        // write a CPU profile here (Go contenders)
	quiet      bool          // a fill or warm-up, not a measurement
	start      time.Time     // latency: when the first send is due (Go contenders; zero: at once)
	prepared   bool          // the caller has run prepare, for this run and one beside it
	timeout    time.Duration // the run's bound; zero: the execer's
}

// limit is how long j may run.
func (e *execer) limit(j job) time.Duration {
	if j.timeout > 0 {
		return j.timeout
	}
	return e.timeout
}

// execer runs contenders as child processes and reads their rusage.
type execer struct {
	benchclient string
	python      string // the venv's python, "" when pykafka could not be installed
	pyScript    string
	javaCP      map[string]string // Kafka version → class path
	workDir     string
	timeout     time.Duration
	bufferMsgs  func(size int) int
	bufferBytes int
	verbose     bool
	pin         pinning  // the client's CPUs
	jcmd        string   // the JDK's jcmd, which has the brokers collect before latency runs; "" when missing
	probe       []string // the CPU speed probe's command (probe.go); nil: no probing
}

// prepare readies the machine for a run of j.
func (e *execer) prepare(ctx context.Context, j job) {
	// Every run, measured or not, starts with the page cache's dirty pages written out, so that none carries the
	// writeback of what a fill or the run before it wrote. The kernel wrote 500 MB of records out a minute or two
	// after they came, in the middle of whichever run was going; until then the broker's reads of them cost it
	// about 1.2x the CPU.
	syscall.Sync()
	// A latency run also starts with the brokers' heaps collected: a collection pauses a broker for 6-50 ms,
	// and the one that fell inside a run was the p99.9 of whichever client it fell on.
	if j.cell.Workload == workload.Latency && e.jcmd != "" {
		if err := j.cl.collect(ctx, e.jcmd, e.pin); err != nil {
			log.Printf("collecting the brokers' garbage before a latency run: %v", err)
		}
	}
}

func (e *execer) run(ctx context.Context, contender string, j job) workload.Result {
	if !j.prepared {
		e.prepare(ctx, j)
	}
	var argv []string
	parse := parseJSON
	switch contender {
	case javaName:
		argv, parse = e.javaArgs(j)
	case pykafkaName:
		argv = append([]string{e.python, e.pyScript}, e.clientArgs(j)...)
		argv = append(argv, "-broker-version", "1.0.0")
		if j.cl.kafka4() {
			// It cannot speak to Kafka 4 (see notes); do not let its retries eat minutes.
			argv = append(argv, "-timeout", "10s")
		}
	default:
		argv = append([]string{e.benchclient, "-client", contender}, e.clientArgs(j)...)
		if j.profile != "" {
			argv = append(argv, "-cpuprofile", j.profile)
		}
		if !j.start.IsZero() {
			argv = append(argv, "-start", strconv.FormatInt(j.start.UnixNano(), 10))
		}
	}
	if argv == nil {
		return workload.Result{Error: "not supported"}
	}
	argv = e.pin.clientArgv(argv)
	ctx, cancel := context.WithTimeout(ctx, e.limit(j)+30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = e.workDir
	cmd.Env = append(os.Environ(), "BENCH_SASL_PASSWORD="+benchSASLPassword)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	runErr := cmd.Run()
	res := parse(j, out.String())
	if runErr != nil && (res.Error == "" || strings.TrimSpace(out.String()) == "") {
		res.Error = fmt.Sprintf("%v: %s", runErr, lastLine(errb.String()))
	}
	if st := cmd.ProcessState; st != nil {
		if ru, ok := st.SysUsage().(*syscall.Rusage); ok {
			res.CPUSeconds = tv(ru.Utime) + tv(ru.Stime)
			res.MaxRSS = ru.Maxrss << 10
		}
	}
	if (e.verbose && !j.quiet) || res.Error != "" {
		fmt.Fprintf(os.Stderr, "    %-16s %s\n", contender, summary(res))
	}
	return res
}

func tv(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }

func summary(r workload.Result) string {
	if r.Error != "" {
		return "error: " + r.Error
	}
	s := fmt.Sprintf("%d msgs %.2fs %.1f MB/s cpu %.2fs", r.Messages, r.Seconds, report.MBps(r), r.CPUSeconds)
	if r.P99Ms > 0 {
		s += fmt.Sprintf(" p50 %.2f p99 %.2f p99.9 %.2f ms", r.P50Ms, r.P99Ms, r.P999Ms)
	}
	if r.AssignSeconds > 0 {
		s += fmt.Sprintf(" assigned %.3fs", r.AssignSeconds)
	}
	if r.UnownedSeconds > 0 || r.Replayed > 0 {
		s += fmt.Sprintf(" unowned %.3fs replayed %d", r.UnownedSeconds, r.Replayed)
	}
	if r.Goroutines > 0 {
		s += fmt.Sprintf(" goroutines %d threads %d rss %d MiB sockets %d", r.Goroutines, r.Threads, r.RSSBytes>>20, r.Sockets)
	}
	return s
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// clientArgs are benchclient's flags, which the pykafka script takes too.
func (e *execer) clientArgs(j job) []string {
	c := j.cell
	bootstrap := j.cl.bootstrap
	var tlsArgs []string
	switch c.Security {
	case "ssl":
		bootstrap = j.cl.sslBootstrap
		tlsArgs = []string{"-tls-ca", j.cl.caFile}
	case "sasl_ssl":
		bootstrap = j.cl.saslBootstrap
		tlsArgs = []string{"-tls-ca", j.cl.caFile, "-sasl-user", benchSASLUser}
	}
	return append([]string{
		"-workload", c.Workload,
		"-bootstrap", strings.Join(bootstrap, ","),
		"-topic", j.topic,
		"-partitions", strconv.Itoa(j.partitions),
		"-n", strconv.Itoa(j.n),
		"-size", strconv.Itoa(c.Size),
		"-payload", j.payload,
		"-compression", c.Compression,
		"-acks", orDefault(c.Acks, "1"),
		"-delivery", c.Delivery,
		"-rate", strconv.Itoa(c.Rate),
		"-duration", durationFlag(j.duration),
		"-warmup", durationFlag(j.warmup),
		"-members", "3",
		"-group", j.group,
		"-clients", strconv.Itoa(max(c.Clients, 1)),
		"-ends", workload.FormatEnds(j.ends),
		"-buffer-msgs", strconv.Itoa(e.bufferMsgs(c.Size)),
		"-buffer-bytes", strconv.Itoa(e.bufferBytes),
		"-timeout", durationFlag(e.limit(j)),
	}, append(inFlightArgs(c), tlsArgs...)...)
}

// durationFlag renders d for both Go's flag package and the Python script: Go takes "1.5s", so the script
// accepts a trailing "s" too.
func durationFlag(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s"
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func parseJSON(_ job, out string) workload.Result {
	var res workload.Result
	line := lastLine(out)
	if line == "" {
		return workload.Result{Error: "no output"}
	}
	if err := json.Unmarshal([]byte(line), &res); err != nil {
		return workload.Result{Error: fmt.Sprintf("bad result line %q: %v", line, err)}
	}
	return res
}

// javaArgs runs Kafka's own perf tools from the cluster's Kafka version.
func (e *execer) javaArgs(j job) ([]string, func(job, string) workload.Result) {
	c := j.cell
	cp := e.javaCP[j.cl.version]
	base := []string{"java", "-Xms256m", "-Xmx1g", "-XX:+UseG1GC", "-cp", cp}
	boot := strings.Join(j.cl.bootstrap, ",")
	switch c.Workload {
	case workload.Produce, workload.Latency:
		n, throughput := j.n, "-1"
		var warm []string
		if c.Workload == workload.Latency {
			n = int(float64(c.Rate) * j.duration.Seconds())
			throughput = strconv.Itoa(c.Rate)
			if w := int(float64(c.Rate) * j.warmup.Seconds()); w > 0 && j.cl.kafka4() {
				// --warmup-records came with Kafka 4.0 (KIP-1052); it prints the steady state's line last.
				n += w
				warm = []string{"--warmup-records", strconv.Itoa(w)}
			}
		}
		codec := c.Compression
		acks := orDefault(c.Acks, "1")
		idem := "false"
		var txn []string
		switch c.Delivery {
		case workload.Idempotent:
			idem = "true"
		case workload.Transactional:
			// ProducerPerformance commits by time, not by count: about as often as the others at their rate.
			idem, txn = "true", []string{"--transactional-id", fmt.Sprintf("bench-java-%d", time.Now().UnixNano()),
				"--transaction-duration-ms", "50"}
		}
		args := append(base, "org.apache.kafka.tools.ProducerPerformance",
			"--topic", j.topic, "--num-records", strconv.Itoa(n), "--throughput", throughput,
			"--payload-file", j.payload)
		args = append(append(args, txn...), warm...)
		return append(args,
			"--producer-props", "bootstrap.servers="+boot, "acks="+acks, "linger.ms=0", "enable.idempotence="+idem,
			"compression.type="+codec, "batch.size=1048576", "buffer.memory="+strconv.Itoa(e.bufferBytes),
			"partitioner.class=org.apache.kafka.clients.producer.RoundRobinPartitioner",
			"client.id=bench-java"), parseJavaProducer
	case workload.Consume:
		props := filepath.Join(e.workDir, "java-consumer.properties")
		_ = os.WriteFile(props, []byte("max.partition.fetch.bytes=1048576\nclient.id=bench-java\n"), 0o644)
		return append(base, "org.apache.kafka.tools.ConsumerPerformance",
			"--bootstrap-server", boot, "--topic", j.topic, "--messages", strconv.FormatInt(workload.TotalEnds(j.ends), 10),
			"--group", j.group, "--timeout", strconv.FormatInt(e.limit(j).Milliseconds(), 10),
			"--consumer.config", props), parseJavaConsumer
	}
	return nil, nil
}

var javaProducerLine = regexp.MustCompile(`(\d+) (?:steady state )?records sent, ([\d.]+) records/sec \(([\d.]+) MB/sec\), ` +
	`[\d.]+ ms avg latency, [\d.]+ ms max latency, (\d+) ms 50th, \d+ ms 95th, (\d+) ms 99th, (\d+) ms 99.9th`)

func parseJavaProducer(j job, out string) workload.Result {
	m := javaProducerLine.FindAllStringSubmatch(out, -1)
	if m == nil {
		return workload.Result{Error: "no summary line from ProducerPerformance: " + lastLine(out)}
	}
	last := m[len(m)-1]
	n, _ := strconv.ParseInt(last[1], 10, 64)
	rate, _ := strconv.ParseFloat(last[2], 64)
	res := workload.Result{Messages: n, Bytes: n * int64(j.cell.Size)}
	if rate > 0 {
		res.Seconds = float64(n) / rate
	}
	if j.cell.Workload == workload.Latency {
		res.P50Ms, _ = strconv.ParseFloat(last[4], 64)
		res.P99Ms, _ = strconv.ParseFloat(last[5], 64)
		res.P999Ms, _ = strconv.ParseFloat(last[6], 64)
	}
	return res
}

// parseJavaConsumer reads ConsumerPerformance's CSV line and takes its fetch time, which leaves out the time
// its consumer spent joining its group.
func parseJavaConsumer(j job, out string) workload.Result {
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		if !strings.Contains(l, "fetch.time.ms") || i+1 >= len(lines) {
			continue
		}
		f := strings.Split(lines[i+1], ",")
		if len(f) < 10 {
			break
		}
		n, _ := strconv.ParseInt(strings.TrimSpace(f[4]), 10, 64)
		ms, _ := strconv.ParseFloat(strings.TrimSpace(f[7]), 64)
		mb, _ := strconv.ParseFloat(strings.TrimSpace(f[2]), 64)
		return workload.Result{Messages: n, Bytes: int64(mb * (1 << 20)), Seconds: ms / 1000}
	}
	return workload.Result{Error: "no result line from ConsumerPerformance: " + lastLine(out)}
}

// The SASL_SSL cells authenticate as the harness's SASL user (testcluster.SASLUser and SASLPassword); the
// password reaches benchclient through its environment.
const (
	benchSASLUser     = testcluster.SASLUser
	benchSASLPassword = testcluster.SASLPassword
)

// inFlightArgs passes the requests in flight only to the contenders that run such cells.
func inFlightArgs(c report.Cell) []string {
	if c.InFlight == 0 {
		return nil
	}
	return []string{"-inflight", strconv.Itoa(c.InFlight)}
}
