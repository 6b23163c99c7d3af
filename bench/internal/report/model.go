package report

import (
	"encoding/json"
	"os"
	"slices"

	"github.com/gregorkafka/gregor/bench/internal/workload"
)

// Baseline is the contender every ratio is taken against.
const Baseline = "gregor"

// Cell is one workload configuration that every contender runs.
type Cell struct {
	Key         string `json:"key"`
	Cluster     string `json:"cluster"` // e.g. "kraft-3 (Kafka 4.3.1)"
	Workload    string `json:"workload"`
	Size        int    `json:"size"`
	Compression string `json:"compression"`
	Acks        string `json:"acks,omitempty"`
	Messages    int    `json:"messages,omitempty"`
	Rate        int    `json:"rate,omitempty"`
	Clients     int    `json:"clients,omitempty"`
	InFlight    int    `json:"in_flight,omitempty"` // conns: requests each client keeps in flight
	// Security is the listener's protocol when not plaintext: "ssl".
	Security string `json:"security,omitempty"`
	// Delivery is the producers' mode when not idempotence off: "idempotent" or "transactional".
	Delivery string `json:"delivery,omitempty"`
	// Partitions is the topic's partition count when not the run's default (the consume cells' -partitions).
	Partitions int `json:"partitions,omitempty"`
	// Probe holds the CPU speed probe's rates in MB/s, one per repetition in the order they ran (a failed probe
	// is left out; none in results from before the probe): see probe.go.
	Probe []float64 `json:"cpu_probe_mbps,omitempty"`
}

// Sample is one run of one contender in one cell.
type Sample struct {
	Cell      string `json:"cell"`
	Contender string `json:"contender"`
	Rep       int    `json:"rep"`
	// Beside is the contender this run ran beside, at the same time (latency cells; "": it ran alone).
	Beside string          `json:"beside,omitempty"`
	Result workload.Result `json:"result"`
}

// Profile is the top of a CPU profile of gregor in a cell where it trailed franz-go.
type Profile struct {
	Key  string `json:"key,omitempty"` // the cell's key
	Cell string `json:"cell"`          // its label
	Top  string `json:"top"`
}

// Results is everything a run produced; the runner saves it as JSON so the report can be rendered again.
type Results struct {
	Title   string `json:"title"`
	Command string `json:"command"`
	Quick   bool   `json:"quick"`
	// Partial marks results holding only some cells (a -only run with no full results to merge into).
	Partial     bool              `json:"partial,omitempty"`
	Reps        int               `json:"reps"`
	Started     string            `json:"started"`
	Duration    string            `json:"duration"`
	Machine     []KV              `json:"machine"`
	Versions    []KV              `json:"versions"`
	Settings    []KV              `json:"settings"` // contender → its configuration, in words
	Contenders  []string          `json:"contenders"`
	Cells       []Cell            `json:"cells"`
	Samples     []Sample          `json:"samples"`
	Unavailable map[string]string `json:"unavailable,omitempty"` // contender → why it could not run at all
	Notes       []string          `json:"notes,omitempty"`
	Profiles    []Profile         `json:"profiles,omitempty"`
}

// KV is an ordered name/value pair.
type KV struct {
	K string `json:"k"`
	V string `json:"v"`
}

