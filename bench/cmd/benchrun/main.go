// Command benchrun runs gregor's side-by-side benchmark: it starts harness clusters (1 and 3 brokers of Kafka
// 4.3.1, and one Kafka 3.9.2 broker for pykafka, which cannot speak to Kafka 4), runs every contender on every
// workload cell as a separate process, and writes docs/benchmarks.md and docs/benchmarks.svg, with the raw results
// they are rendered from in docs/benchmarks.json. "make bench" runs it; BENCH_QUICK=1 makes a short smoke run.
//
//	cd bench && go run ./cmd/benchrun [-quick] [-only REGEXP] [-contenders NAME,...] [-partitions N,...] [-latency-for D] [-filler NAME] [-report-only | -render DIR]
//
// A run limited to some contenders writes its report to bench/results/targeted instead.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/gregorkafka/gregor/bench/internal/report"
	"github.com/gregorkafka/gregor/bench/internal/workload"
)

func main() {
	quick := flag.Bool("quick", os.Getenv("BENCH_QUICK") == "1", "short smoke run (also BENCH_QUICK=1)")
	only := flag.String("only", os.Getenv("BENCH_ONLY"), "run only cells whose key matches this regexp")
	reportOnly := flag.Bool("report-only", false, "render docs/ again from docs/benchmarks.json, running nothing")
	render := flag.String("render", "", "render DIR/benchmarks.md and .svg again from DIR/benchmarks.json as it stands (a published targeted run, e.g. docs/latency), running nothing")
	profile := flag.Bool("profile", os.Getenv("BENCH_PROFILE") != "0", "profile gregor where it trails franz-go")
	verbose := flag.Bool("v", true, "print every run's result")
	pin := flag.Bool("pin", os.Getenv("BENCH_PIN") != "0", "pin brokers and the client under test to separate cores with taskset")
	reps := flag.Int("reps", 0, "repetitions per cell (0: the plan's, 5 in a full run)")
	contenders := flag.String("contenders", "", "run only these contenders (comma-separated), for a targeted run")
	beside := flag.Bool("latency-beside", os.Getenv("BENCH_LATENCY_BESIDE") != "0",
		"latency cells: run each contender at the same time as gregor, not after it (also BENCH_LATENCY_BESIDE=0 for off)")
	partitions := flag.String("partitions", os.Getenv("BENCH_PARTITIONS"),
		"run the consume cells at these partition counts (comma-separated, e.g. 10,100,1000,3000; also BENCH_PARTITIONS); default: the plan's topic partitions")
	latFor := flag.Duration("latency-for", 0, "latency runs: how long each counts acknowledgements (0: the plan's, 4 s in a full run); longer runs put more acknowledgements behind each p99.9")
	filler := flag.String("filler", defaultFiller, "the contender that fills the consume cells' topics (idempotent, acks=all); who filled a topic moves its consume cells (see the report's notes)")
	probe := flag.Bool(probeFlag, false, "run the CPU speed probe once, print its rate in MB/s and exit (the runner runs it on the client's core before each repetition)")
	flag.Parse()
	log.SetFlags(log.Ltime)
	if *probe {
		if err := runProbe(); err != nil {
			log.Fatal(err)
		}
		return
	}

	root, err := repoRoot()
	if err != nil {
		log.Fatal(err)
	}
	resultsDir := filepath.Join(root, "bench", "results")
	docsDir := filepath.Join(root, "docs")
	resultsFile := filepath.Join(resultsDir, "results.json") // the last run's, whatever it was
	// The results docs/ shows are kept beside it, so that a rerun of some cells on any checkout merges into them.
	fullFile := filepath.Join(docsDir, "benchmarks.json")
	if *render != "" {
		// A targeted run's settings and notes are its own run's (its flags changed them), so they stay.
		r, err := report.Load(filepath.Join(*render, "benchmarks.json"))
		if err != nil {
			log.Fatal(err)
		}
		if err := writeDocs(r, *render); err != nil {
			log.Fatal(err)
		}
		return
	}
	if *reportOnly {
		r, err := report.Load(fullFile)
		if err != nil {
			log.Fatal(err)
		}
		// Settings and notes are descriptions kept in code: take the current ones.
		p := fullPlan()
		if r.Quick {
			p = quickPlan()
		}
		var reruns []string
		for _, n := range r.Notes {
			if isRerunNote(n) {
				reruns = append(reruns, n)
			}
		}
		p.consumePartitions = cellPartitions(r.Cells)
		r.Settings, r.Notes = settings(p), append(notes(r, p), reruns...)
		// The JSON keeps what the report was rendered from, so that rendering it again gives the same report.
		if err := r.Save(fullFile); err != nil {
			log.Fatal(err)
		}
		if err := writeDocs(r, docsFor(r, docsDir, resultsDir)); err != nil {
			log.Fatal(err)
		}
		return
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	p := fullPlan()
	if *quick {
		p = quickPlan()
	}
	var filter *regexp.Regexp
	if *only != "" {
		filter = regexp.MustCompile(*only)
	}
	if *reps > 0 {
		p.reps = *reps
	}
	p.latBeside = *beside
	if err := checkFiller(*filler, *contenders != ""); err != nil {
		log.Fatal(err)
	}
	p.filler = *filler
	if *latFor < 0 {
		log.Fatalf("-latency-for %v: want a positive duration, or 0 for the plan's", *latFor)
	}
	if *latFor > 0 {
		p.latFor = *latFor
	}
	if p.consumePartitions, err = parsePartitions(*partitions); err != nil {
		log.Fatal(err)
	}
	if *contenders != "" {
		// A targeted run: the others' samples, if any, stay as the last run left them.
		p.contenders = strings.Split(*contenders, ",")
		if filter == nil {
			filter = regexp.MustCompile("")
		}
	}
	pins := pinning{why: "-pin=false"}
	if *pin {
		pins = planPinning(currentAffinity(lookTaskset()), exec.LookPath)
	}
	r, err := runAll(ctx, root, resultsDir, p, filter, *profile, *verbose, pins)
	if r != nil && len(p.contenders) > 0 {
		// Some contenders only: its report stands apart, never merged into the full results, and says how it was run.
		r.Partial = true
		r.Command = benchrunCommand(os.Args[1:])
		r.Contenders = slices.DeleteFunc(r.Contenders, func(name string) bool { return !slices.Contains(p.contenders, name) })
		dir := filepath.Join(resultsDir, "targeted")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			log.Fatal(err)
		}
		file := filepath.Join(dir, "results.json")
		// Targeted runs of the same contenders build on each other, as -only reruns do on the full results.
		if old, lerr := report.Load(file); lerr == nil && old.Quick == r.Quick && slices.Equal(old.Contenders, r.Contenders) {
			r = mergeRerun(old, r, filter, p)
			r.Partial = true
		}
		if err := r.Save(file); err != nil {
			log.Print(err)
		}
		if err := writeDocs(r, dir); err != nil {
			log.Print(err)
		}
		if err != nil {
			log.Fatal(err)
		}
		return
	}
	saveRun(r, err, filter, p, docsDir, resultsDir, resultsFile, fullFile)
	if err != nil {
		log.Fatal(err)
	}
}

