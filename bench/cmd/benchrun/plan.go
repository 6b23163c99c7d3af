package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gregorkafka/gregor/bench/internal/workload"
)

// plan sizes the run. The full plan takes about 85 minutes on two cores; the quick one exercises every
// contender and workload once with small counts. A run of 10 KiB records is 50,000 of them (500 MB): at 10,000
// a produce run used 0.06-0.08 s of CPU, and the same client's runs moved by a third from one to the next. A
// produce run of 100 B records is 1,000,000 of them: at 300,000 the Go clients' runs took 0.11-0.14 s of CPU, of
// which some 0.03 s is the process starting and reading the payload file, so a few milliseconds of anything
// else moved a cell by 5%.
type plan struct {
	quick      bool
	reps       int
	sizes      []int
	codecs     []string
	partitions int // every topic's partition count, but in consume cells given one of consumePartitions
	// consumePartitions are the partition counts the consume cells run at, one cell each (-partitions); nil:
	// partitions only, as every other workload.
	consumePartitions []int
	contenders        []string // when set, only these run
	produceN          func(size int) int
	consumeN          func(size int) int
	latRate           int
	latFor            time.Duration // a latency run's measured part
	latWarm           time.Duration // and its warm-up before it, sent but not counted
	latFirstWarm      time.Duration // the least a cluster's first latency warm-up run sends for (see warmUp)
	latBeside         bool          // latency cells run each contender beside gregor (see beside.go)
	filler            string        // the contender that fills consume cells' topics (-filler)
	conns             []int
	inflight          int // the conns cell with this many clients, each with this many requests in flight; 0: none
	timeout           time.Duration
	// Group cells' counts on the Kafka 3.9 (ZooKeeper mode) cluster, where pykafka, pure Python, runs them too.
	legacyGroupN func(size int) int
}

func fullPlan() plan {
	return plan{
		reps: 5, sizes: []int{100, 10 << 10}, codecs: []string{"none", "lz4"}, partitions: 6,
		produceN:     bySize(1_000_000, 50_000),
		consumeN:     bySize(1_000_000, 50_000),
		latRate:      2000,
		latFor:       4 * time.Second,
		latWarm:      500 * time.Millisecond,
		latFirstWarm: time.Minute,
		filler:       defaultFiller,
		conns:        []int{1, 10, 100},
		inflight:     100,
		timeout:      5 * time.Minute,
		legacyGroupN: bySize(100_000, 5_000),
	}
}

func quickPlan() plan {
	return plan{
		quick: true, reps: 1, sizes: []int{100, 10 << 10}, codecs: []string{"none", "lz4"}, partitions: 6,
		produceN:     bySize(20_000, 1_000),
		consumeN:     bySize(20_000, 1_000),
		latRate:      500,
		latFor:       time.Second,
		latWarm:      250 * time.Millisecond,
		latFirstWarm: time.Second,
		filler:       defaultFiller,
		conns:        []int{1, 10},
		inflight:     10,
		timeout:      2 * time.Minute,
		legacyGroupN: bySize(5_000, 500),
	}
}

// parsePartitions reads the -partitions flag: partition counts, comma-separated, each at least 1, without
// repeats ("10,100,1000,3000"); empty means the plan's default.
func parsePartitions(s string) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > maxPartitions {
			return nil, fmt.Errorf("-partitions: %q is not a partition count (1 to %d)", f, maxPartitions)
		}
		if slices.Contains(out, n) {
			return nil, fmt.Errorf("-partitions: %d given twice", n)
		}
		out = append(out, n)
	}
	return out, nil
}

// maxPartitions bounds -partitions: beyond this a topic's metadata alone dwarfs what a cell measures.
const maxPartitions = 100_000

// partitionCounts is what a workload's cells run at: consumePartitions for consume, when set.
func (p plan) partitionCounts(w string) []int {
	if w == workload.Consume && len(p.consumePartitions) > 0 {
		return p.consumePartitions
	}
	return []int{p.partitions}
}

func bySize(small, large int) func(int) int {
	return func(size int) int {
		if size >= 1024 {
			return large
		}
		return small
	}
}

// bufferMsgs is the shared producer buffer limit in messages: 100,000, or 64 MiB of values for large ones.
func bufferMsgs(size int) int { return min(100_000, (64<<20)/max(size, 1)) }

const bufferBytes = 64 << 20

// clusterSpec is one cluster the plan runs, and which contenders and workloads run on it.
type clusterSpec struct {
	mode, version string
	brokers       int
	contenders    []string
	workloads     []string
	legacy        bool // the Kafka 3.9 side comparison for pykafka
	tls           bool // the brokers also open an SSL listener, and the conns workload runs over it too
	// The brokers also open SASL listeners, and produce and consume run over SASL_SSL too (PLAIN), for
	// saslContenders.
	sasl bool
}

var goContenders = []string{"gregor", "gregor-eventloop", "franz-go", "sarama", "kafka-go", "confluent"}

func clusters() []clusterSpec {
	all := append(append([]string{}, goContenders...), javaName, pykafkaName)
	main := []string{workload.Produce, workload.Consume, workload.Group, workload.Latency}
	return []clusterSpec{
		{mode: "kraft", version: "4.3.1", brokers: 1, contenders: all, workloads: append(main, workload.GroupJoin, workload.GroupJoin848), sasl: true},
		{mode: "kraft", version: "4.3.1", brokers: 3, contenders: all, workloads: append(main, workload.Conns), tls: true},
		{mode: "zookeeper", version: "3.9.2", brokers: 1, contenders: []string{"gregor", "franz-go", javaName, pykafkaName},
			workloads: main, legacy: true},
	}
}

