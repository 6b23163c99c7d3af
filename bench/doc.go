// Package bench holds gregor's side-by-side benchmarks. It is its own Go module so that the clients gregor is
// compared with never become dependencies of the library itself.
//
// "make bench" (go run ./cmd/benchrun in this directory) starts harness clusters, runs gregor on both
// handlers, franz-go, sarama, kafka-go, confluent-kafka-go, pykafka (python/, in a venv it makes under .venv)
// and Kafka's own perf tools on the same topics, values and settings, each as its own process
// (cmd/benchclient, adapters in internal/clients) so that rusage gives each client's own CPU time, and writes
// docs/benchmarks.md and docs/benchmarks.svg (internal/report) from the medians of three runs. BENCH_QUICK=1
// makes a short smoke run; raw results stay in results/ (git-ignored), and "go run ./cmd/benchrun
// -report-only" renders the docs again from them.
//
// The in-memory benchmarks here run with "go test -bench . ." and measure gregor's record codecs through the
// public protocol API with every compression codec, so a regression in the hottest path shows up next to the
// broker-level comparisons; ProduceInMemory, LatencyInMemory and ConsumeInMemory run the gregor and franz-go
// adapters against a fake broker (fakebroker_test.go; for consuming in a child process serving canned batches,
// so CPU per record is the client's alone). Nothing in "go test ./..." needs a broker.
package bench
