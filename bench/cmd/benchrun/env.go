package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/gregorkafka/gregor/bench/internal/report"
)

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// Pinned versions of the Python contender, installed into bench/.venv by the runner.
const (
	pykafkaVersion = "2.8.0"
	lz4PyVersion   = "4.4.5"
)

// setupPykafka makes bench/.venv with pykafka in it (once) and returns its python.
func setupPykafka(ctx context.Context, root string) (string, error) {
	venv := filepath.Join(root, "bench", ".venv")
	python := filepath.Join(venv, "bin", "python")
	stamp := filepath.Join(venv, "pykafka-"+pykafkaVersion)
	if _, err := os.Stat(stamp); err == nil {
		return python, nil
	}
	py, err := exec.LookPath("python3")
	if err != nil {
		return "", fmt.Errorf("python3 is not on PATH")
	}
	steps := [][]string{
		{py, "-m", "venv", venv},
		{python, "-m", "pip", "install", "-q", "--disable-pip-version-check",
			"pykafka==" + pykafkaVersion, "lz4==" + lz4PyVersion},
	}
	for _, s := range steps {
		cmd := exec.CommandContext(ctx, s[0], s[1:]...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("%s: %v: %s", strings.Join(s[:3], " "), err, lastLine(string(out)))
		}
	}
	return python, os.WriteFile(stamp, nil, 0o644)
}

// environment describes the machine and the versions of everything measured.
func environment(ctx context.Context, root, python string) (machine, versions []report.KV) {
	cpu := "unknown"
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	mem := "unknown"
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		fmt.Sscanf(strings.TrimPrefix(strings.SplitN(string(b), "\n", 2)[0], "MemTotal:"), "%d", &kb)
		mem = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
	}
	machine = []report.KV{
		{K: "CPU", V: fmt.Sprintf("%s, %d logical cores", cpu, runtime.NumCPU())},
		{K: "memory", V: mem},
		{K: "OS", V: firstLine(ctx, "uname", "-srm")},
		{K: "brokers", V: "harness clusters on 127.0.0.1 (internal/testcluster, -perf: G1 collector, a fixed 1.5 GiB heap " +
			"with a 1 GiB young generation; KRaft controllers write no idle no-op records) on the same machine as the " +
			"clients (see pinning)"},
	}
	versions = []report.KV{
		{K: "Go", V: firstLine(ctx, "go", "version")},
		{K: "Java", V: firstLine(ctx, "java", "-version")},
		{K: "Kafka", V: "4.3.1 (KRaft) for the main tables; 3.9.2 (ZooKeeper mode) for the pykafka comparison"},
	}
	for _, m := range goModVersions(filepath.Join(root, "bench", "go.mod")) {
		versions = append(versions, m)
	}
	if python != "" {
		versions = append(versions, report.KV{K: "Python", V: firstLine(ctx, python, "--version")},
			report.KV{K: "pykafka", V: pykafkaVersion + " (pure Python; lz4 " + lz4PyVersion + ")"})
	}
	return machine, versions
}

func firstLine(ctx context.Context, name string, args ...string) string {
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return "unknown"
	}
	return strings.SplitN(strings.TrimSpace(string(out)), "\n", 2)[0]
}

// goModVersions reads the compared clients' versions from bench/go.mod.
func goModVersions(path string) []report.KV {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	want := map[string]string{
		"github.com/twmb/franz-go":                      "franz-go",
		"github.com/IBM/sarama":                         "sarama",
		"github.com/segmentio/kafka-go":                 "kafka-go",
		"github.com/confluentinc/confluent-kafka-go/v2": "confluent-kafka-go",
	}
	var out []report.KV
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) >= 2 {
			if name, ok := want[f[0]]; ok {
				out = append(out, report.KV{K: name, V: f[0] + " " + f[1]})
			}
		}
	}
	return out
}

// topicPartitions says how many partitions the run's topics have.
func topicPartitions(p plan) string {
	s := fmt.Sprintf("topics have %d partitions", p.partitions)
	if len(p.consumePartitions) > 0 {
		s += fmt.Sprintf(" (consume cells: %s, one cell each)", strings.Trim(strings.Join(strings.Fields(fmt.Sprint(p.consumePartitions)), ", "), "[]"))
	}
	return s
}