// tlsContender says whether a contender runs the TLS cells (benchclient's -tls-ca).
func tlsContender(name string) bool { return name == "gregor" || name == "gregor-eventloop" }

// inFlightContender says whether a contender runs the conns cell with requests in flight: gregor's two
// runtimes, the comparison it exists for.
func inFlightContender(name string) bool { return name == "gregor" || name == "gregor-eventloop" }

// saslContender says whether a contender runs the SASL_SSL cells: every Go client (pykafka has no SASL, and
// Kafka's perf tools would need a JAAS file).
func saslContender(name string) bool { return name != javaName && name != pykafkaName }

// securityContender says whether a contender runs the cells of a listener's security protocol.
func securityContender(name, security string) bool {
	switch security {
	case "":
		return true
	case "ssl":
		return tlsContender(name)
	case "sasl_ssl":
		return saslContender(name)
	}
	return false
}

// deliveryContender says whether a contender runs the cells of a delivery mode: kafka-go has neither
// idempotence nor transactions, and pykafka has neither.
func deliveryContender(name, delivery string) bool {
	return delivery == "" || name != "kafka-go" && name != pykafkaName
}

// defaultFiller fills the consume cells' topics unless -filler names another: the fastest filler at hand.
const defaultFiller = "franz-go"

// checkFiller says why name cannot fill topics, or nil: a filler is a contender with an idempotent producer, so
// that a topic holds exactly its cell's records: a Go one, or Kafka's own ProducerPerformance, whose batches favour
// none of the Go clients. Another filler than the default only fills a targeted run's topics (targeted): its report
// stands apart with the notes of its own run, while the full results are rendered again with the current code's
// notes, which name the default, and -only reruns merge into them.
func checkFiller(name string, targeted bool) error {
	fillers := slices.DeleteFunc(slices.Clone(goContenders), func(n string) bool { return !deliveryContender(n, workload.Idempotent) })
	fillers = append(fillers, javaName)
	if !slices.Contains(fillers, name) {
		return fmt.Errorf("-filler %q: want a contender with an idempotent producer (%s)", name, strings.Join(fillers, ", "))
	}
	if name != defaultFiller && !targeted {
		return fmt.Errorf("-filler %q: only with -contenders, whose report stands apart from the full results (filled by %s)", name, defaultFiller)
	}
	return nil
}

// supports says whether a contender takes part in a workload at all.
func supports(contender, w string) bool {
	if w == workload.GroupJoin || w == workload.GroupJoin848 { // cooperative-sticky or KIP-848 members
		return contender == "gregor" || contender == "gregor-eventloop" || contender == "franz-go"
	}
	switch contender {
	case javaName:
		// Kafka's perf tools have no group-assignment timing and one client per JVM.
		return w == workload.Produce || w == workload.Consume || w == workload.Latency
	case pykafkaName:
		return w != workload.Conns
	case "kafka-go", "confluent":
		return w != workload.Conns
	}
	return true
}

// turn is one contender's run in a cell's repetition.
type turn struct {
	rep   int
	name  string
	first bool // the repetition's first turn, before which the CPU speed probe runs
}

// runOrder interleaves the contenders across repetitions: every repetition runs each contender once before the
// next starts, so that drift over a cell's minutes (other load on the machine, the brokers' page cache and JIT)
// spreads over all of them instead of favouring whoever ran its repetitions last. The order within a repetition
// comes from a Williams design: over n repetitions of n contenders each contender runs right after every other
// exactly once, so that none always runs in the wake of the same one. Rotating one order (A B C D, B C D A, ...)
// keeps every contender behind the same neighbour (gregor behind Kafka's JVM perf tool in every latency
// repetition), so whatever one run leaves behind on the machine falls on the same contender each time. The
// first repetition starts with contender first (mod their number; the runner counts cells), so that none is
// always the first to hit a new topic.
func runOrder(contenders []string, reps, first int) []turn {
	n := len(contenders)
	var out []turn
	for rep := 0; rep < reps && n > 0; rep++ {
		for i, k := range williamsRow(n, rep) {
			out = append(out, turn{rep: rep, name: contenders[(first+k)%n], first: i == 0})
		}
	}
	return out
}

// williamsRow is row r (mod n, or mod n+1 for odd n) of a Williams design for n treatments: row 0 is 0, 1, n-1, 2,
// n-2, ..., and row r adds r to each. For even n every ordered pair is adjacent in exactly one of the n rows. For
// odd n the design is built for n+1 and the extra treatment dropped from each row; then no ordered pair is adjacent
// in more than two of n+1 rows.
func williamsRow(n, r int) []int {
	m := n + n%2
	out := make([]int, 0, n)
	for j := 0; j < m; j++ {
		var base int
		switch {
		case j == 0:
			base = 0
		case j%2 == 1:
			base = (j + 1) / 2
		default:
			base = m - j/2
		}
		if k := (base + r) % m; k < n {
			out = append(out, k)
		}
	}
	return out
}
