// Package report turns the runner's raw samples into docs/benchmarks.md and its chart: medians and spreads per
// workload cell and contender, ratios to gregor, the machine and every client's settings. It reads and writes
// only values and files, so its tests run without brokers.
package report
