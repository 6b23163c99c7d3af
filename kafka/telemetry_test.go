package kafka

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTelemetrySelectionAndDeltas(t *testing.T) {
	st := &telemetryStats{}
	st.OnProduceBatch(ProduceBatchEvent{Records: 5, Retried: 2, UncompressedBytes: 40})
	st.OnBrokerRead(BrokerReadEvent{APIKey: 0, Wire: 4e6}) // Produce, 4ms
	st.OnBrokerRead(BrokerReadEvent{APIKey: 0, Wire: 2e6})
	st.OnFetchBatch(FetchBatchEvent{Records: 3, Lag: 9})

	last := map[string]int64{}
	req := []string{"org.apache.kafka.producer.", "org.apache.kafka.consumer.fetch.manager.records.lag.max"}
	got := decodeOTLPForTest(t, encodeOTLPMetrics(nil, "s", st.snapshot(req, true, last), 1, 2, true))
	for name := range got {
		assert.True(t, wanted(req, name), name)
	}
	assert.Equal(t, otlpPoint{intValue: 3, sum: true}, got["org.apache.kafka.producer.record.send.total"])
	assert.Equal(t, 3.0, got["org.apache.kafka.producer.request.latency.avg"].floatValue)
	assert.Equal(t, 4.0, got["org.apache.kafka.producer.request.latency.max"].floatValue)
	assert.Equal(t, 9.0, got["org.apache.kafka.consumer.fetch.manager.records.lag.max"].floatValue)

	// The next delta push counts only what came since; windows restart.
	st.OnProduceBatch(ProduceBatchEvent{Records: 1})
	got = decodeOTLPForTest(t, encodeOTLPMetrics(nil, "s", st.snapshot(req, true, last), 1, 3, true))
	assert.Equal(t, int64(1), got["org.apache.kafka.producer.record.send.total"].intValue)
	assert.Zero(t, got["org.apache.kafka.producer.request.latency.max"].floatValue)

	// "*" selects everything, cumulatively.
	all := decodeOTLPForTest(t, encodeOTLPMetrics([][2]string{{"client_id", "x"}}, "s", st.snapshot([]string{"*"}, false, nil), 1, 4, false))
	require.Len(t, all, len(telemetryMetricNames))
	assert.Equal(t, int64(4), all["org.apache.kafka.producer.record.send.total"].intValue)
	assert.Equal(t, int64(3), all["org.apache.kafka.consumer.fetch.manager.records.consumed.total"].intValue)
	assert.Empty(t, st.snapshot(nil, false, nil), "nothing requested, nothing sent")
}
