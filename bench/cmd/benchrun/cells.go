package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/gregorkafka/gregor/kafka"

	"github.com/gregorkafka/gregor/bench/internal/report"
	"github.com/gregorkafka/gregor/bench/internal/workload"
)

// runCluster starts one cluster and runs its cells.
func runCluster(ctx context.Context, r *report.Results, e *execer, p plan, spec clusterSpec, bin string,
	payloads map[int]string, filter *regexp.Regexp, profile bool, resultsDir string) error {
	name := fmt.Sprintf("%s-%d", spec.mode, spec.brokers)
	label := fmt.Sprintf("%s (Kafka %s)", name, spec.version)
	if filter != nil {
		dry := &clusterRun{p: p, spec: spec, label: label, filter: filter, dryRun: true}
		for _, w := range spec.workloads {
			_ = dry.workload(ctx, w)
		}
		if dry.matched == 0 {
			return nil
		}
	}
	log.Printf("starting %s", label)
	security := ""
	switch {
	case spec.tls:
		security = "ssl"
	case spec.sasl:
		security = "sasl"
	}
	cl, err := startCluster(ctx, bin, spec.mode, spec.version, spec.brokers, security, filepath.Join(resultsDir, name+".log"), e.pin)
	if err != nil {
		return err
	}
	defer cl.stop()
	admin, err := kafka.NewClient(ctx, kafka.Config{Hosts: cl.bootstrap, ClientID: "bench-admin",
		Logger: quietLogger()})
	if err != nil {
		return err
	}
	defer admin.Close()
	cr := &clusterRun{r: r, e: e, p: p, spec: spec, cl: cl, label: label, admin: admin, payloads: payloads,
		filter: filter, profile: profile, resultsDir: resultsDir}
	for _, w := range spec.workloads {
		if err := cr.workload(ctx, w); err != nil {
			return err
		}
	}
	return nil
}

type clusterRun struct {
	r          *report.Results
	e          *execer
	p          plan
	spec       clusterSpec
	cl         *cluster
	label      string
	admin      *kafka.Client
	payloads   map[int]string
	filter     *regexp.Regexp
	profile    bool
	resultsDir string
	// pykafkaBroken is why pykafka failed on this cluster's first attempt at a workload (on Kafka 3, at a
	// workload and codec); later such cells skip it.
	pykafkaBroken map[string]string
	// dryRun only counts the cells the filter matches.
	dryRun  bool
	matched int
	// latencyWarm holds the codecs whose first latency cell has had its longer warm-up.
	latencyWarm map[string]bool
}

func (cr *clusterRun) brokenKey(c report.Cell) string {
	if cr.spec.legacy {
		return c.Workload + "/" + c.Compression
	}
	return c.Workload
}

