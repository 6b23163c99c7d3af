// Package bench holds gregor's side-by-side benchmarks. It is its own Go module so that the clients gregor is
// compared with never become dependencies of the library itself.
//
// The in-memory benchmarks here run with "go test -bench . ./..." inside bench/ and measure gregor's record
// codecs through the public protocol API with every compression codec, so a regression in the hottest path shows
// up next to the broker-level comparisons.
package bench