// settings says, per contender, how it is configured; the adapters in internal/clients hold the same.
func settings(p plan) []report.KV {
	shared := fmt.Sprintf("acks=1 or all as the cell says; no compression or lz4; idempotence off; no linger; "+
		"producer buffer limit %d messages (100 B values) / %d (10 KiB values), %d MiB", bufferMsgs(100),
		bufferMsgs(10<<10), bufferBytes>>20)
	return []report.KV{
		{K: "all", V: shared + "; consumers fetch up to 1 MiB per partition and start at the earliest offset; " +
			topicPartitions(p) + ", replication factor = brokers"},
		{K: "gregor", V: "kafka.Producer with DeliveryReports (defaults otherwise: Linger 0, MaxBatchSize 1,000,012, MaxRequestSize 4 MiB, " +
			"default partitioner (round-robin for these unkeyed messages), one batch in flight per partition); SimpleConsumer; managed BalancedConsumer (range); " +
			"consumers with QueuedMaxMessages = 1 MiB of the cell's values (at least its default, 2,000, which caps a fetch of 100 B records at about 220 KB a partition); goroutine handler"},
		{K: "gregor-eventloop", V: "the same on the gnet event-loop handler (handler/eventloop, default loops)"},
		{K: "franz-go", V: "kgo: DisableIdempotentWrite, ProducerLinger(0), RoundRobinPartitioner, ProducerBatchMaxBytes 1 MiB, " +
			"MaxBufferedRecords/Bytes = the shared limit; direct (non-group) consuming with FetchMaxPartitionBytes 1 MiB; groups with the eager range balancer"},
		{K: "sarama", V: "AsyncProducer, Return.Successes, no Flush thresholds, RoundRobinPartitioner, Version 3.9; " +
			"in-flight messages capped by the adapter at the shared limit; PartitionConsumer per partition, Fetch.Default 1 MiB"},
		{K: "kafka-go", V: "Writer, Async with Completion, RoundRobin, BatchBytes 1 MiB, BatchSize 1 MiB/value size, " +
			"BatchTimeout 1 ms (it has no send-when-idle mode; default 1 s); latency runs BatchSize 1; in-flight messages " +
			"capped by the adapter; one Reader per partition (MaxBytes 1 MiB, MaxWait 100 ms); groups via ConsumerGroup"},
		{K: "confluent", V: "confluent-kafka-go (bundled librdkafka): linger.ms=0, enable.idempotence=false, batch.size 1 MiB, " +
			"queue.buffering.max.messages/kbytes = the shared limit, partitioner=random with sticky.partitioning.linger.ms=0 " +
			"(librdkafka has no round-robin); consumer Poll loop, max.partition.fetch.bytes 1 MiB, fetch.wait.max.ms 100, " +
			"fetch.queue.backoff.ms 10 (the 1 s default stalls a fast reader)"},
		{K: javaName, V: "Kafka's own ProducerPerformance / ConsumerPerformance of the broker's version (-Xmx1g, G1): " +
			"linger.ms=0, enable.idempotence=false, batch.size 1 MiB, buffer.memory = the shared limit, RoundRobinPartitioner; " +
			"consume time is its fetch time (its group join left out); CPU includes JVM start-up and JIT"},
		{K: pykafkaName, V: "pykafka Producer (use_rdkafka=False, linger_ms=0, min_queued_messages=1, delivery reports), " +
			"SimpleConsumer, managed BalancedConsumer; produces a tenth of the others' message count and reads the first " +
			"tenth of each partition"},
	}
}

