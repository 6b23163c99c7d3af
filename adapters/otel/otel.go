package otel

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// scope names the instrumentation library.
const scope = "github.com/gregorkafka/gregor/adapters/otel"

// Config configures Telemetry. Zero fields take OpenTelemetry's global
// providers and the W3C trace-context propagator.
type Config struct {
	MeterProvider  metric.MeterProvider
	TracerProvider trace.TracerProvider
	// Propagator writes and reads the trace context in record headers.
	// Default propagation.TraceContext{} (the traceparent and tracestate
	// headers).
	Propagator propagation.TextMapPropagator
}

// Telemetry is a kafka.Hook recording metrics, and the source of produce
// and consume spans. It is safe for concurrent use and may serve several
// clients.
type Telemetry struct {
	tracer trace.Tracer
	prop   propagation.TextMapPropagator

	connects, disconnects                   metric.Int64Counter
	requests, requestErrs, reqBytes, rBytes metric.Int64Counter
	duration, throttle                      metric.Float64Histogram
	prodRecs, prodRetried, prodBytes, pWire metric.Int64Counter
	fetchRecs, fetchBytes, fetchWire        metric.Int64Counter
	lag                                     metric.Int64Gauge
	groupEvents, zkEvents                   metric.Int64Counter
}

// New creates the instruments. An error comes from the meter provider.
func New(cfg Config) (*Telemetry, error) {
	if cfg.MeterProvider == nil {
		cfg.MeterProvider = otel.GetMeterProvider()
	}
	if cfg.TracerProvider == nil {
		cfg.TracerProvider = otel.GetTracerProvider()
	}
	if cfg.Propagator == nil {
		cfg.Propagator = propagation.TraceContext{}
	}
	m := cfg.MeterProvider.Meter(scope)
	t := &Telemetry{tracer: cfg.TracerProvider.Tracer(scope), prop: cfg.Propagator}
	var errs []error
	counter := func(name, unit, desc string) metric.Int64Counter {
		c, err := m.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return c
	}
	seconds := func(name, desc string) metric.Float64Histogram {
		h, err := m.Float64Histogram(name, metric.WithUnit("s"), metric.WithDescription(desc))
		errs = append(errs, err)
		return h
	}
	t.connects = counter("gregor.broker.connects", "{connection}", "Broker connection attempts.")
	t.disconnects = counter("gregor.broker.disconnects", "{connection}", "Broker connections that ended.")
	t.requests = counter("gregor.requests", "{request}", "Requests written.")
	t.requestErrs = counter("gregor.request.errors", "{request}", "Requests that got a connection error instead of a response.")
	t.reqBytes = counter("gregor.request.bytes", "By", "Request bytes written.")
	t.rBytes = counter("gregor.response.bytes", "By", "Response bytes read.")
	t.duration = seconds("gregor.request.duration", "From writing a request to its response's arrival.")
	t.throttle = seconds("gregor.throttle.duration", "Throttling the broker asked for.")
	t.prodRecs = counter("gregor.produced.records", "{record}", "Records written in Produce requests, each once.")
	t.prodRetried = counter("gregor.produced.retried_records", "{record}", "Records written again after a failed try.")
	t.prodBytes = counter("gregor.produced.bytes", "By", "Keys, values and headers produced, every try.")
	t.pWire = counter("gregor.produced.wire_bytes", "By", "Record batches produced as sent, every try.")
	t.fetchRecs = counter("gregor.fetched.records", "{record}", "Records fetched and decoded.")
	t.fetchBytes = counter("gregor.fetched.bytes", "By", "Keys, values and headers fetched.")
	t.fetchWire = counter("gregor.fetched.wire_bytes", "By", "Record data fetched, as received.")
	g, err := m.Int64Gauge("gregor.consumer.lag", metric.WithUnit("{record}"),
		metric.WithDescription("Messages behind the partition's high watermark after the last fetch."))
	errs = append(errs, err)
	t.lag = g
	t.groupEvents = counter("gregor.group.events", "{event}", "Consumer group events.")
	t.zkEvents = counter("gregor.zookeeper.events", "{event}", "ZooKeeper session changes.")
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return t, nil
}

// Attribute keys, after OpenTelemetry's messaging conventions where one
// exists.
const (
	keyNode      = attribute.Key("node")
	keyAPI       = attribute.Key("api")
	keyResult    = attribute.Key("result")
	keyTopic     = attribute.Key("messaging.destination.name")
	keyPartition = attribute.Key("messaging.destination.partition.id")
	keyGroup     = attribute.Key("messaging.consumer.group.name")
	keyEvent     = attribute.Key("event")
)

func add(ctx context.Context, c metric.Int64Counter, n int, attrs ...attribute.KeyValue) {
	c.Add(ctx, int64(n), metric.WithAttributes(attrs...))
}
