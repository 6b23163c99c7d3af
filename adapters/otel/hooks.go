package otel

import (
	"context"
	"strconv"

	"go.opentelemetry.io/otel/metric"

	"github.com/gregorkafka/gregor/kafka"
)

// Hooks have no context of their own; measurements carry none.
var bg = context.Background()

func (t *Telemetry) OnBrokerConnect(e kafka.BrokerConnectEvent) {
	result := "ok"
	if e.Err != nil {
		result = "error"
	}
	add(bg, t.connects, 1, keyNode.Int(int(e.NodeID)), keyResult.String(result))
}

func (t *Telemetry) OnBrokerDisconnect(e kafka.BrokerDisconnectEvent) {
	add(bg, t.disconnects, 1, keyNode.Int(int(e.NodeID)))
}

func (t *Telemetry) OnBrokerWrite(e kafka.BrokerWriteEvent) {
	n, api := keyNode.Int(int(e.NodeID)), keyAPI.String(e.API())
	add(bg, t.requests, 1, n, api)
	add(bg, t.reqBytes, e.Bytes, n, api)
}

func (t *Telemetry) OnBrokerRead(e kafka.BrokerReadEvent) {
	n, api := keyNode.Int(int(e.NodeID)), keyAPI.String(e.API())
	if e.Err != nil {
		add(bg, t.requestErrs, 1, n, api)
		return
	}
	add(bg, t.rBytes, e.Bytes, n, api)
	t.duration.Record(bg, e.Wire.Seconds(), metric.WithAttributes(n, api))
}

func (t *Telemetry) OnBrokerThrottle(e kafka.BrokerThrottleEvent) {
	t.throttle.Record(bg, e.Throttle.Seconds(), metric.WithAttributes(keyNode.Int(int(e.NodeID)), keyAPI.String(e.API())))
}

func (t *Telemetry) OnProduceBatch(e kafka.ProduceBatchEvent) {
	topic := keyTopic.String(e.Topic)
	add(bg, t.prodRecs, e.Records-e.Retried, topic)
	add(bg, t.prodRetried, e.Retried, topic)
	add(bg, t.prodBytes, e.UncompressedBytes, topic)
	add(bg, t.pWire, e.WireBytes, topic)
}

func (t *Telemetry) OnFetchBatch(e kafka.FetchBatchEvent) {
	topic := keyTopic.String(e.Topic)
	add(bg, t.fetchRecs, e.Records, topic)
	add(bg, t.fetchBytes, e.UncompressedBytes, topic)
	add(bg, t.fetchWire, e.WireBytes, topic)
	t.lag.Record(bg, e.Lag, metric.WithAttributes(topic, keyPartition.String(strconv.Itoa(int(e.Partition)))))
}

func (t *Telemetry) OnGroupEvent(e kafka.GroupEvent) {
	add(bg, t.groupEvents, 1, keyGroup.String(e.Group), keyEvent.String(e.Kind.String()))
}

func (t *Telemetry) OnZooKeeperEvent(e kafka.ZooKeeperEvent) {
	add(bg, t.zkEvents, 1, keyEvent.String(e.State.String()))
}