// notes explains the things a reader of the tables would otherwise get wrong.
func notes(r *report.Results, p plan) []string {
	n := []string{
		"Throughput counts value bytes only (no keys, headers or protocol overhead): 1 MB = 10^6 bytes.",
		"Produce time runs from the first send to the last acknowledgement; consume time from creating the consumer " +
			"to the last partition's end offset (Java: its fetch time). Each cell writes to a topic of its own, and a " +
			"10 KiB produce cell moves to a fresh one (warmed up in the same way) every few runs, so that no topic " +
			"holds more than 2 GiB. A filled topic is read once (by franz-go, unmeasured) before its cell's runs, and " +
			"before every run the page cache's dirty pages are written out (sync), so that no run reads records still " +
			"unwritten or carries the writeback of what was written before it.",
		fmt.Sprintf("Consume cells read topics %s filled (acks=all; -filler names another). Who filled a topic moves "+
			"these cells: franz-go's batches of 10 KiB records (up to 1 MiB, 1,045,701 bytes) just fit the 1 MiB a "+
			"partition's share of a fetch may hold, and gregor's (994,441 bytes) leave room in every share for the "+
			"first 54 KB of the next batch. Reading 10 KiB records from 10 partitions, franz-go took 1.15x the CPU "+
			"and 1.8x the page faults on a topic gregor filled as on one franz-go filled; gregor took the same on both. "+
			"In six targeted runs of that cell on fresh clusters, gregor's CPU per record read 0.90-1.03x franz-go's "+
			"where franz-go filled the topic and 0.60-0.71x where gregor did (at 100 partitions, 0.64-0.70x either way).",
			p.filler),
		"Group: the clock starts when three members start together; \"owned\" is the first moment their assignment " +
			"callbacks cover every partition once, each member holding some.",
		"Group join: cooperative-sticky members heartbeating every 500 ms and committing before they give partitions " +
			"up (gregor: AutoCommit; franz-go: its default autocommit); a fourth member starts once half the topic is " +
			"read, and the run ends when the topic is read and that member owns partitions. \"Unowned\" adds up the " +
			"time some partition had no owner by the members' assignment callbacks; \"replayed\" counts records " +
			"delivered more than once. Only clients with cooperative rebalancing run it.",
		fmt.Sprintf("Latency is from the send call to the acknowledgement callback, at a fixed rate well below "+
			"saturation (Java reports whole milliseconds). Each run sends for %g s first and counts only what it "+
			"sends in the %g s after: the first messages wait for the client to connect and learn the leaders, which is "+
			"start-up, not latency, and would otherwise make up much of a run's p99. Kafka 3.9's ProducerPerformance "+
			"has no warm-up (--warmup-records came with Kafka 4.0), so its zookeeper-1 runs count from the start. "+
			"Before each run every broker collects its garbage (see \"broker collections\" above): a collection pauses "+
			"a broker for 6-50 ms, which inside a run became the p99.9 of whichever client it fell on. The first "+
			"latency cell of each codec on a cluster is warmed up for %g s per broker, not one run: a fresh broker's "+
			"JIT kept its p99 at 3-5 ms for the first 40-60 s. Then runs of the cell's own length follow until two in a "+
			"row agree on the median within 15%% (at most %d): on three brokers sharing a core, every client's p50 "+
			"still fell over a codec's first cell after that warm-up.",
			p.latWarm.Seconds(), p.latFor.Seconds(), p.latFirstWarm.Seconds(), latencySettleRuns),
		"The brokers run on the same machine as the client under test (on their own cores when pinned), so absolute " +
			"numbers are modest; the ratios between clients are the point. Other work on the machine adds noise: " +
			"compare the spreads, and trust CPU per record over throughput where they disagree.",
		"gregor is built from this checkout; in the bench module its klauspost/compress is the version franz-go requires.",
		"The \"idempotent\" and \"transactional\" produce cells (100 B, acks=all, three brokers) turn on each " +
			"client's exactly-once support: gregor's default, franz-go's default (kgo.TransactionalID for transactions), " +
			"sarama's Idempotent (one request in flight per broker, as it requires), confluent's enable.idempotence " +
			"and transactional.id, ProducerPerformance's enable.idempotence and --transactional-id; transactional runs " +
			"commit every 10,000 records (ProducerPerformance every 50 ms, its only setting). kafka-go has neither. " +
			"Compare them with the acks=all cell above them, idempotence off.",
		"The \"SSL\" rows of the clients table connect to the brokers' SSL listener (TLS 1.3, a test CA); only " +
			"gregor's two handlers run them.",
		"The \"SASL_SSL\" produce and consume cells connect to the kraft-1 broker's SASL_SSL listener (TLS 1.3, a " +
			"test CA, SASL PLAIN; SASL costs one exchange per connection, so the rows measure TLS per record); every " +
			"Go client runs them.",
	}
	if parts := cellPartitions(r.Cells); len(parts) > 0 {
		n = append(n, fmt.Sprintf("Consume cells marked \"N partitions\" read a topic of N partitions (-partitions %s), "+
			"filled and read as the others; every other cell's topic has %d. More partitions mean smaller batches per "+
			"fetch and more per-partition state per record.", strings.Trim(strings.Join(strings.Fields(fmt.Sprint(parts)), ","), "[]"), p.partitions))
	}
	if why := pykafkaOnKafka4(r); why != "" {
		n = append(n, "pykafka cannot run against Kafka 4: version 2.8.0 sends Produce v0 (message sets of magic 0/1), "+
			"Fetch v0–v2 and ListOffsets v0–v1, and Kafka 4.0 removed Produce v0–v2, Fetch v0–v3 and ListOffsets v0 "+
			"(KIP-896). The broker still lists Produce v0 in ApiVersions but closes the connection on it, so every "+
			"request fails; its error here was: "+why+". It is measured against a Kafka 3.9.2 broker instead, next "+
			"to gregor, franz-go and Kafka 3.9.2's own perf tools (the zookeeper-1 rows).")
	}
	for _, c := range r.Cells {
		if strings.Contains(c.Cluster, "Kafka 4") {
			continue
		}
		for _, smp := range r.Samples {
			if smp.Cell == c.Key && smp.Contender == pykafkaName && smp.Result.Error != "" {
				n = append(n, fmt.Sprintf("pykafka failed on Kafka 3.9.2 in %s (%s): %s. Later cells of that "+
					"workload skip it.", report.Label(c), c.Workload, smp.Result.Error))
				break
			}
		}
	}
	if p.quick {
		n = append(n, "Quick run: counts are tiny, so start-up dominates and the numbers say little.")
	}
	return n
}

// pykafkaOnKafka4 returns pykafka's first error on a Kafka 4 cluster, "" if it had none.
func pykafkaOnKafka4(r *report.Results) string {
	kafka4 := map[string]bool{}
	for _, c := range r.Cells {
		kafka4[c.Key] = strings.Contains(c.Cluster, "Kafka 4")
	}
	for _, s := range r.Samples {
		if s.Contender == pykafkaName && kafka4[s.Cell] && s.Result.Error != "" {
			return s.Result.Error
		}
	}
	return ""
}

// collections says whether the brokers collect their garbage before each latency run (jcmd is the JDK's jcmd).
func collections(jcmd string) string {
	if jcmd == "" {
		return "none forced: jcmd (the JDK's) was not found, so a broker's collection may fall inside a latency run"
	}
	return "every broker JVM runs a full collection (jcmd GC.run) before each latency run"
}
