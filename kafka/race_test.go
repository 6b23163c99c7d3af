//go:build race

package kafka

// raceEnabled: sync.Pool drops items on purpose under the race detector,
// so allocation counts of pooled paths do not hold there.
const raceEnabled = true
