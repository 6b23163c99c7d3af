package kafka

import (
	"fmt"
	"testing"
)

// BenchmarkApply measures merging a metadata answer of 100 topics with 10
// partitions each over 3 brokers into the model (a full refresh).
func BenchmarkApply(b *testing.B) {
	c := offlineCluster(b, Config{})
	m := md{brokers: []int32{1, 2, 3}}
	for i := range 100 {
		m.topics = append(m.topics, mdTopic{name: fmt.Sprintf("topic-%d", i), parts: parts(10, func(p int32) int32 { return p%3 + 1 })})
	}
	resp := m.response()
	c.apply(resp, true)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		c.apply(resp, true)
	}
}

// BenchmarkLeaderLookup measures the read path producers take per batch:
// partition by id, then its leader.
func BenchmarkLeaderLookup(b *testing.B) {
	c := offlineCluster(b, Config{})
	c.apply(md{brokers: []int32{1, 2, 3}, topics: []mdTopic{{name: "t", parts: parts(64, func(p int32) int32 { return p%3 + 1 })}}}.response(), false)
	topic := c.state.Load().topics["t"]
	b.ReportAllocs()
	b.ResetTimer()
	var n int32
	for b.Loop() {
		if topic.Partition(n%64).Leader() == nil {
			b.Fatal("no leader")
		}
		n++
	}
}