// saveRun files the results r of a full or -only run that ended with runErr (nil when it ran its plan): a -only
// run merged into the full results, and those in docs/ when complete; anything else next to the results.
func saveRun(r *report.Results, runErr error, filter *regexp.Regexp, p plan, docsDir, resultsDir, resultsFile, fullFile string) {
	if r == nil {
		return
	}
	if filter != nil {
		// A partial run updates the last full results rather than replacing them; with none to update, it
		// stays marked partial, and its report goes next to the results, never over the full one in docs/.
		r.Partial = true
		base := fullFile
		if r.Quick {
			base = resultsFile
		}
		if old, lerr := report.Load(base); lerr == nil && old.Quick == r.Quick {
			r = mergeRerun(old, r, filter, p)
		}
	}
	if runErr != nil {
		// Ended early (interrupted, or a cluster failed): its cells are some of the plan's, so like a -only run
		// with nothing to merge into, its report goes next to the results and the published one stays.
		r.Partial = true
	}
	if err := r.Save(resultsFile); err != nil {
		log.Print(err)
	}
	dir := docsFor(r, docsDir, resultsDir)
	if err := writeDocs(r, dir); err != nil {
		log.Print(err)
	} else if dir == docsDir {
		if err := r.Save(fullFile); err != nil {
			log.Print(err)
		}
	}
}

