package kafka

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/gregorkafka/gregor/protocol"
)

// Client telemetry (KIP-714): when a broker offers it, which it does only
// when a metrics reporter able to receive client telemetry is configured on
// it, the client asks for a subscription (GetTelemetrySubscriptions) and
// pushes the metrics the subscription selects every push interval
// (PushTelemetry), OTLP-encoded. Config.DisableMetricsPush turns it off.

const (
	// telemetryRetry is the wait after a failed subscription request.
	telemetryRetry = 30 * time.Second
	// telemetryIdle is how often a client whose subscription selects
	// nothing asks again, when the broker names no interval.
	telemetryIdle  = 5 * time.Minute
	telemetryScope = "github.com/gregorkafka/gregor/kafka"
)

// telemetryBroker returns a connected broker that offers client telemetry,
// or nil.
func (c *Cluster) telemetryBroker() *Broker {
	for _, b := range c.Brokers() {
		b.mu.Lock()
		gc := b.conns[connGeneral]
		b.mu.Unlock()
		if gc == nil || !gc.Connected() {
			continue
		}
		if v := gc.Versions(); v != nil {
			if _, ok := v.Version(protocol.APIKeyGetTelemetrySubscriptions); ok {
				return b
			}
		}
	}
	return nil
}

// startTelemetry registers the telemetry hook and starts the push task
// when a broker the client bootstrapped from offers telemetry. It runs in
// NewClient, before any other use of the hooks.
func (c *Cluster) startTelemetry(ctx context.Context) {
	if c.cfg.DisableMetricsPush || c.telemetryBroker() == nil {
		return
	}
	st := &telemetryStats{}
	hk := c.hooks
	hk.connect = append(hk.connect, st)
	hk.disconnect = append(hk.disconnect, st)
	hk.write = append(hk.write, st)
	hk.read = append(hk.read, st)
	hk.throttle = append(hk.throttle, st)
	hk.produce = append(hk.produce, st)
	hk.fetch = append(hk.fetch, st)
	hk.group = append(hk.group, st)
	c.h.Go("kafka-telemetry", func() { c.runTelemetry(ctx, st) })
}

// telemetrySub is the subscription the client follows.
type telemetrySub struct {
	instance  protocol.UUID
	id        int32
	interval  time.Duration
	requested []string
	delta     bool
	maxBytes  int
}

// runTelemetry gets a subscription and pushes what it asks for, until ctx
// ends or no broker offers telemetry any more.
func (c *Cluster) runTelemetry(ctx context.Context, st *telemetryStats) {
	var sub telemetrySub
	start := uint64(c.h.Now().UnixNano())
	last := map[string]int64{}
	for ctx.Err() == nil {
		b := c.telemetryBroker()
		if b == nil {
			c.log.Debug("kafka: no broker offers client telemetry; not pushing metrics")
			return
		}
		resp, err := call[*protocol.GetTelemetrySubscriptionsResponse](ctx, b, connGeneral,
			&protocol.GetTelemetrySubscriptionsRequest{ClientInstanceID: sub.instance}, 0)
		if err == nil {
			err = protocol.ErrorForCode(resp.ErrorCode)
		}
		if err != nil {
			c.log.Debug("kafka: telemetry subscription failed", "broker", b.ID(), "error", err)
			if c.h.Sleep(ctx, telemetryRetry) != nil {
				return
			}
			continue
		}
		if !resp.ClientInstanceID.IsZero() {
			sub.instance = resp.ClientInstanceID
		}
		if resp.SubscriptionID != sub.id {
			clear(last) // a new subscription starts its deltas afresh
		}
		sub.id, sub.requested, sub.delta = resp.SubscriptionID, resp.RequestedMetrics, resp.DeltaTemporality
		sub.interval, sub.maxBytes = time.Duration(resp.PushIntervalMs)*time.Millisecond, int(resp.TelemetryMaxBytes)
		if sub.interval <= 0 {
			sub.interval = telemetryIdle
		}
		if len(sub.requested) == 0 {
			if c.h.Sleep(ctx, sub.interval) != nil {
				return
			}
			continue
		}
		// The first push after a new subscription is jittered (0.5-1.5
		// intervals) so that clients started together spread out.
		wait := time.Duration(float64(sub.interval) * (0.5 + rand.Float64()))
		for c.h.Sleep(ctx, wait) == nil {
			wait = sub.interval
			if err := c.pushTelemetry(ctx, b, &sub, st, start, last); err != nil {
				c.log.Debug("kafka: telemetry push failed, subscribing again", "broker", b.ID(), "error", err)
				break
			}
		}
	}
}

// errTelemetryTooLarge reports a payload above the subscription's limit;
// the push is skipped.
var errTelemetryTooLarge = errors.New("kafka: telemetry payload above the broker's limit")

// pushTelemetry sends one PushTelemetry; an error means the subscription
// must be fetched again.
func (c *Cluster) pushTelemetry(ctx context.Context, b *Broker, sub *telemetrySub, st *telemetryStats, start uint64, last map[string]int64) error {
	metrics := st.snapshot(sub.requested, sub.delta, last)
	attrs := [][2]string{{"client_id", c.cfg.ClientID}, {"client_software_name", "gregor"}}
	now := uint64(c.h.Now().UnixNano())
	payload := encodeOTLPMetrics(attrs, telemetryScope, metrics, start, now, sub.delta)
	if sub.maxBytes > 0 && len(payload) > sub.maxBytes {
		return errTelemetryTooLarge
	}
	resp, err := call[*protocol.PushTelemetryResponse](ctx, b, connGeneral, &protocol.PushTelemetryRequest{
		ClientInstanceID: sub.instance, SubscriptionID: sub.id, CompressionType: 0, Metrics: payload}, 0)
	if err != nil {
		return err
	}
	return protocol.ErrorForCode(resp.ErrorCode)
}
