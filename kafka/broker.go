package kafka

import (
	"context"
	"net"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/gregorkafka/gregor/conn"
	"github.com/gregorkafka/gregor/handler"
)

// Broker is one Kafka broker of a Cluster. The Cluster keeps one *Broker per
// broker id for the client's lifetime and updates it in place when metadata
// shows a new address, so a *Broker may be held and compared.
//
// A Broker talks to its server over several connections, one per kind of
// work, each dialed on first use and dialed again after it broke. Kafka
// serves the requests of one connection strictly one after another, so
// separate connections keep a long poll or a rebalance from delaying
// everything queued behind it:
//
//   - general: Metadata, ListOffsets, FindCoordinator, group listing, admin
//   - produce: Produce
//   - fetch: Fetch (long polls)
//   - group: JoinGroup, SyncGroup, Heartbeat, LeaveGroup, one per group id
//     (a JoinGroup may be held for a whole rebalance)
//   - offsets: OffsetCommit, OffsetFetch, with Config.OffsetsChannelTimeout
//
// Any generated request goes through the generic function Request, which
// infers the response type from the request's; the typed methods (Fetch,
// Produce, Metadata, ...) are Request for the calls the client itself makes,
// kept as named shorthands. Both return the broker's response as is: error
// codes inside it are the caller's to inspect; the error result reports only
// transport failures (a *conn.DisconnectedError and the like), a request the
// broker does not serve (protocol.ErrUnsupportedVersion) and ctx.Err().
type Broker struct {
	id int32
	cl *Cluster

	addr atomic.Pointer[brokerAddr]
	live atomic.Bool // listed in the latest metadata

	mu     sync.Mutex
	conns  map[connKey]*conn.BrokerConnection
	closed bool // the client closed; no new connections
}

// brokerAddr is a broker's advertised endpoint, replaced as a whole.
type brokerAddr struct {
	host     string
	port     int32
	rack     string
	hostPort string
}

func newBrokerAddr(host string, port int32, rack string) *brokerAddr {
	return &brokerAddr{host: host, port: port, rack: rack,
		hostPort: net.JoinHostPort(host, strconv.Itoa(int(port)))}
}

// purpose names a kind of connection; see Broker.
type purpose uint8

const (
	purposeGeneral purpose = iota
	purposeProduce
	purposeFetch
	purposeGroup
	purposeOffsets
)

func (p purpose) String() string {
	return [...]string{"general", "produce", "fetch", "group", "offsets"}[p]
}

// connKey identifies one of a broker's connections. tag separates
// connections of the same purpose (group connections are per group id).
type connKey struct {
	purpose purpose
	tag     string
}

func newBroker(cl *Cluster, id int32, addr *brokerAddr) *Broker {
	b := &Broker{id: id, cl: cl, conns: make(map[connKey]*conn.BrokerConnection), closed: cl.closed.Load()}
	b.addr.Store(addr)
	return b
}

// ID returns the broker's node id.
func (b *Broker) ID() int32 { return b.id }

// Host returns the broker's advertised host.
func (b *Broker) Host() string { return b.addr.Load().host }

// Port returns the broker's advertised port.
func (b *Broker) Port() int32 { return b.addr.Load().port }

// Rack returns the broker's rack, or "" if it has none.
func (b *Broker) Rack() string { return b.addr.Load().rack }

// Addr returns "host:port".
func (b *Broker) Addr() string { return b.addr.Load().hostPort }

// Connected reports whether the broker's general connection is up.
func (b *Broker) Connected() bool {
	b.mu.Lock()
	c := b.conns[connKey{purpose: purposeGeneral}]
	b.mu.Unlock()
	return c != nil && c.Connected()
}

// String returns "broker 1 (host:9092)", for logs.
func (b *Broker) String() string {
	return "broker " + strconv.Itoa(int(b.id)) + " (" + b.Addr() + ")"
}

// conn returns the connection for key, connected, dialing it if needed.
func (b *Broker) conn(ctx context.Context, key connKey) (*conn.BrokerConnection, error) {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil, ErrClosed
	}
	c := b.conns[key]
	if c == nil {
		var err error
		if c, err = conn.New(b.cl.h, b.Addr(), b.connConfig(key.purpose)); err != nil {
			b.mu.Unlock()
			return nil, err
		}
		b.conns[key] = c
	}
	b.mu.Unlock()
	if c.Connected() {
		return c, nil
	}
	// Concurrent callers share one attempt: Connect serialises them.
	dctx, cancel := handler.WithTimeout(ctx, b.cl.h, b.cl.cfg.DialTimeout)
	err := c.Connect(dctx)
	cancel()
	if err != nil {
		b.cl.log.Debug("kafka: broker connection failed", "broker", b.id, "addr", c.Address(),
			"conn", key.purpose.String(), "error", err)
		return nil, err
	}
	return c, nil
}

func (b *Broker) connConfig(p purpose) conn.Config {
	cfg := &b.cl.cfg
	cc := cfg.connConfig(b.cl.log.With("broker", b.id, "conn", p.String()))
	cc.Observer = b.cl.hooks.observer(BrokerMeta{NodeID: b.id, Addr: b.Addr(), Conn: p.String()})
	if p == purposeOffsets {
		cc.RequestTimeout = cfg.OffsetsChannelTimeout
	}
	return cc
}

// adopt makes c, an already connected connection to this broker's address
// (the bootstrap connection to a seed), its general connection, unless it
// has a live one. It reports whether it kept c.
func (b *Broker) adopt(c *conn.BrokerConnection) bool {
	key := connKey{purpose: purposeGeneral}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed || c.Address() != b.Addr() || !c.Connected() {
		return false
	}
	if old := b.conns[key]; old != nil {
		if old.Connected() {
			return false
		}
		old.Close()
	}
	b.conns[key] = c
	adopted(c, b.id)
	return true
}

// setAddr records the broker's advertised endpoint. When it moved, the
// connections to the old address are closed; the next request dials the
// new one.
func (b *Broker) setAddr(a *brokerAddr) {
	old := b.addr.Load()
	if *old == *a {
		return
	}
	b.addr.Store(a)
	if old.hostPort != a.hostPort {
		b.closeConns()
	}
}

// closeConns closes every connection; pending requests fail at once with a
// *conn.DisconnectedError. Later requests dial afresh.
func (b *Broker) closeConns() {
	b.mu.Lock()
	conns := b.conns
	b.conns = make(map[connKey]*conn.BrokerConnection)
	b.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

// shutdown closes every connection for good.
func (b *Broker) shutdown() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	b.closeConns()
}