// cellPartitions is the partition counts the results' cells were given besides the default.
func cellPartitions(cells []report.Cell) []int {
	var out []int
	for _, c := range cells {
		if c.Partitions > 0 && !slices.Contains(out, c.Partitions) {
			out = append(out, c.Partitions)
		}
	}
	return out
}

// mergeRerun merges r, a run of the cells filter matches, into old, the results it reruns some cells of. The
// header keeps old's time; a note says which cells are newer, and what the machine table said differently for the
// cells kept.
func mergeRerun(old, r *report.Results, filter *regexp.Regexp, p plan) *report.Results {
	changed := machineChanges(old.Machine, r.Machine) // before Merge, which gives r old's machine table
	r = report.Merge(old, r, filter.MatchString)
	r.Notes = append(notes(r, p), rerunNotes(old.Notes, filter.String(), time.Now(), changed)...)
	return r
}

// isRerunNote tells the notes partial runs leave, which stay on record.
func isRerunNote(n string) bool { return strings.Contains(n, "were run again") }

// rerunNotes are the notes saying which cells were run again: the earlier ones in old, but for those of the same
// pattern (this run replaced all their cells), and this one's, at, which names what the machine table said
// differently for the cells it kept (changed, from machineChanges).
func rerunNotes(old []string, pattern string, at time.Time, changed []string) []string {
	prefix := fmt.Sprintf("Cells matching %q were run again", pattern)
	var out []string
	for _, n := range old {
		if isRerunNote(n) && !strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	n := fmt.Sprintf("%s on %s.", prefix, at.UTC().Format("2006-01-02 15:04 MST"))
	if len(changed) > 0 {
		n += " The machine table is this run's; the cells it did not run were measured with " + strings.Join(changed, "; ") + "."
	}
	return append(out, n)
}

// machineChanges lists the machine-table entries whose value in old (the results a rerun merges into) differs
// from now's, as "name: old value"; an entry old lacks reads "name: none".
func machineChanges(old, now []report.KV) []string {
	was := map[string]string{}
	for _, kv := range old {
		was[kv.K] = kv.V
	}
	var out []string
	for _, kv := range now {
		v, ok := was[kv.K]
		switch {
		case !ok:
			out = append(out, kv.K+": none")
		case v != kv.V:
			out = append(out, kv.K+": "+v)
		}
	}
	return out
}

// benchrunCommand is the command line that runs benchrun with args, as a shell takes it from the repository's root.
func benchrunCommand(args []string) string {
	cmd := "cd bench && go run ./cmd/benchrun"
	for _, a := range args {
		cmd += " " + shellQuote(a)
	}
	return cmd
}

// shellQuote leaves a word a shell reads as itself alone and puts any other in single quotes.
func shellQuote(s string) string {
	plain := s != ""
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(",._=/:+-", c)) {
			plain = false
			break
		}
	}
	if plain {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// docsFor is where r's report goes: docs/ for a full run, or for reruns merged into one; the results directory
// for a quick or partial run, so that neither replaces the published numbers.
func docsFor(r *report.Results, docsDir, resultsDir string) string {
	if r.Quick || r.Partial {
		return resultsDir
	}
	return docsDir
}

func writeDocs(r *report.Results, docsDir string) error {
	if err := os.MkdirAll(docsDir, 0o755); err != nil {
		return err
	}
	chart, svg := "benchmarks.svg", report.Chart(r)
	if svg == "" {
		chart = ""
		if err := os.Remove(filepath.Join(docsDir, "benchmarks.svg")); err != nil && !os.IsNotExist(err) {
			return err
		}
	} else if err := os.WriteFile(filepath.Join(docsDir, chart), []byte(svg), 0o644); err != nil {
		return err
	}
	md := filepath.Join(docsDir, "benchmarks.md")
	if err := os.WriteFile(md, []byte(report.Markdown(r, chart)), 0o644); err != nil {
		return err
	}
	log.Printf("wrote %s", md)
	return nil
}

// repoRoot is the gregor checkout holding this bench module: the parent of the directory with bench's go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil &&
			strings.Contains(string(b), "module github.com/gregorkafka/gregor\n") {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("gregor's repository root not found above %s", dir)
		}
	}
}

