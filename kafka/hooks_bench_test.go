package kafka

import (
	"context"
	"sync/atomic"
	"testing"
)

// countingHook implements every hook interface and only counts, as a
// metrics adapter's counters would.
type countingHook struct{ n [9]atomic.Int64 }

func (h *countingHook) OnBrokerConnect(BrokerConnectEvent)       { h.n[0].Add(1) }
func (h *countingHook) OnBrokerDisconnect(BrokerDisconnectEvent) { h.n[1].Add(1) }
func (h *countingHook) OnBrokerWrite(BrokerWriteEvent)           { h.n[2].Add(1) }
func (h *countingHook) OnBrokerRead(BrokerReadEvent)             { h.n[3].Add(1) }
func (h *countingHook) OnBrokerThrottle(BrokerThrottleEvent)     { h.n[4].Add(1) }
func (h *countingHook) OnProduceBatch(ProduceBatchEvent)         { h.n[5].Add(1) }
func (h *countingHook) OnFetchBatch(FetchBatchEvent)             { h.n[6].Add(1) }
func (h *countingHook) OnGroupEvent(GroupEvent)                  { h.n[7].Add(1) }
func (h *countingHook) OnZooKeeperEvent(ZooKeeperEvent)          { h.n[8].Add(1) }

// BenchmarkHooks measures a synchronous produce (one message, one Produce
// round trip to an in-process broker) without hooks and with a hook
// registered for every event, so their cost shows side by side: "none"
// must match a client built before hooks existed.
func BenchmarkHooks(b *testing.B) {
	for _, name := range []string{"none", "all"} {
		b.Run(name, func(b *testing.B) {
			c := newPFCluster(b, 1, 1)
			ctx := context.Background()
			cfg := Config{Hosts: c.bootstrap(), Handler: benchHandler(b, "goroutine"), Logger: testLogger()}
			hook := &countingHook{}
			if name == "all" {
				cfg.Hooks = []Hook{hook}
			}
			cl, err := NewClient(ctx, cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer cl.Close()
			topic, err := cl.Topic(ctx, c.topic)
			if err != nil {
				b.Fatal(err)
			}
			sp, err := topic.SyncProducer(ProducerConfig{})
			if err != nil {
				b.Fatal(err)
			}
			defer sp.Close()
			msg := Message{Value: make([]byte, 100)}
			if _, _, err := sp.Produce(ctx, msg); err != nil { // connect outside the timing
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if _, _, err := sp.Produce(ctx, msg); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if name == "all" && hook.n[5].Load() < int64(b.N) {
				b.Fatalf("%d produce batches reported for %d messages", hook.n[5].Load(), b.N)
			}
		})
	}
}
