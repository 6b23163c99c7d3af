package workload

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Workload names, as passed to benchclient -workload.
const (
	Produce = "produce" // N messages as fast as possible
	Consume = "consume" // read a pre-filled topic from the start
	Latency = "latency" // a fixed rate, lowest-latency settings, ack latency percentiles
	Group   = "group"   // Members consumers in one group read a pre-filled topic
	// GroupJoin: Members cooperative-sticky consumers read a pre-filled topic, and one more joins once half of
	// it is read.
	GroupJoin = "group-join"
	// GroupJoin848 is GroupJoin in a consumer-protocol (KIP-848) group, where the broker assigns.
	GroupJoin848 = "group-join-848"
	Conns        = "conns" // Clients clients, each with connections to every broker: goroutines, threads, RSS
)

// Spec.Delivery values besides "" (idempotence off).
const (
	Idempotent    = "idempotent"
	Transactional = "transactional"
)

// Spec is one run of one contender. benchclient fills it from its flags; the Python client takes the same flags.
type Spec struct {
	Workload    string
	Bootstrap   []string
	Topic       string
	Partitions  int
	Messages    int    // produce: how many; consume and group: the sum of Ends
	Size        int    // value bytes
	PayloadFile string // values, one a line (see WritePayload)
	Compression string // "none", "lz4" or "zstd"
	Acks        string // "1" or "all"
	// Delivery is how a producer writes: "" (idempotence off, every client alike), "idempotent" (acks=all,
	// sequence numbers), or "transactional" (idempotent, and every TxnRecords records one transaction).
	Delivery    string
	TxnRecords  int             // transactional: records per transaction
	Rate        int             // latency: messages per second
	Duration    time.Duration   // latency: how long to send, after Warmup
	Warmup      time.Duration   // latency: how long to send first, acknowledged but left out of the percentiles
	Members     int             // group: consumers in the group
	Group       string          // group: the group id
	Clients     int             // conns: client instances
	InFlight    int             // conns: requests each client keeps in flight (Fetches the brokers hold)
	Ends        map[int32]int64 // consume and group: each partition's end offset
	BufferMsgs  int             // producer buffer limit, messages
	BufferBytes int             // producer buffer limit, bytes
	Timeout     time.Duration   // the whole run
	TLSCAFile   string          // when set, connect over TLS trusting this PEM CA
	// SASLUser and SASLPassword, when set, authenticate every connection with SASL PLAIN (SASL_SSL cells).
	SASLUser, SASLPassword string
	// Start is when a latency run's first send is due; zero, or past by the time the client is ready: at once.
	// Runs side by side take their send times from one clock this way (see Pacer).
	Start time.Time
}

// Result is what a client prints, as one JSON line, when a run ends.
type Result struct {
	Messages int64   `json:"messages"`
	Bytes    int64   `json:"bytes"`   // value bytes moved
	Seconds  float64 `json:"seconds"` // the timed part of the run
	P50Ms    float64 `json:"p50_ms,omitempty"`
	P99Ms    float64 `json:"p99_ms,omitempty"`
	P999Ms   float64 `json:"p999_ms,omitempty"`
	// Samples are a latency run's acknowledgement latencies, sorted, for callers in the same process that pool
	// several runs (a percentile of many runs' samples is steadier than a median of their percentiles).
	Samples []time.Duration `json:"-"`
	// Hist counts a latency run's acknowledgement latencies, for the report to pool runs of other processes.
	Hist Histogram `json:"hist,omitempty"`
	// AssignSeconds is, for group runs, the time from starting the members until they together own every
	// partition, each member at least one.
	AssignSeconds float64 `json:"assign_seconds,omitempty"`
	// UnownedSeconds is, for group-join runs, how long some partition had no owner after the group first owned
	// them all (the joiner's rebalance); Replayed how many records were delivered more than once.
	UnownedSeconds float64 `json:"unowned_seconds,omitempty"`
	Replayed       int64   `json:"replayed,omitempty"`
	Goroutines     int     `json:"goroutines,omitempty"`
	Threads        int     `json:"threads,omitempty"`
	RSSBytes       int64   `json:"rss_bytes,omitempty"`
	Sockets        int     `json:"sockets,omitempty"`
	Error          string  `json:"error,omitempty"`
	// Filled in by the runner from the client process's rusage.
	CPUSeconds float64 `json:"cpu_seconds,omitempty"`
	MaxRSS     int64   `json:"max_rss_bytes,omitempty"`
}

// FormatEnds renders partition end offsets for the -ends flag: "0:1000,1:1000".
func FormatEnds(ends map[int32]int64) string {
	parts := make([]string, 0, len(ends))
	for p := int32(0); len(parts) < len(ends); p++ {
		if e, ok := ends[p]; ok {
			parts = append(parts, fmt.Sprintf("%d:%d", p, e))
		}
		if p > 1<<20 {
			break
		}
	}
	return strings.Join(parts, ",")
}

// ParseEnds reads the -ends flag.
func ParseEnds(s string) (map[int32]int64, error) {
	ends := map[int32]int64{}
	if s == "" {
		return ends, nil
	}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, ":")
		p, err1 := strconv.ParseInt(k, 10, 32)
		e, err2 := strconv.ParseInt(v, 10, 64)
		if !ok || err1 != nil || err2 != nil || p < 0 || e < 0 {
			return nil, fmt.Errorf("workload: bad partition end %q, want PARTITION:OFFSET", kv)
		}
		ends[int32(p)] = e
	}
	return ends, nil
}

// TotalEnds is the number of messages a consumer reading every partition from offset 0 to its end sees.
func TotalEnds(ends map[int32]int64) int64 {
	var n int64
	for _, e := range ends {
		n += e
	}
	return n
}

// FirstOfEnds returns ends cut down to about n messages from offset 0, each partition's end scaled by the same
// fraction (a partition with messages keeps at least one). Ends that already hold n or fewer are returned as
// they are.
func FirstOfEnds(ends map[int32]int64, n int64) map[int32]int64 {
	total := TotalEnds(ends)
	if n >= total || total == 0 {
		return ends
	}
	out := make(map[int32]int64, len(ends))
	for p, e := range ends {
		cut := e * n / total
		if cut == 0 && e > 0 {
			cut = 1
		}
		out[p] = cut
	}
	return out
}
