package prometheus

import (
	"errors"
	"fmt"
	"strconv"

	prom "github.com/prometheus/client_golang/prometheus"

	"github.com/gregorkafka/gregor/kafka"
)

// Config configures Metrics. The zero value registers with
// prometheus.DefaultRegisterer under the "gregor" namespace.
type Config struct {
	// Registerer receives the collectors. Default prom.DefaultRegisterer.
	Registerer prom.Registerer
	// Namespace prefixes every metric name. Default "gregor".
	Namespace string
	// Buckets of the duration histograms, in seconds. Default
	// DefaultBuckets.
	Buckets []float64
	// ConstLabels are added to every metric (a client name, say).
	ConstLabels prom.Labels
}

// DefaultBuckets span 100µs to about 13s, for request latencies.
var DefaultBuckets = prom.ExponentialBuckets(0.0001, 2, 18)

// Metrics is a kafka.Hook that records a client's activity. Register it in
// kafka.Config.Hooks. One Metrics may serve several clients.
type Metrics struct {
	connects, disconnects            *prom.CounterVec
	connections                      *prom.GaugeVec
	requests, requestErrs            *prom.CounterVec
	reqBytes, respBytes              *prom.CounterVec
	duration, queue, throttle        *prom.HistogramVec
	prodRecs, prodBytes, prodWire    *prom.CounterVec
	prodRetried                      *prom.CounterVec
	fetchRecs, fetchBytes, fetchWire *prom.CounterVec
	lag                              *prom.GaugeVec
	groupEvents, rebalances          *prom.CounterVec
	zkEvents                         *prom.CounterVec
}

// New creates the collectors and registers them with cfg.Registerer. A
// registration failure (a name already registered) is returned.
func New(cfg Config) (*Metrics, error) {
	if cfg.Registerer == nil {
		cfg.Registerer = prom.DefaultRegisterer
	}
	if cfg.Namespace == "" {
		cfg.Namespace = "gregor"
	}
	if cfg.Buckets == nil {
		cfg.Buckets = DefaultBuckets
	}
	var all []prom.Collector
	counter := func(name, help string, labels ...string) *prom.CounterVec {
		c := prom.NewCounterVec(prom.CounterOpts{Namespace: cfg.Namespace, Name: name, Help: help, ConstLabels: cfg.ConstLabels}, labels)
		all = append(all, c)
		return c
	}
	gauge := func(name, help string, labels ...string) *prom.GaugeVec {
		g := prom.NewGaugeVec(prom.GaugeOpts{Namespace: cfg.Namespace, Name: name, Help: help, ConstLabels: cfg.ConstLabels}, labels)
		all = append(all, g)
		return g
	}
	histogram := func(name, help string, labels ...string) *prom.HistogramVec {
		h := prom.NewHistogramVec(prom.HistogramOpts{Namespace: cfg.Namespace, Name: name, Help: help,
			Buckets: cfg.Buckets, ConstLabels: cfg.ConstLabels}, labels)
		all = append(all, h)
		return h
	}
	m := &Metrics{
		connects:    counter("broker_connects_total", "Broker connection attempts.", "node", "result"),
		disconnects: counter("broker_disconnects_total", "Broker connections that ended.", "node"),
		// Not by node: a seed's connection may be adopted by its broker,
		// so it can open under one node label and close under another.
		connections: gauge("broker_connections", "Broker connections open."),
		requests:    counter("requests_total", "Requests written.", "node", "api"),
		requestErrs: counter("request_errors_total", "Requests that got a connection error instead of a response.", "node", "api"),
		reqBytes:    counter("request_bytes_total", "Request bytes written.", "node", "api"),
		respBytes:   counter("response_bytes_total", "Response bytes read.", "node", "api"),
		duration:    histogram("request_duration_seconds", "From writing a request to its response's arrival.", "node", "api"),
		queue:       histogram("request_queue_seconds", "Time a request waited before being written.", "node", "api"),
		throttle:    histogram("throttle_seconds", "Throttling the broker asked for.", "node", "api"),
		prodRecs:    counter("produced_records_total", "Records written in Produce requests.", "topic"),
		prodRetried: counter("produced_retried_records_total", "Records written again after a failed try.", "topic"),
		prodBytes:   counter("produced_bytes_total", "Keys, values and headers of the records produced.", "topic"),
		prodWire:    counter("produced_wire_bytes_total", "Record batches produced, as sent (after compression).", "topic"),
		fetchRecs:   counter("fetched_records_total", "Records fetched and decoded.", "topic"),
		fetchBytes:  counter("fetched_bytes_total", "Keys, values and headers of the records fetched.", "topic"),
		fetchWire:   counter("fetched_wire_bytes_total", "Record data fetched, as received.", "topic"),
		lag:         gauge("consumer_lag", "Messages behind the partition's high watermark after the last fetch.", "topic", "partition"),
		groupEvents: counter("group_events_total", "Consumer group events.", "group", "event"),
		rebalances:  counter("group_rebalances_total", "Assignments a group member received.", "group"),
		zkEvents:    counter("zookeeper_events_total", "ZooKeeper session changes.", "state"),
	}
	var errs []error
	for _, c := range all {
		if err := cfg.Registerer.Register(c); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("gregor prometheus: registering collectors: %w", errors.Join(errs...))
	}
	return m, nil
}

