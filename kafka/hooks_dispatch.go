package kafka

import (
	"fmt"
	"slices"
	"sync/atomic"

	"github.com/gregorkafka/gregor/conn"
	"github.com/gregorkafka/gregor/internal/zookeeper"
	"github.com/gregorkafka/gregor/protocol"
)

// hooks holds Config.Hooks sorted by interface, so a call site costs a
// length check when nothing listens.
type hooks struct {
	connect    []BrokerConnectHook
	disconnect []BrokerDisconnectHook
	write      []BrokerWriteHook
	read       []BrokerReadHook
	throttle   []BrokerThrottleHook
	produce    []ProduceBatchHook
	fetch      []FetchBatchHook
	group      []GroupHook
	zk         []ZooKeeperHook
}

// newHooks sorts list; a value implementing no hook interface is an error
// naming its index.
func newHooks(list []Hook) (*hooks, error) {
	hk := &hooks{}
	for i, h := range list {
		n := addHook(&hk.connect, h) + addHook(&hk.disconnect, h) + addHook(&hk.write, h) +
			addHook(&hk.read, h) + addHook(&hk.throttle, h) + addHook(&hk.produce, h) +
			addHook(&hk.fetch, h) + addHook(&hk.group, h) + addHook(&hk.zk, h)
		if n == 0 {
			return nil, &ConfigError{Field: fmt.Sprintf("Hooks[%d]", i), Reason: fmt.Sprintf("%T implements no hook interface", h)}
		}
	}
	return hk, nil
}

// addHook appends h to dst when it implements T, and says how many it
// added (0 or 1).
func addHook[T any](dst *[]T, h Hook) int {
	x, ok := h.(T)
	if !ok {
		return 0
	}
	*dst = append(*dst, x)
	return 1
}

// observer returns the conn.Observer for a connection, or nil when no
// broker-level hook is registered.
func (hk *hooks) observer(meta BrokerMeta) conn.Observer {
	if len(hk.connect)+len(hk.disconnect)+len(hk.write)+len(hk.read)+len(hk.throttle) == 0 {
		return nil
	}
	o := &connObserver{hk: hk}
	o.meta.Store(&meta)
	return o
}

// connObserver turns one connection's conn events into hook calls.
type connObserver struct {
	hk   *hooks
	meta atomic.Pointer[BrokerMeta] // replaced when a seed's connection is adopted by its broker
}

// adopted makes the events of a seed's connection c name broker id from
// now on.
func adopted(c *conn.BrokerConnection, id int32) {
	if o, ok := c.Config().Observer.(*connObserver); ok {
		m := *o.meta.Load()
		m.NodeID = id
		o.meta.Store(&m)
	}
}

func (o *connObserver) Connected(i conn.ConnectInfo) {
	for _, h := range o.hk.connect {
		h.OnBrokerConnect(BrokerConnectEvent{BrokerMeta: *o.meta.Load(), Dial: i.Dial, Setup: i.Setup, Err: i.Err})
	}
}

func (o *connObserver) Disconnected(i conn.DisconnectInfo) {
	for _, h := range o.hk.disconnect {
		h.OnBrokerDisconnect(BrokerDisconnectEvent{BrokerMeta: *o.meta.Load(), Pending: i.Pending, Err: i.Err})
	}
}

func (o *connObserver) RequestWritten(i conn.RequestInfo) {
	for _, h := range o.hk.write {
		h.OnBrokerWrite(BrokerWriteEvent{BrokerMeta: *o.meta.Load(), APIKey: i.APIKey, Version: i.Version,
			Bytes: i.Bytes, Queued: i.Queued, Err: i.Err})
	}
}

func (o *connObserver) ResponseRead(i conn.ResponseInfo) {
	for _, h := range o.hk.read {
		h.OnBrokerRead(BrokerReadEvent{BrokerMeta: *o.meta.Load(), APIKey: i.APIKey, Version: i.Version, Bytes: i.Bytes,
			Wire: i.Wire, Decode: i.Decode, Throttle: i.Throttle, Err: i.Err})
	}
	if i.Throttle > 0 {
		for _, h := range o.hk.throttle {
			h.OnBrokerThrottle(BrokerThrottleEvent{BrokerMeta: *o.meta.Load(), APIKey: i.APIKey, Throttle: i.Throttle})
		}
	}
}

