// Package prometheus exports a gregor client's activity as Prometheus
// metrics. It is its own Go module, so gregor's core never depends on
// client_golang.
//
//	m, err := prometheus.New(prometheus.Config{Registerer: registry})
//	client, err := kafka.NewClient(ctx, kafka.Config{Hooks: []kafka.Hook{m}, ...})
//
// The metrics, all prefixed with Config.Namespace ("gregor" by default):
//
//	broker_connects_total{node,result}          connection attempts, result "ok" or "error"
//	broker_disconnects_total{node}              connections that ended
//	broker_connections                          connections open now
//	requests_total{node,api}                    requests written
//	request_errors_total{node,api}              requests whose response never came (connection errors)
//	request_bytes_total{node,api}               request bytes written
//	response_bytes_total{node,api}              response bytes read
//	request_duration_seconds{node,api}          histogram: write to response arrival
//	request_queue_seconds{node,api}             histogram: waiting before the write
//	throttle_seconds{node,api}                  histogram: broker-requested throttling
//	produced_records_total{topic}               records written in Produce requests, each once
//	produced_retried_records_total{topic}       records written again after a failed try
//	produced_bytes_total{topic}                 their keys, values and headers, every try
//	produced_wire_bytes_total{topic}            their batches as sent (after compression), every try
//	fetched_records_total{topic}                records fetched and decoded
//	fetched_bytes_total{topic}                  their keys, values and headers
//	fetched_wire_bytes_total{topic}             their record data as fetched
//	consumer_lag{topic,partition}               messages behind the high watermark, after the last fetch
//	group_events_total{group,event}             joined, assigned, revoked, lost
//	group_rebalances_total{group}               assignments received
//	zookeeper_events_total{state}               ZooKeeper session changes
//
// node is the broker id ("-1" for a seed contacted before metadata), api
// the Kafka API name ("Produce", "Fetch", ...).
package prometheus