func (cr *clusterRun) workload(ctx context.Context, w string) error {
	switch w {
	case workload.Produce, workload.Latency:
		for _, size := range cr.p.sizes {
			for _, codec := range cr.p.codecs {
				acks := []string{"1"}
				if w == workload.Produce && cr.spec.brokers > 1 {
					acks = append(acks, "all")
				}
				for _, a := range acks {
					c := report.Cell{Cluster: cr.label, Workload: w, Size: size, Compression: codec, Acks: a}
					if w == workload.Latency {
						c.Rate = cr.p.latRate
					} else {
						c.Messages = cr.n(size)
					}
					if err := cr.cell(ctx, c, nil); err != nil {
						return err
					}
				}
			}
		}
		if err := cr.deliveryCells(ctx, w); err != nil {
			return err
		}
		return cr.saslCells(ctx, w)
	case workload.Consume, workload.Group, workload.GroupJoin, workload.GroupJoin848:
		for _, parts := range cr.p.partitionCounts(w) {
			for _, size := range cr.p.sizes {
				for _, codec := range cr.p.codecs {
					c := report.Cell{Cluster: cr.label, Workload: w, Size: size, Compression: codec, Messages: cr.consumeN(w, size)}
					if parts != cr.p.partitions {
						c.Partitions = parts
					}
					if err := cr.cell(ctx, c, cr.fill); err != nil {
						return err
					}
				}
			}
		}
		return cr.saslCells(ctx, w)
	case workload.Conns:
		security := []string{""}
		if cr.spec.tls {
			security = append(security, "ssl")
		}
		for _, sec := range security {
			for _, k := range cr.p.conns {
				c := report.Cell{Cluster: cr.label, Workload: w, Size: 1, Compression: "none", Acks: "1", Clients: k, Security: sec}
				if err := cr.cell(ctx, c, nil); err != nil {
					return err
				}
			}
		}
		if k := cr.p.inflight; k > 0 {
			c := report.Cell{Cluster: cr.label, Workload: w, Size: 1, Compression: "none", Acks: "1", Clients: k, InFlight: k}
			if err := cr.cell(ctx, c, nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// deliveryCells runs produce once more, 100 B values uncompressed with acks=all, with idempotent and with
// transactional producers, on a cluster of several brokers: what exactly-once delivery costs each client that
// has it, next to the acks=all cell with idempotence off.
func (cr *clusterRun) deliveryCells(ctx context.Context, w string) error {
	if w != workload.Produce || cr.spec.brokers < 2 || cr.spec.legacy {
		return nil
	}
	for _, d := range []string{workload.Idempotent, workload.Transactional} {
		size := cr.p.sizes[0]
		c := report.Cell{Cluster: cr.label, Workload: w, Size: size, Compression: "none", Acks: "all", Delivery: d,
			Messages: cr.n(size)}
		if err := cr.cell(ctx, c, nil); err != nil {
			return err
		}
	}
	return nil
}

// saslCells runs produce and consume once more per size over the SASL_SSL listener (no compression, acks=1),
// on a cluster with SASL listeners: what TLS and SASL cost each client.
func (cr *clusterRun) saslCells(ctx context.Context, w string) error {
	if !cr.spec.sasl || (w != workload.Produce && w != workload.Consume) {
		return nil
	}
	for _, size := range cr.p.sizes {
		c := report.Cell{Cluster: cr.label, Workload: w, Size: size, Compression: "none", Security: "sasl_ssl"}
		prepare := cr.fill
		if w == workload.Produce {
			c.Acks, c.Messages, prepare = "1", cr.n(size), nil
		} else {
			c.Messages = cr.consumeN(w, size)
		}
		if err := cr.cell(ctx, c, prepare); err != nil {
			return err
		}
	}
	return nil
}

// n is a produce cell's message count. pykafka sends a tenth of it (pykafkaJob).
func (cr *clusterRun) n(size int) int { return cr.p.produceN(size) }

// consumeN is the message count of a cell of workload w that reads a filled topic. pykafka reads a tenth of a
// consume cell's (pykafkaJob); its group consumer cannot be held to a prefix, so group cells on the Kafka 3.9
// cluster, where it runs, keep counts it gets through.
func (cr *clusterRun) consumeN(w string, size int) int {
	if cr.spec.legacy && w != workload.Consume {
		return cr.p.legacyGroupN(size)
	}
	return cr.p.consumeN(size)
}

func cellKey(c report.Cell) string {
	k := fmt.Sprintf("%s/%s/%d/%s", c.Workload, c.Cluster, c.Size, c.Compression)
	if c.Acks != "" {
		k += "/acks=" + c.Acks
	}
	if c.Delivery != "" {
		k += "/" + c.Delivery
	}
	if c.Clients > 0 {
		k += fmt.Sprintf("/clients=%d", c.Clients)
	}
	if c.InFlight > 0 {
		k += fmt.Sprintf("/inflight=%d", c.InFlight)
	}
	if c.Security != "" {
		k += "/" + c.Security
	}
	if c.Partitions > 0 {
		k += fmt.Sprintf("/partitions=%d", c.Partitions)
	}
	return k
}

// partitions is how many partitions c's topic has: its own count, or the plan's.
func (cr *clusterRun) partitions(c report.Cell) int {
	if c.Partitions > 0 {
		return c.Partitions
	}
	return cr.p.partitions
}

var unsafeTopic = regexp.MustCompile(`[^a-zA-Z0-9._-]+`)

// cell runs one cell: a fresh topic (filled by prepare, when set), every contender p.reps times, interleaved
// so that drift over the run spreads over all of them, then deletes the topic.
func (cr *clusterRun) cell(ctx context.Context, c report.Cell, prepare func(context.Context, report.Cell, string) (map[int32]int64, error)) error {
	c.Key = cellKey(c)
	if cr.filter != nil && !cr.filter.MatchString(c.Key) {
		return nil
	}
	if cr.dryRun {
		cr.matched++
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	log.Printf("cell %s", c.Key)
	topic := "bench-" + unsafeTopic.ReplaceAllString(strings.ReplaceAll(c.Key, "/", "-"), "")
	if len(topic) > 200 {
		topic = topic[:200]
	}
	if err := cr.createTopic(ctx, c, topic); err != nil {
		return err
	}
	defer func() { cr.deleteTopic(topic) }() // the cell's last topic: produce cells move on (runsPerTopic)
	var ends map[int32]int64
	if prepare != nil {
		var err error
		if ends, err = prepare(ctx, c, topic); err != nil {
			return err
		}
	}
	cr.r.Cells = append(cr.r.Cells, c)
	var contenders []string
	for _, name := range cr.spec.contenders {
		if len(cr.p.contenders) > 0 && !slices.Contains(cr.p.contenders, name) {
			continue
		}
		if supports(name, c.Workload) && securityContender(name, c.Security) && deliveryContender(name, c.Delivery) &&
			(c.InFlight == 0 || inFlightContender(name)) {
			contenders = append(contenders, name)
		}
	}
	if c.Workload != workload.Conns {
		cr.warmUp(ctx, c, topic, ends)
	}
	if cr.besideBaseline(c, contenders) {
		cr.besideRuns(ctx, c, topic, contenders)
		return ctx.Err()
	}
	base, perTopic := topic, runsPerTopic(c)
	for i, t := range runOrder(contenders, cr.p.reps, len(cr.r.Cells)) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if perTopic > 0 && i > 0 && i%perTopic == 0 {
			// The topic has had its share of records: a fresh one, warmed up as the first was.
			cr.deleteTopic(topic)
			topic = fmt.Sprintf("%s-%d", base, i/perTopic+1)
			if err := cr.createTopic(ctx, c, topic); err != nil {
				return err
			}
			cr.warmUp(ctx, c, topic, nil)
		}
		if t.first {
			cr.probe(ctx, c)
		}
		res, ran := cr.runOne(ctx, t.name, c, topic, ends, t.rep, "")
		if ran {
			cr.r.Samples = append(cr.r.Samples, report.Sample{Cell: c.Key, Contender: t.name, Rep: t.rep, Result: res})
		}
	}
	if cr.profile && !cr.p.quick && !cr.spec.legacy && slices.Contains(contenders, "franz-go") && c.Workload != workload.Latency && c.Workload != workload.Conns {
		cr.profileIfBehind(ctx, c, topic, ends)
	}
	return nil
}

// topicBytes bounds the records a produce cell writes to one topic. A cell's topic lives until the cell ends,
// and 5 repetitions of 6 contenders writing 500 MB each, on three replicas, would need 45 GB of disk: a produce
// cell moves to a fresh topic once the next run would take its topic past this.
const topicBytes = 2 << 30

// runsPerTopic is how many runs of c share one topic; 0: all of them (c writes nothing, or little).
func runsPerTopic(c report.Cell) int {
	if c.Workload != workload.Produce || c.Messages <= 0 || c.Size <= 0 {
		return 0
	}
	run := int64(c.Messages) * int64(c.Size)
	if run*30 <= topicBytes { // 5 repetitions of 6 contenders fit
		return 0
	}
	return int(max(topicBytes/run, 1))
}

func (cr *clusterRun) createTopic(ctx context.Context, c report.Cell, topic string) error {
	err := cr.admin.Cluster().CreateTopics(ctx, kafka.TopicSpec{Name: topic, Partitions: int32(cr.partitions(c)),
		ReplicationFactor: int16(cr.spec.brokers)})
	if err != nil {
		return fmt.Errorf("creating %s: %w", topic, err)
	}
	return nil
}

func (cr *clusterRun) deleteTopic(topic string) {
	dctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := cr.admin.Cluster().DeleteTopics(dctx, topic); err != nil {
		log.Printf("deleting %s: %v", topic, err)
	}
}

// pykafkaJob cuts j down for pykafka. Pure Python moves an order of magnitude fewer messages: a tenth of the
// count measures its rate just as well in a tenth of the time. It produces a tenth of the messages, and a consumer
// reads the first tenth of each partition.
func pykafkaJob(j *job) {
	switch j.cell.Workload {
	case workload.Produce:
		j.n = max(j.cell.Messages/10, 500)
	case workload.Consume:
		j.ends = workload.FirstOfEnds(j.ends, max(workload.TotalEnds(j.ends)/10, 500))
	}
}

// skips reports whether name sits c out: pykafka when it could not be installed, or has failed this kind of cell.
func (cr *clusterRun) skips(name string, c report.Cell) bool {
	if name != pykafkaName {
		return false
	}
	if why, ok := cr.r.Unavailable[pykafkaName]; ok && why != "" {
		return true
	}
	return cr.pykafkaBroken[cr.brokenKey(c)] != ""
}

// runOne runs one contender once; ran is false when it was skipped. Each of opts adjusts its job first.
func (cr *clusterRun) runOne(ctx context.Context, name string, c report.Cell, topic string, ends map[int32]int64,
	rep int, profile string, opts ...func(*job)) (res workload.Result, ran bool) {
	if cr.skips(name, c) {
		return res, false
	}
	j := job{cell: c, cl: cr.cl, topic: topic, partitions: cr.partitions(c), payload: cr.payloads[c.Size],
		ends: ends, n: c.Messages, duration: cr.p.latFor, warmup: cr.p.latWarm, profile: profile,
		group: fmt.Sprintf("bench-%s-%d-%d", name, rep, time.Now().UnixNano())}
	if name == pykafkaName {
		pykafkaJob(&j)
	}
	if c.Size == 1 { // conns: no payload file needed
		j.payload = cr.payloads[cr.p.sizes[0]]
	}
	for _, o := range opts {
		o(&j)
	}
	res = cr.e.run(ctx, name, j)
	if name == pykafkaName && res.Error != "" && rep == 0 {
		if cr.pykafkaBroken == nil {
			cr.pykafkaBroken = map[string]string{}
		}
		cr.pykafkaBroken[cr.brokenKey(c)] = res.Error
	}
	return res, true
}

// fillFactor is how many times a measured run's bound a fill may take. Nothing is measured there, and three brokers
// sharing one core took 4 min 42 s, or more than five, to take 500 MB of 10 KiB records into 3,000 partitions with
// every replica's acknowledgement.
const fillFactor = 4

// fill writes the cell's messages with the plan's filler (franz-go unless -filler names another) in the cell's
// codec, and returns each partition's end offset. The filler is idempotent, so that a retried
// batch is not written twice: without it, three brokers at 3,000 partitions took 72,418 records for 50,000 (in
// 253 s; idempotent, exactly 50,000 in 283 s), and a cell's size depended on its fill.
func (cr *clusterRun) fill(ctx context.Context, c report.Cell, topic string) (map[int32]int64, error) {
	filler, j := cr.fillJob(c, topic)
	res := cr.e.run(ctx, filler, j)
	if res.Error != "" {
		return nil, fmt.Errorf("filling %s: %s", topic, res.Error)
	}
	t, err := cr.admin.Topic(ctx, topic)
	if err != nil {
		return nil, err
	}
	var got int64
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		ends, err := t.LatestOffsets(ctx)
		if err != nil {
			return nil, err
		}
		if got = workload.TotalEnds(ends); got >= int64(c.Messages) {
			if got > int64(c.Messages) {
				// Not expected of an idempotent filler, but every contender reads to the same ends, and CPU
				// per record divides by what it read, so the cell still compares.
				log.Printf("filled %s with %d messages, %d more than asked", topic, got, got-int64(c.Messages))
			}
			return ends, nil
		}
	}
	return nil, fmt.Errorf("filled %s with %d messages, want %d", topic, got, c.Messages)
}

// fillJob is the filler and its run for cell c's topic.
func (cr *clusterRun) fillJob(c report.Cell, topic string) (string, job) {
	fc := c
	fc.Workload = workload.Produce
	fc.Acks = "all" // every replica has it, so the high watermark is at the end when the filler exits
	fc.Delivery = workload.Idempotent
	return cr.p.filler, job{cell: fc, cl: cr.cl, topic: topic, partitions: cr.partitions(c), payload: cr.payloads[c.Size],
		n: c.Messages, quiet: true, timeout: fillFactor * cr.e.timeout}
}

// warmUp runs the cell's kind of work once before anything is measured, so that first-time costs fall on no
// contender. A topic filled for the cell (ends set) is read once: the first read of freshly written records cost the
// client that ran it up to 1.5x its median (10 KiB records, 10 partitions). Any other topic gets a few messages,
// for the brokers' first-write costs (segment files, leader caches, JIT). A latency cell is warmed up by a whole
// latency run: after a burst of batches, the first run of paced single-message requests still had a p99 of 10-33
// ms (against 1-4 for the runs after it, whichever client ran first) and a pause of seconds did not help. The
// first latency cell of each codec on a cluster is warmed up for longer (firstLatencyWarm): on a fresh broker,
// paced requests still had 3-5 ms p99s for the first 40-60 s, with no collection in them, against 0.5-1 ms
// after. That is the brokers' JIT, on new code paths (a codec's) too: on three brokers sharing one core, after one
// minute, each codec's first cell still had every client's p50 fall from 6-12 ms in its first repetition to 4 ms
// in its last, so short runs follow the long one until their medians settle.
func (cr *clusterRun) warmUp(ctx context.Context, c report.Cell, topic string, ends map[int32]int64) {
	wc := c
	wc.Workload = workload.Produce
	j := job{cell: wc, cl: cr.cl, topic: topic, partitions: cr.partitions(c), payload: cr.payloads[c.Size],
		n: min(max(c.Messages/10, 1000), 20_000), quiet: true}
	switch {
	case ends != nil:
		j.cell.Workload, j.ends, j.n = workload.Consume, ends, 0
	case c.Workload == workload.Latency:
		j.cell, j.duration, j.warmup = c, cr.p.latFor, cr.p.latWarm
		if !cr.latencyWarm[c.Compression] {
			j.duration = max(j.duration, firstLatencyWarm(cr.p.latFirstWarm, cr.spec.brokers))
			if cr.latencyWarm == nil {
				cr.latencyWarm = map[string]bool{}
			}
			cr.latencyWarm[c.Compression] = true
		}
	}
	if c.Size == 1 {
		j.payload = cr.payloads[cr.p.sizes[0]]
		j.cell.Size = cr.p.sizes[0]
	}
	res := cr.e.run(ctx, "franz-go", j)
	if res.Error != "" {
		log.Printf("warm-up of %s: %s", topic, res.Error)
		return
	}
	if j.duration > cr.p.latFor {
		// After the long run, runs of the cell's own length until two in a row agree (see settle).
		j.duration = cr.p.latFor
		n, ok := settle(latencySettleRuns, func() (float64, bool) {
			r := cr.e.run(ctx, "franz-go", j)
			return r.P50Ms, r.Error == "" && r.P50Ms > 0
		})
		log.Printf("warm-up of %s: %d more latency runs, settled: %v", topic, n, ok)
	}
}

// latencySettleRuns bounds the runs settle makes after a cluster's long latency warm-up.
const latencySettleRuns = 8

// settle calls run, which reports a run's median latency, until two runs in a row have medians within 15% of each
// other, at most limit times; it returns how many runs it made and whether the last two agreed (why: see warmUp).
func settle(limit int, run func() (p50 float64, ok bool)) (int, bool) {
	prev := 0.0
	for i := 1; i <= limit; i++ {
		cur, ok := run()
		if !ok {
			return i, false
		}
		if prev > 0 && cur <= prev*1.15 && prev <= cur*1.15 {
			return i, true
		}
		prev = cur
	}
	return limit, false
}

// profileIfBehind reruns gregor with a CPU profile when its median throughput in c trails franz-go's, or its
// median CPU per record is above 0.8 of franz-go's (the goal), and keeps the profile's top functions for the
// report.
func (cr *clusterRun) profileIfBehind(ctx context.Context, c report.Cell, topic string, ends map[int32]int64) {
	gs, fs := sampleResults(cr.r, c.Key, "gregor"), sampleResults(cr.r, c.Key, "franz-go")
	g, f := report.Summarize(gs, report.MBps), report.Summarize(fs, report.MBps)
	gc, fc := report.Summarize(gs, report.CPUPerRecord), report.Summarize(fs, report.CPUPerRecord)
	if !g.OK() || !f.OK() || (g.Median >= f.Median && (!gc.OK() || !fc.OK() || gc.Median <= 0.8*fc.Median)) {
		return
	}
	prof := filepath.Join(cr.resultsDir, "profiles", unsafeTopic.ReplaceAllString(strings.ReplaceAll(c.Key, "/", "_"), "")+".pprof")
	if err := os.MkdirAll(filepath.Dir(prof), 0o755); err != nil {
		return
	}
	if res, _ := cr.runOne(ctx, "gregor", c, topic, ends, 0, prof); res.Error != "" {
		return
	}
	cmd := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-nodecount=15", cr.e.benchclient, prof)
	out, err := cmd.Output()
	if err != nil {
		log.Printf("pprof %s: %v", prof, err)
		return
	}
	cr.r.Profiles = append(cr.r.Profiles, report.Profile{Key: c.Key, Cell: report.Label(c) + " (" + c.Workload + ")", Top: pprofTop(string(out))})
}

// pprofTop keeps pprof's summary and table, without the preamble naming local files.
func pprofTop(out string) string {
	var keep []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "File:") || strings.HasPrefix(l, "Build ID:") || strings.HasPrefix(l, "Time:") ||
			strings.HasPrefix(l, "Type:") {
			continue
		}
		keep = append(keep, l)
	}
	return strings.Join(keep, "\n")
}

func sampleResults(r *report.Results, cell, contender string) []workload.Result {
	var out []workload.Result
	for _, s := range r.Samples {
		if s.Cell == cell && s.Contender == contender {
			out = append(out, s.Result)
		}
	}
	return out
}

// firstLatencyWarm is how long the first latency cell of a codec warms up on a cluster of brokers: per, for each
// broker, since the brokers share the CPUs their JIT compiles on.
func firstLatencyWarm(per time.Duration, brokers int) time.Duration {
	return per * time.Duration(max(brokers, 1))
}
