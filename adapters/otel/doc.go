// Package otel connects a gregor client to OpenTelemetry: metrics through
// a kafka.Hook, and produce and consume spans that carry W3C trace context
// in record headers, so a consumer's span links to the producer's. It is
// its own Go module, so gregor's core never depends on OpenTelemetry.
//
//	tel, err := otel.New(otel.Config{})            // global providers by default
//	client, err := kafka.NewClient(ctx, kafka.Config{Hooks: []kafka.Hook{tel}, ...})
//
//	// Producing: a "TOPIC send" span, its context in the message's headers.
//	partition, offset, err := tel.Produce(ctx, syncProducer, msg)
//	// or, for the asynchronous Producer: ctx, span := tel.StartProduce(ctx, topic, &msg)
//
//	// Consuming: a "TOPIC process" span linked to the producer's span.
//	ctx, span := tel.StartConsume(ctx, msg)
//	defer span.End()
//
// Metrics (instrument names; the attributes are node and api for broker
// metrics, topic, partition or group for the others) mirror the Prometheus
// adapter's: gregor.broker.connects, gregor.broker.disconnects,
// gregor.requests, gregor.request.errors, gregor.request.bytes,
// gregor.response.bytes, gregor.request.duration, gregor.throttle.duration,
// gregor.produced.records, gregor.produced.retried_records,
// gregor.produced.bytes, gregor.produced.wire_bytes,
// gregor.fetched.records, gregor.fetched.bytes, gregor.fetched.wire_bytes,
// gregor.consumer.lag, gregor.group.events and gregor.zookeeper.events.
package otel
