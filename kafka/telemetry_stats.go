package kafka

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gregorkafka/gregor/protocol"
)

// telemetryStats is the hook that gathers what client telemetry pushes. It
// is registered only once a broker offers telemetry, so clients of brokers
// without it pay nothing.
type telemetryStats struct {
	connCreated, connClosed      atomic.Int64
	requests, bytesOut, bytesIn  atomic.Int64
	recordsSent, recordBytesSent atomic.Int64
	recordsRead, recordBytesRead atomic.Int64
	rebalances                   atomic.Int64

	mu                           sync.Mutex // guards the windows, which each push resets
	produceLatency, fetchLatency window
	throttle                     window
	lagMax                       int64
}

// window keeps the average and maximum of a value since the last push.
type window struct {
	sum, max float64
	n        int64
}

func (w *window) add(v float64) {
	w.sum += v
	w.n++
	w.max = max(w.max, v)
}

func (w *window) avg() float64 {
	if w.n == 0 {
		return 0
	}
	return w.sum / float64(w.n)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func (s *telemetryStats) OnBrokerConnect(e BrokerConnectEvent) {
	if e.Err == nil {
		s.connCreated.Add(1)
	}
}

func (s *telemetryStats) OnBrokerDisconnect(BrokerDisconnectEvent) { s.connClosed.Add(1) }

func (s *telemetryStats) OnBrokerWrite(e BrokerWriteEvent) {
	s.requests.Add(1)
	s.bytesOut.Add(int64(e.Bytes))
}

func (s *telemetryStats) OnBrokerRead(e BrokerReadEvent) {
	if e.Err != nil {
		return
	}
	s.bytesIn.Add(int64(e.Bytes))
	switch e.APIKey {
	case protocol.APIKeyProduce:
		s.mu.Lock()
		s.produceLatency.add(ms(e.Wire))
		s.mu.Unlock()
	case protocol.APIKeyFetch:
		s.mu.Lock()
		s.fetchLatency.add(ms(e.Wire))
		s.mu.Unlock()
	}
}

func (s *telemetryStats) OnBrokerThrottle(e BrokerThrottleEvent) {
	s.mu.Lock()
	s.throttle.add(ms(e.Throttle))
	s.mu.Unlock()
}

func (s *telemetryStats) OnProduceBatch(e ProduceBatchEvent) {
	s.recordsSent.Add(int64(e.Records - e.Retried))
	s.recordBytesSent.Add(int64(e.UncompressedBytes))
}

func (s *telemetryStats) OnFetchBatch(e FetchBatchEvent) {
	s.recordsRead.Add(int64(e.Records))
	s.recordBytesRead.Add(int64(e.UncompressedBytes))
	s.mu.Lock()
	s.lagMax = max(s.lagMax, e.Lag)
	s.mu.Unlock()
}

func (s *telemetryStats) OnGroupEvent(e GroupEvent) {
	if e.Kind == GroupAssigned {
		s.rebalances.Add(1)
	}
}

// telemetryMetricNames are the metrics gregor can push, named as the Java
// client names its own (KIP-714), so a broker's subscription prefixes
// select them alike.
var telemetryMetricNames = []string{
	"org.apache.kafka.client.connection.creation.total",
	"org.apache.kafka.client.connection.close.total",
	"org.apache.kafka.client.request.total",
	"org.apache.kafka.client.outgoing.byte.total",
	"org.apache.kafka.client.incoming.byte.total",
	"org.apache.kafka.producer.record.send.total",
	"org.apache.kafka.producer.byte.total",
	"org.apache.kafka.producer.request.latency.avg",
	"org.apache.kafka.producer.request.latency.max",
	"org.apache.kafka.producer.produce.throttle.time.avg",
	"org.apache.kafka.producer.produce.throttle.time.max",
	"org.apache.kafka.consumer.fetch.manager.records.consumed.total",
	"org.apache.kafka.consumer.fetch.manager.bytes.consumed.total",
	"org.apache.kafka.consumer.fetch.manager.fetch.latency.avg",
	"org.apache.kafka.consumer.fetch.manager.fetch.latency.max",
	"org.apache.kafka.consumer.fetch.manager.records.lag.max",
	"org.apache.kafka.consumer.coordinator.rebalance.total",
}

// wanted reports whether a subscription's requested metrics select name:
// "*" selects all, any other entry is a name prefix.
func wanted(requested []string, name string) bool {
	for _, r := range requested {
		if r == "*" || (r != "" && strings.HasPrefix(name, r)) {
			return true
		}
	}
	return false
}

// snapshot returns the requested metrics' values and resets the windows.
// Sums are cumulative; with delta, last holds the previous push's sums
// and is updated.
func (s *telemetryStats) snapshot(requested []string, delta bool, last map[string]int64) []otlpMetric {
	s.mu.Lock()
	gauges := map[string]float64{
		"org.apache.kafka.producer.request.latency.avg":             s.produceLatency.avg(),
		"org.apache.kafka.producer.request.latency.max":             s.produceLatency.max,
		"org.apache.kafka.producer.produce.throttle.time.avg":       s.throttle.avg(),
		"org.apache.kafka.producer.produce.throttle.time.max":       s.throttle.max,
		"org.apache.kafka.consumer.fetch.manager.fetch.latency.avg": s.fetchLatency.avg(),
		"org.apache.kafka.consumer.fetch.manager.fetch.latency.max": s.fetchLatency.max,
		"org.apache.kafka.consumer.fetch.manager.records.lag.max":   float64(s.lagMax),
	}
	s.produceLatency, s.fetchLatency, s.throttle, s.lagMax = window{}, window{}, window{}, 0
	s.mu.Unlock()
	sums := map[string]int64{
		"org.apache.kafka.client.connection.creation.total":              s.connCreated.Load(),
		"org.apache.kafka.client.connection.close.total":                 s.connClosed.Load(),
		"org.apache.kafka.client.request.total":                          s.requests.Load(),
		"org.apache.kafka.client.outgoing.byte.total":                    s.bytesOut.Load(),
		"org.apache.kafka.client.incoming.byte.total":                    s.bytesIn.Load(),
		"org.apache.kafka.producer.record.send.total":                    s.recordsSent.Load(),
		"org.apache.kafka.producer.byte.total":                           s.recordBytesSent.Load(),
		"org.apache.kafka.consumer.fetch.manager.records.consumed.total": s.recordsRead.Load(),
		"org.apache.kafka.consumer.fetch.manager.bytes.consumed.total":   s.recordBytesRead.Load(),
		"org.apache.kafka.consumer.coordinator.rebalance.total":          s.rebalances.Load(),
	}
	var out []otlpMetric
	for _, name := range telemetryMetricNames {
		if !wanted(requested, name) {
			continue
		}
		if v, ok := sums[name]; ok {
			if delta {
				v, last[name] = v-last[name], v
			}
			out = append(out, otlpMetric{name: name, sum: true, intValue: v})
			continue
		}
		unit := "ms"
		if strings.HasSuffix(name, "lag.max") {
			unit = ""
		}
		out = append(out, otlpMetric{name: name, unit: unit, isFloat: true, floatValue: gauges[name]})
	}
	return out
}