func (hk *hooks) groupEvent(e GroupEvent) {
	for _, h := range hk.group {
		h.OnGroupEvent(e)
	}
}

func (hk *hooks) zooKeeperEvent(e ZooKeeperEvent) {
	for _, h := range hk.zk {
		h.OnZooKeeperEvent(e)
	}
}

// observeBatches reports the batches of a Produce request just written to
// broker node; req.TopicData[0].PartitionData[i] holds sent[i].
func (p *Producer) observeBatches(node int32, sent []*batch, req *protocol.ProduceRecordsRequest) {
	parts := req.Partitions
	for i, b := range sent {
		e := ProduceBatchEvent{Topic: p.t.name, Partition: b.pb.id, NodeID: node, Records: len(b.recs),
			WireBytes: parts[i].WireSize(), Compression: p.cfg.Compression}
		for j := range b.recs {
			e.UncompressedBytes += payloadBytes(&b.recs[j].msg)
			// An idempotent batch is resent whole, and an out-of-order answer
			// is not counted as a try: what was written before is retried.
			if b.written || b.recs[j].attempts > 0 {
				e.Retried++
			}
		}
		b.written = true
		for _, h := range p.t.cl.hooks.produce {
			h.OnProduceBatch(e)
		}
	}
}

// payloadBytes counts what a message carries: key, value and headers.
func payloadBytes(m *Message) int {
	n := len(m.Key) + len(m.Value)
	for i := range m.Headers {
		n += len(m.Headers[i].Key) + len(m.Headers[i].Value)
	}
	return n
}

// observeFetch reports one decoded fetch item. It runs on the fetch loop's
// decode task.
func (c *SimpleConsumer) observeFetch(l *fetchLoop, it *decodeItem, out *decodeOut) {
	e := FetchBatchEvent{Topic: c.topic.name, Partition: it.in.partition, NodeID: l.broker.ID(),
		Records: len(out.msgs), WireBytes: it.bytes, HighWatermark: it.hw}
	next := it.in.fetchOffset
	for i := range out.msgs {
		e.UncompressedBytes += payloadBytes(&out.msgs[i])
	}
	if n := len(out.msgs); n > 0 {
		next = out.msgs[n-1].Offset + 1
	}
	e.Lag = max(0, it.hw-next)
	for _, h := range c.topic.cl.hooks.fetch {
		h.OnFetchBatch(e)
	}
}

// groupEvent reports a group event of kind about no partitions to the
// GroupHooks, if any.
func (b *BalancedConsumer) groupEvent(kind GroupEventKind, parts []int32, err error) {
	b.groupEventOf(kind, b.single, parts, err)
}

// groupEvents reports a group event of kind to the GroupHooks, if any: one
// per topic of parts, none when parts is empty.
func (b *BalancedConsumer) groupEvents(kind GroupEventKind, parts topicParts, err error) {
	if len(b.cl.hooks.group) == 0 {
		return
	}
	if kind == GroupAssigned && parts.len() == 0 {
		b.groupEventOf(kind, b.single, nil, err) // an assignment of nothing is news too
	}
	for _, t := range sortedTopics(parts) {
		b.groupEventOf(kind, t, parts[t], err)
	}
}

func (b *BalancedConsumer) groupEventOf(kind GroupEventKind, topic string, parts []int32, err error) {
	if len(b.cl.hooks.group) == 0 {
		return
	}
	e := GroupEvent{Kind: kind, Group: b.group, Topic: topic, Member: b.member.memberID(),
		Generation: -1, Partitions: slices.Clone(parts), Err: err}
	if g := b.member.generation(); g != nil {
		e.Generation, _ = g()
	}
	b.cl.hooks.groupEvent(e)
}

// zooKeeperEvent reports a session event of the consumer's ZooKeeper
// connection (member id) to the ZooKeeperHooks. Other event types are
// ignored.
func (b *BalancedConsumer) zooKeeperEvent(state zookeeper.State, server, member string) {
	var st ZooKeeperState
	switch state {
	case zookeeper.Connected:
		st = ZooKeeperConnected
	case zookeeper.Disconnected:
		st = ZooKeeperDisconnected
	case zookeeper.Expired:
		st = ZooKeeperExpired
	default:
		return
	}
	b.cl.hooks.zooKeeperEvent(ZooKeeperEvent{State: st, Group: b.group, Member: member, Server: server})
}
