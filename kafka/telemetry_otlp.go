package kafka

import (
	"encoding/binary"
	"math"
)

// Client telemetry travels as an OTLP MetricsData protobuf message. Only
// what gregor sends is encoded, by hand, so the core needs no protobuf
// library: resource attributes, one scope, and sums and gauges of numbers.
// Field numbers are those of opentelemetry/proto/metrics/v1/metrics.proto
// and common/v1/common.proto.

// otlpMetric is one metric to encode.
type otlpMetric struct {
	name, unit string
	sum        bool // a monotonic Sum; otherwise a Gauge
	intValue   int64
	floatValue float64
	isFloat    bool
}

// protobuf wire types.
const (
	wireVarint  = 0
	wireFixed64 = 1
	wireBytes   = 2
)

func pbTag(b []byte, field, wire int) []byte {
	return binary.AppendUvarint(b, uint64(field<<3|wire))
}

func pbBytes(b []byte, field int, v []byte) []byte {
	b = pbTag(b, field, wireBytes)
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

func pbString(b []byte, field int, v string) []byte {
	b = pbTag(b, field, wireBytes)
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

func pbVarint(b []byte, field int, v uint64) []byte {
	return binary.AppendUvarint(pbTag(b, field, wireVarint), v)
}

func pbFixed64(b []byte, field int, v uint64) []byte {
	return binary.LittleEndian.AppendUint64(pbTag(b, field, wireFixed64), v)
}

// pbMessage appends field as an embedded message built by fn.
func pbMessage(b []byte, field int, fn func([]byte) []byte) []byte {
	return pbBytes(b, field, fn(nil))
}

// otlpKeyValue encodes a KeyValue with a string AnyValue.
func otlpKeyValue(key, value string) func([]byte) []byte {
	return func(b []byte) []byte {
		b = pbString(b, 1, key)
		return pbMessage(b, 2, func(b []byte) []byte { return pbString(b, 1, value) })
	}
}

// encodeOTLPMetrics returns a MetricsData message with one ResourceMetrics
// carrying attrs (key, value pairs) and one ScopeMetrics holding metrics,
// each with one data point at now, sums starting at start. delta selects
// delta aggregation temporality for sums (the caller passes deltas).
func encodeOTLPMetrics(attrs [][2]string, scope string, metrics []otlpMetric, start, now uint64, delta bool) []byte {
	temporality := uint64(2) // CUMULATIVE
	if delta {
		temporality = 1 // DELTA
	}
	rm := func(b []byte) []byte {
		b = pbMessage(b, 1, func(b []byte) []byte { // Resource
			for _, kv := range attrs {
				b = pbMessage(b, 1, otlpKeyValue(kv[0], kv[1]))
			}
			return b
		})
		return pbMessage(b, 2, func(b []byte) []byte { // ScopeMetrics
			b = pbMessage(b, 1, func(b []byte) []byte { return pbString(b, 1, scope) })
			for i := range metrics {
				m := &metrics[i]
				b = pbMessage(b, 2, func(b []byte) []byte { // Metric
					b = pbString(b, 1, m.name)
					if m.unit != "" {
						b = pbString(b, 3, m.unit)
					}
					point := func(b []byte) []byte { // NumberDataPoint
						if m.sum {
							b = pbFixed64(b, 2, start)
						}
						b = pbFixed64(b, 3, now)
						if m.isFloat {
							return pbFixed64(b, 4, math.Float64bits(m.floatValue))
						}
						return pbFixed64(b, 6, uint64(m.intValue))
					}
					if m.sum {
						return pbMessage(b, 7, func(b []byte) []byte { // Sum
							b = pbMessage(b, 1, point)
							b = pbVarint(b, 2, temporality)
							return pbVarint(b, 3, 1) // monotonic
						})
					}
					return pbMessage(b, 5, func(b []byte) []byte { return pbMessage(b, 1, point) }) // Gauge
				})
			}
			return b
		})
	}
	return pbMessage(nil, 1, rm)
}
