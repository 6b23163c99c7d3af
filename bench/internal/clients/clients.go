// Package clients holds one adapter per Kafka client under comparison. Every adapter runs the same workloads
// (see package workload) with the settings documented in Settings, so that the numbers differ only by client.
// They need brokers, so nothing here runs in plain "go test"; cmd/benchclient runs one adapter per process,
// which lets the runner read that client's own CPU time from rusage.
package clients

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/gregorkafka/gregor/bench/internal/workload"
)

// Run executes one workload.
type Run func(ctx context.Context, s *workload.Spec) (workload.Result, error)

// Contender is one client's adapters, by workload name. A missing workload is unsupported.
type Contender struct {
	Name string
	Runs map[string]Run
}

// ErrUnsupported is returned for a workload a client cannot run.
var ErrUnsupported = errors.New("workload not supported by this client")

var registry = map[string]Contender{}

func register(c Contender) { registry[c.Name] = c }

// Names lists the registered Go contenders.
func Names() []string {
	var out []string
	for n := range registry {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Execute runs workload s.Workload of the named client.
func Execute(ctx context.Context, name string, s *workload.Spec) (workload.Result, error) {
	c, ok := registry[name]
	if !ok {
		return workload.Result{}, fmt.Errorf("unknown client %q (have %v)", name, Names())
	}
	run, ok := c.Runs[s.Workload]
	if !ok {
		return workload.Result{}, fmt.Errorf("%s %s: %w", name, s.Workload, ErrUnsupported)
	}
	return run(ctx, s)
}

// value returns the i-th message value, cycling through the payload pool.
func value(pool [][]byte, i int) []byte { return pool[i%len(pool)] }

// payload loads the spec's payload file.
func payload(s *workload.Spec) ([][]byte, error) { return workload.LoadPayload(s.PayloadFile, s.Size) }

// txnRecords is how many records a transactional run writes per transaction.
func txnRecords(s *workload.Spec) int {
	if s.TxnRecords > 0 {
		return s.TxnRecords
	}
	return 10_000
}
