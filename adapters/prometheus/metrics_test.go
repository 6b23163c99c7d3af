package prometheus

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/handler/eventloop"
	"github.com/gregorkafka/gregor/handler/goroutine"
	"github.com/gregorkafka/gregor/internal/testcluster"
	"github.com/gregorkafka/gregor/kafka"
)

func TestMain(m *testing.M) { testcluster.Main(m) }

func handlers(t *testing.T) map[string]handler.Handler {
	el, err := eventloop.New(eventloop.WithLoops(2))
	require.NoError(t, err)
	g := goroutine.New()
	t.Cleanup(func() { el.Close(); g.Close() })
	return map[string]handler.Handler{"goroutine": g, "eventloop": el}
}

func TestNewRejectsDuplicateRegistration(t *testing.T) {
	reg := prom.NewRegistry()
	_, err := New(Config{Registerer: reg})
	require.NoError(t, err)
	_, err = New(Config{Registerer: reg})
	var are prom.AlreadyRegisteredError
	assert.ErrorAs(t, err, &are)
	_, err = New(Config{Registerer: reg, Namespace: "other"})
	assert.NoError(t, err)
}

// TestIntegrationMetrics produces and consumes through a real broker with
// the metrics hook registered, then scrapes the registry.
func TestIntegrationMetrics(t *testing.T) {
	tc := testcluster.Shared(t, testcluster.KRaftSingle)
	for name, h := range handlers(t) {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			reg := prom.NewRegistry()
			m, err := New(Config{Registerer: reg})
			require.NoError(t, err)
			cl, err := kafka.NewClient(ctx, kafka.Config{Hosts: tc.Bootstrap(), Handler: h, Hooks: []kafka.Hook{m}})
			require.NoError(t, err)
			defer cl.Close()
			name := fmt.Sprintf("prom-%s-%d", name, time.Now().UnixNano())
			require.NoError(t, cl.Cluster().CreateTopics(ctx, kafka.TopicSpec{Name: name, Partitions: 2, ReplicationFactor: 1}))
			topic, err := cl.Topic(ctx, name)
			require.NoError(t, err)

			sp, err := topic.SyncProducer(kafka.ProducerConfig{Compression: kafka.CompressionZstd})
			require.NoError(t, err)
			defer sp.Close()
			for i := range 20 {
				_, _, err := sp.Produce(ctx, kafka.Message{Value: []byte(fmt.Sprintf("message %02d", i))})
				require.NoError(t, err)
			}
			bc, err := topic.BalancedConsumer(name+"-group", kafka.BalancedConsumerConfig{Managed: true,
				ConsumerConfig: kafka.ConsumerConfig{AutoOffsetReset: kafka.OffsetEarliest}})
			require.NoError(t, err)
			for range 20 {
				_, err := bc.Consume(ctx)
				require.NoError(t, err)
			}
			require.NoError(t, bc.Stop(ctx))

			assert.Equal(t, 20.0, counterSum(t, reg, "gregor_produced_records_total", "topic", name))
			// Bytes count retries too (a fresh topic's leader may not be
			// ready for the first batch).
			assert.GreaterOrEqual(t, counterSum(t, reg, "gregor_produced_bytes_total", "topic", name), float64(20*len("message 00")))
			assert.Positive(t, counterSum(t, reg, "gregor_produced_wire_bytes_total", "topic", name))
			assert.GreaterOrEqual(t, counterSum(t, reg, "gregor_fetched_records_total", "topic", name), 20.0)
			assert.Equal(t, 20.0, counterSum(t, reg, "gregor_produced_records_total", "", ""))
			assert.Positive(t, counterSum(t, reg, "gregor_requests_total", "api", "Produce"))
			assert.Positive(t, counterSum(t, reg, "gregor_requests_total", "api", "JoinGroup"))
			assert.Positive(t, counterSum(t, reg, "gregor_broker_connects_total", "result", "ok"))
			assert.Zero(t, counterSum(t, reg, "gregor_broker_connects_total", "result", "error"))
			open := metricsOf(t, reg, "gregor_broker_connections", "", "")
			require.Len(t, open, 1)
			assert.Positive(t, open[0].GetGauge().GetValue())
			assert.Equal(t, 1.0, counterSum(t, reg, "gregor_group_rebalances_total", "group", name+"-group"))
			assert.Positive(t, counterSum(t, reg, "gregor_group_events_total", "event", "joined"))
			assert.Positive(t, histogramCount(t, reg, "gregor_request_duration_seconds", "api", "Fetch"))
			// Every partition's lag gauge reads zero once all was fetched.
			lags := metricsOf(t, reg, "gregor_consumer_lag", "topic", name)
			require.Len(t, lags, 2)
			for _, l := range lags {
				assert.Zero(t, l.GetGauge().GetValue())
			}
			// The exposition format names them as documented.
			n, err := testutil.GatherAndCount(reg, "gregor_produced_records_total", "gregor_consumer_lag")
			require.NoError(t, err)
			assert.Equal(t, 3, n)
		})
	}
}

// metricsOf returns the samples of family whose label has value ("" label:
// all of them).
func metricsOf(t *testing.T, reg *prom.Registry, family, label, value string) []*dto.Metric {
	t.Helper()
	fams, err := reg.Gather()
	require.NoError(t, err)
	var out []*dto.Metric
	for _, f := range fams {
		if f.GetName() != family {
			continue
		}
		for _, m := range f.GetMetric() {
			if label == "" || hasLabel(m, label, value) {
				out = append(out, m)
			}
		}
	}
	return out
}

func hasLabel(m *dto.Metric, name, value string) bool {
	for _, l := range m.GetLabel() {
		if l.GetName() == name && strings.EqualFold(l.GetValue(), value) {
			return true
		}
	}
	return false
}

func counterSum(t *testing.T, reg *prom.Registry, family, label, value string) float64 {
	var n float64
	for _, m := range metricsOf(t, reg, family, label, value) {
		n += m.GetCounter().GetValue()
	}
	return n
}

func histogramCount(t *testing.T, reg *prom.Registry, family, label, value string) uint64 {
	var n uint64
	for _, m := range metricsOf(t, reg, family, label, value) {
		n += m.GetHistogram().GetSampleCount()
	}
	return n
}
