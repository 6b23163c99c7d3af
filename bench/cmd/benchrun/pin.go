package main

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// pinning keeps the brokers and the client under test on separate cores (taskset, from util-linux), so that a
// client's CPU time and throughput do not depend on where the scheduler put the JVMs this time.
type pinning struct {
	taskset string // taskset's path; "" when not pinning
	brokers string // CPU list for the harness and its JVMs, e.g. "0"
	client  string // CPU list for the contender processes, e.g. "1"
	why     string // why not pinning, when taskset is ""
}

// planPinning gives the client under test the last CPU it may run on and the brokers the rest. allowed is the
// runner's own affinity as taskset prints it ("0-3,6"); lookPath finds taskset.
func planPinning(allowed string, lookPath func(string) (string, error)) pinning {
	path, err := lookPath("taskset")
	if err != nil {
		return pinning{why: "taskset (util-linux) is not installed"}
	}
	cpus, err := parseCPUList(allowed)
	if err != nil {
		return pinning{why: fmt.Sprintf("the runner's CPU affinity is unreadable (%v)", err)}
	}
	if len(cpus) < 2 {
		return pinning{why: fmt.Sprintf("only %d CPU is available", len(cpus))}
	}
	last := len(cpus) - 1
	return pinning{taskset: path, brokers: formatCPUList(cpus[:last]), client: strconv.Itoa(cpus[last])}
}

// currentAffinity asks taskset for this process's CPU list ("" when it cannot).
func currentAffinity(taskset string) string {
	out, err := exec.Command(taskset, "-cp", strconv.Itoa(os.Getpid())).Output()
	if err != nil {
		return ""
	}
	// "pid 123's current affinity list: 0,1"
	_, list, _ := strings.Cut(strings.TrimSpace(string(out)), ": ")
	return list
}

// wrap prefixes argv so it runs on cpus; argv unchanged when not pinning.
func (p pinning) wrap(cpus string, argv []string) []string {
	if p.taskset == "" || len(argv) == 0 {
		return argv
	}
	return append([]string{p.taskset, "-c", cpus}, argv...)
}

func (p pinning) clientArgv(argv []string) []string { return p.wrap(p.client, argv) }
func (p pinning) brokerArgv(argv []string) []string { return p.wrap(p.brokers, argv) }

// describe says what the machine section of the report shows.
func (p pinning) describe() string {
	if p.taskset == "" {
		return "not pinned: " + p.why + "; brokers and clients share every core"
	}
	return fmt.Sprintf("brokers (harness and JVMs) on CPU %s, the client under test on CPU %s (taskset -c); "+
		"the runner itself is not pinned", p.brokers, p.client)
}

// parseCPUList reads a Linux CPU list: "0-2,5" is 0, 1, 2, 5.
func parseCPUList(s string) ([]int, error) {
	var out []int
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, fmt.Errorf("empty CPU list")
	}
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return nil, fmt.Errorf("CPU list %q: %w", s, err)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil {
				return nil, fmt.Errorf("CPU list %q: %w", s, err)
			}
		}
		if b < a {
			return nil, fmt.Errorf("CPU list %q: range %s runs backwards", s, part)
		}
		for c := a; c <= b; c++ {
			out = append(out, c)
		}
	}
	return out, nil
}

// formatCPUList writes cpus as taskset -c takes them.
func formatCPUList(cpus []int) string {
	parts := make([]string, len(cpus))
	for i, c := range cpus {
		parts[i] = strconv.Itoa(c)
	}
	return strings.Join(parts, ",")
}

// lookTaskset is taskset's path, or "taskset" for an error to say it is missing.
func lookTaskset() string {
	if p, err := exec.LookPath("taskset"); err == nil {
		return p
	}
	return "taskset"
}