// build compiles the runner's helpers: benchclient (this module) and the harness's testcluster command (the
// root module: bench cannot import gregor's internal packages, so it runs the command).
func build(ctx context.Context, root, binDir string) (benchclient, testcluster string, err error) {
	benchclient = filepath.Join(binDir, "benchclient")
	testcluster = filepath.Join(binDir, "testcluster")
	for _, b := range []struct{ dir, out, pkg string }{
		{filepath.Join(root, "bench"), benchclient, "./cmd/benchclient"},
		{root, testcluster, "./internal/testcluster/cmd/testcluster"},
	} {
		cmd := exec.CommandContext(ctx, "go", "build", "-o", b.out, b.pkg)
		cmd.Dir = b.dir
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return "", "", fmt.Errorf("building %s: %w", b.pkg, err)
		}
	}
	return benchclient, testcluster, nil
}

func runAll(ctx context.Context, root, resultsDir string, p plan, filter *regexp.Regexp, profile, verbose bool, pin pinning) (*report.Results, error) {
	started := time.Now()
	binDir := filepath.Join(resultsDir, "bin")
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return nil, err
	}
	log.Print("building benchclient and the harness")
	benchclient, testclusterBin, err := build(ctx, root, binDir)
	if err != nil {
		return nil, err
	}
	payloads := map[int]string{}
	for _, size := range p.sizes {
		payloads[size] = filepath.Join(resultsDir, fmt.Sprintf("values-%d.txt", size))
		if err := workload.WritePayload(payloads[size], size); err != nil {
			return nil, err
		}
	}
	r := &report.Results{
		Title: "gregor benchmarks", Quick: p.quick, Reps: p.reps,
		Started:     started.UTC().Format("2006-01-02 15:04 MST"),
		Command:     "make bench",
		Unavailable: map[string]string{},
		Contenders:  append(append([]string{}, goContenders...), javaName, pykafkaName),
	}
	if p.quick {
		r.Command = "BENCH_QUICK=1 make bench"
	}
	log.Print("setting up pykafka")
	python, pyErr := setupPykafka(ctx, root)
	if pyErr != nil {
		r.Unavailable[pykafkaName] = "could not be installed: " + pyErr.Error()
		log.Printf("pykafka: %v", pyErr)
	}
	e := &execer{
		benchclient: benchclient, python: python, pyScript: filepath.Join(root, "bench", "python", "pykafka_bench.py"),
		javaCP: map[string]string{}, workDir: resultsDir, timeout: p.timeout,
		bufferMsgs: bufferMsgs, bufferBytes: bufferBytes, verbose: verbose, pin: pin, jcmd: findJcmd(exec.LookPath),
	}
	if e.probe, err = probeCommand(); err != nil {
		log.Printf("running without the CPU speed probe: %v", err)
	}
	// The harness's jar cache (testcluster.CacheDir), which bench cannot import.
	cache := os.Getenv("GREGOR_CACHE_DIR")
	if cache == "" {
		cache = filepath.Join(root, ".cache")
	}
	for _, v := range []string{"4.3.1", "3.9.2"} {
		e.javaCP[v] = filepath.Join(cache, "kafka-"+v, "lib", "*")
	}
	r.Machine, r.Versions = environment(ctx, root, python)
	r.Machine = append(r.Machine, report.KV{K: "pinning", V: pin.describe()})
	log.Printf("pinning: %s", pin.describe())
	r.Machine = append(r.Machine, report.KV{K: "broker collections", V: collections(e.jcmd)})
	r.Settings = settings(p)

	var runErr error
	for _, spec := range clusters() {
		if ctx.Err() != nil {
			break
		}
		if err := runCluster(ctx, r, e, p, spec, testclusterBin, payloads, filter, profile, resultsDir); err != nil {
			runErr = err
			log.Printf("cluster %s-%d: %v", spec.mode, spec.brokers, err)
		}
	}
	r.Notes = notes(r, p)
	r.Duration = time.Since(started).Round(time.Second).String()
	log.Printf("done in %s", r.Duration)
	if runErr == nil {
		runErr = ctx.Err()
	}
	return r, runErr
}
