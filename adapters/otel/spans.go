package otel

import (
	"context"
	"strconv"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/gregorkafka/gregor/kafka"
)

// headerCarrier reads and writes propagation fields as record headers. A
// field set replaces every header of its name.
type headerCarrier struct{ h *[]kafka.Header }

func (c headerCarrier) Get(key string) string {
	for _, h := range *c.h {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

func (c headerCarrier) Set(key, value string) {
	hs := (*c.h)[:0:0]
	for _, h := range *c.h {
		if h.Key != key {
			hs = append(hs, h)
		}
	}
	*c.h = append(hs, kafka.Header{Key: key, Value: []byte(value)})
}

func (c headerCarrier) Keys() []string {
	keys := make([]string, len(*c.h))
	for i, h := range *c.h {
		keys[i] = h.Key
	}
	return keys
}

var kafkaSystem = attribute.String("messaging.system", "kafka")

// StartProduce starts a producer span for m, about to be produced to
// topic, and writes its trace context into m's headers (the headers slice
// is replaced, not modified in place). End the span once the message was
// acknowledged; RecordResult does so with its partition and offset.
func (t *Telemetry) StartProduce(ctx context.Context, topic string, m *kafka.Message) (context.Context, trace.Span) {
	ctx, span := t.tracer.Start(ctx, topic+" send", trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(kafkaSystem, keyTopic.String(topic), attribute.String("messaging.operation.type", "send")))
	t.prop.Inject(ctx, headerCarrier{&m.Headers})
	return ctx, span
}

// RecordResult ends a producer span with the message's outcome.
func RecordResult(span trace.Span, partition int32, offset int64, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	} else {
		span.SetAttributes(keyPartition.String(strconv.Itoa(int(partition))), attribute.Int64("messaging.kafka.offset", offset))
	}
	span.End()
}

// Produce sends m through p inside a producer span.
func (t *Telemetry) Produce(ctx context.Context, p *kafka.SyncProducer, m kafka.Message) (int32, int64, error) {
	ctx, span := t.StartProduce(ctx, p.Topic().Name(), &m)
	partition, offset, err := p.Produce(ctx, m)
	RecordResult(span, partition, offset, err)
	return partition, offset, err
}

// StartConsume starts a consumer span for processing m, a child of ctx
// linked to the span that produced m when m's headers carry one. End it
// when processing is done.
func (t *Telemetry) StartConsume(ctx context.Context, m *kafka.Message) (context.Context, trace.Span) {
	opts := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindConsumer), trace.WithAttributes(kafkaSystem,
		keyTopic.String(m.Topic), keyPartition.String(strconv.Itoa(int(m.Partition))),
		attribute.Int64("messaging.kafka.offset", m.Offset), attribute.String("messaging.operation.type", "process"))}
	headers := m.Headers
	if sc := trace.SpanContextFromContext(t.prop.Extract(context.Background(), headerCarrier{&headers})); sc.IsValid() {
		opts = append(opts, trace.WithLinks(trace.Link{SpanContext: sc}))
	}
	return t.tracer.Start(ctx, m.Topic+" process", opts...)
}