// Save writes r as indented JSON.
func (r *Results) Save(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// Load reads what Save wrote.
func Load(path string) (*Results, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Results
	return &r, json.Unmarshal(b, &r)
}

// results returns the results of the samples keep keeps, in order.
func (r *Results) results(keep func(Sample) bool) []workload.Result {
	var out []workload.Result
	for _, s := range r.Samples {
		if keep(s) {
			out = append(out, s.Result)
		}
	}
	return out
}

// samples returns the results of contender in cell.
func (r *Results) samples(cell, contender string) []workload.Result {
	return r.results(func(s Sample) bool { return s.Cell == cell && s.Contender == contender })
}

// baseline returns gregor's runs in cell that contender's ratio is taken against: those that ran beside it, when
// some did, else all of them.
func (r *Results) baseline(cell, contender string) []workload.Result {
	beside := r.results(func(s Sample) bool { return s.Cell == cell && s.Contender == Baseline && s.Beside == contender })
	if len(beside) > 0 {
		return beside
	}
	return r.samples(cell, Baseline)
}

// ownRuns returns contender's runs in cell for its own column. For the baseline, in a cell whose runs went side by
// side, those are its runs beside the Go clients: java-perf's JVM and pykafka's interpreter share the client's core
// with it (their start-up, compiler and collector threads), and beside them gregor's p99 was 2.3-4.5 ms against
// 0.4-1.1 beside any Go client. Their ratios are still to gregor's runs beside them (baseline).
func (r *Results) ownRuns(cell, contender string) []workload.Result {
	if contender == Baseline {
		own := r.results(func(s Sample) bool {
			return s.Cell == cell && s.Contender == Baseline && s.Beside != "" && !foreignRuntime[s.Beside]
		})
		if len(own) > 0 {
			return own
		}
	}
	return r.samples(cell, contender)
}

// The contenders that are not Go clients but tools of another runtime, measured for reference.
const (
	JavaPerf = "java-perf" // Kafka's own ProducerPerformance and ConsumerPerformance
	PyKafka  = "pykafka"
)

var foreignRuntime = map[string]bool{JavaPerf: true, PyKafka: true}

// ranBeside reports whether some run of workload w ran beside another (see Sample.Beside).
func (r *Results) ranBeside(w string) bool {
	for _, c := range r.cellsOf(w) {
		for _, s := range r.Samples {
			if s.Cell == c.Key && s.Beside != "" {
				return true
			}
		}
	}
	return false
}

// cellsOf returns the cells of one workload, in run order.
func (r *Results) cellsOf(w string) []Cell {
	var out []Cell
	for _, c := range r.Cells {
		if c.Workload == w {
			out = append(out, c)
		}
	}
	return out
}

// contendersIn lists the contenders with at least one sample in the cells, in the Results' order.
func (r *Results) contendersIn(cells []Cell) []string {
	var out []string
	for _, name := range r.Contenders {
		for _, c := range cells {
			if len(r.samples(c.Key, name)) > 0 && !slices.Contains(out, name) {
				out = append(out, name)
			}
		}
	}
	return out
}

// Merge replaces, in base, the cells whose keys match and every sample and profile of them with those of
// update (a run of only those cells), and returns base. The run's date and duration stay base's.
func Merge(base, update *Results, match func(key string) bool) *Results {
	keep := func(key string) bool { return !match(key) }
	// A rerun cell takes its old place, so tables keep their row order.
	fresh := make(map[string]Cell, len(update.Cells))
	for _, c := range update.Cells {
		fresh[c.Key] = c
	}
	var cells []Cell
	for _, c := range base.Cells {
		if keep(c.Key) {
			cells = append(cells, c)
		} else if u, ok := fresh[c.Key]; ok {
			cells = append(cells, u)
			delete(fresh, c.Key)
		}
	}
	for _, c := range update.Cells {
		if _, ok := fresh[c.Key]; ok {
			cells = append(cells, c)
		}
	}
	base.Cells = cells
	var samples []Sample
	for _, s := range base.Samples {
		if keep(s.Cell) {
			samples = append(samples, s)
		}
	}
	base.Samples = append(samples, update.Samples...)
	var profiles []Profile
	for _, p := range base.Profiles {
		if p.Key == "" || keep(p.Key) {
			profiles = append(profiles, p)
		}
	}
	base.Profiles = append(profiles, update.Profiles...)
	base.Machine, base.Versions, base.Settings = update.Machine, update.Versions, update.Settings
	for k, v := range update.Unavailable {
		base.Unavailable[k] = v
	}
	return base
}