func node(id int32) string { return strconv.FormatInt(int64(id), 10) }

func (m *Metrics) OnBrokerConnect(e kafka.BrokerConnectEvent) {
	if e.Err != nil {
		m.connects.WithLabelValues(node(e.NodeID), "error").Inc()
		return
	}
	m.connects.WithLabelValues(node(e.NodeID), "ok").Inc()
	m.connections.WithLabelValues().Inc()
}

func (m *Metrics) OnBrokerDisconnect(e kafka.BrokerDisconnectEvent) {
	m.disconnects.WithLabelValues(node(e.NodeID)).Inc()
	m.connections.WithLabelValues().Dec()
}

func (m *Metrics) OnBrokerWrite(e kafka.BrokerWriteEvent) {
	n, api := node(e.NodeID), e.API()
	m.requests.WithLabelValues(n, api).Inc()
	m.reqBytes.WithLabelValues(n, api).Add(float64(e.Bytes))
	m.queue.WithLabelValues(n, api).Observe(e.Queued.Seconds())
}

func (m *Metrics) OnBrokerRead(e kafka.BrokerReadEvent) {
	n, api := node(e.NodeID), e.API()
	if e.Err != nil {
		m.requestErrs.WithLabelValues(n, api).Inc()
		return
	}
	m.respBytes.WithLabelValues(n, api).Add(float64(e.Bytes))
	m.duration.WithLabelValues(n, api).Observe(e.Wire.Seconds())
}

func (m *Metrics) OnBrokerThrottle(e kafka.BrokerThrottleEvent) {
	m.throttle.WithLabelValues(node(e.NodeID), e.API()).Observe(e.Throttle.Seconds())
}

func (m *Metrics) OnProduceBatch(e kafka.ProduceBatchEvent) {
	// Bytes count every try, as they cost the network; records once.
	m.prodRecs.WithLabelValues(e.Topic).Add(float64(e.Records - e.Retried))
	m.prodRetried.WithLabelValues(e.Topic).Add(float64(e.Retried))
	m.prodBytes.WithLabelValues(e.Topic).Add(float64(e.UncompressedBytes))
	m.prodWire.WithLabelValues(e.Topic).Add(float64(e.WireBytes))
}

func (m *Metrics) OnFetchBatch(e kafka.FetchBatchEvent) {
	m.fetchRecs.WithLabelValues(e.Topic).Add(float64(e.Records))
	m.fetchBytes.WithLabelValues(e.Topic).Add(float64(e.UncompressedBytes))
	m.fetchWire.WithLabelValues(e.Topic).Add(float64(e.WireBytes))
	m.lag.WithLabelValues(e.Topic, node(e.Partition)).Set(float64(e.Lag))
}

func (m *Metrics) OnGroupEvent(e kafka.GroupEvent) {
	m.groupEvents.WithLabelValues(e.Group, e.Kind.String()).Inc()
	if e.Kind == kafka.GroupAssigned {
		m.rebalances.WithLabelValues(e.Group).Inc()
	}
}

func (m *Metrics) OnZooKeeperEvent(e kafka.ZooKeeperEvent) {
	m.zkEvents.WithLabelValues(e.State.String()).Inc()
}
