package otel

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

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

type fixture struct {
	tel    *Telemetry
	reader *sdkmetric.ManualReader
	spans  *tracetest.SpanRecorder
}

func newFixture(t *testing.T) *fixture {
	f := &fixture{reader: sdkmetric.NewManualReader(), spans: tracetest.NewSpanRecorder()}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(f.reader))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(f.spans))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()); _ = tp.Shutdown(context.Background()) })
	var err error
	f.tel, err = New(Config{MeterProvider: mp, TracerProvider: tp})
	require.NoError(t, err)
	return f
}

func TestHeaderCarrierReplacesField(t *testing.T) {
	f := newFixture(t)
	m := kafka.Message{Headers: []kafka.Header{{Key: "traceparent", Value: []byte("stale")}, {Key: "app", Value: []byte("x")}}}
	orig := m.Headers
	_, span := f.tel.StartProduce(context.Background(), "t", &m)
	span.End()
	assert.Equal(t, "stale", string(orig[0].Value), "the caller's slice is not modified")
	var n int
	for _, h := range m.Headers {
		if h.Key == "traceparent" {
			n++
			assert.Contains(t, string(h.Value), span.SpanContext().TraceID().String())
		}
	}
	assert.Equal(t, 1, n)
	assert.Equal(t, "x", headerCarrier{&m.Headers}.Get("app"))

	// A message without trace context gets a span without links.
	_, cs := f.tel.StartConsume(context.Background(), &kafka.Message{Topic: "t"})
	cs.End()
	ended := f.spans.Ended()
	assert.Empty(t, ended[len(ended)-1].Links())
}

// TestIntegrationSpansAndMetrics produces through the adapter's producer
// span and consumes with its consumer span, on a real broker, then reads
// the spans and the metrics.
func TestIntegrationSpansAndMetrics(t *testing.T) {
	tc := testcluster.Shared(t, testcluster.KRaftSingle)
	for name, h := range handlers(t) {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			f := newFixture(t)
			cl, err := kafka.NewClient(ctx, kafka.Config{Hosts: tc.Bootstrap(), Handler: h, Hooks: []kafka.Hook{f.tel}})
			require.NoError(t, err)
			defer cl.Close()
			topicName := fmt.Sprintf("otel-%s-%d", name, time.Now().UnixNano())
			require.NoError(t, cl.Cluster().CreateTopics(ctx, kafka.TopicSpec{Name: topicName, Partitions: 1, ReplicationFactor: 1}))
			topic, err := cl.Topic(ctx, topicName)
			require.NoError(t, err)
			sp, err := topic.SyncProducer(kafka.ProducerConfig{})
			require.NoError(t, err)
			defer sp.Close()

			produced := map[int64]trace.SpanContext{}
			for i := range 3 {
				_, off, err := f.tel.Produce(ctx, sp, kafka.Message{Value: []byte(fmt.Sprint("traced ", i))})
				require.NoError(t, err)
				ended := f.spans.Ended()
				last := ended[len(ended)-1]
				assert.Equal(t, trace.SpanKindProducer, last.SpanKind())
				assert.Equal(t, topicName+" send", last.Name())
				produced[off] = last.SpanContext()
			}

			sc, err := topic.SimpleConsumer(kafka.ConsumerConfig{AutoOffsetReset: kafka.OffsetEarliest})
			require.NoError(t, err)
			defer sc.Stop(context.Background())
			for range 3 {
				m, err := sc.Consume(ctx)
				require.NoError(t, err)
				_, span := f.tel.StartConsume(ctx, m)
				span.End()
				ended := f.spans.Ended()
				cs := ended[len(ended)-1]
				assert.Equal(t, trace.SpanKindConsumer, cs.SpanKind())
				require.Len(t, cs.Links(), 1, "offset %d", m.Offset)
				link := cs.Links()[0].SpanContext
				assert.Equal(t, produced[m.Offset].TraceID(), link.TraceID())
				assert.Equal(t, produced[m.Offset].SpanID(), link.SpanID())
			}

			var rm metricdata.ResourceMetrics
			require.NoError(t, f.reader.Collect(ctx, &rm))
			assert.Equal(t, int64(3), sumOf(rm, "gregor.produced.records", keyTopic.String(topicName)))
			assert.GreaterOrEqual(t, sumOf(rm, "gregor.fetched.records", keyTopic.String(topicName)), int64(3))
			assert.Positive(t, sumOf(rm, "gregor.requests", keyAPI.String("Fetch")))
			assert.Positive(t, sumOf(rm, "gregor.broker.connects", keyResult.String("ok")))
			assert.Positive(t, histCount(rm, "gregor.request.duration", keyAPI.String("Produce")))
		})
	}
}

func sumOf(rm metricdata.ResourceMetrics, name string, attr attribute.KeyValue) int64 {
	var n int64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if s, ok := m.Data.(metricdata.Sum[int64]); ok && m.Name == name {
				for _, dp := range s.DataPoints {
					if v, ok := dp.Attributes.Value(attr.Key); ok && v == attr.Value {
						n += dp.Value
					}
				}
			}
		}
	}
	return n
}

func histCount(rm metricdata.ResourceMetrics, name string, attr attribute.KeyValue) uint64 {
	var n uint64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if h, ok := m.Data.(metricdata.Histogram[float64]); ok && m.Name == name {
				for _, dp := range h.DataPoints {
					if v, ok := dp.Attributes.Value(attr.Key); ok && v == attr.Value {
						n += dp.Count
					}
				}
			}
		}
	}
	return n
}
