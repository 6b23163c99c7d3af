// Package workload is what every benchmark contender shares: the message values (one payload file per value size,
// read by the Go clients, the Python client and Kafka's own perf tool alike), the description of a run (Spec), the
// one-line JSON result a client prints (Result), latency percentiles, end-of-partition tracking and the process
// statistics reported by the connection-growth workload.
//
// It has no Kafka code and no brokers, so its tests run in plain "go test".
package workload
