package kafka

import (
	"errors"
	"fmt"
	"time"

	"github.com/gregorkafka/gregor/protocol"
)

// Hook is something a user registers in Config.Hooks to observe the client:
// a value implementing one or more of the hook interfaces below
// (BrokerConnectHook, BrokerWriteHook, ProduceBatchHook, ...). Each is
// checked once, by type assertion, when the client is created; a value
// implementing none is a *ConfigError. With no hooks registered the client
// does no observing work at all.
//
// Hooks are called synchronously on the goroutine of whatever caused the
// event (a request's sender, the caller collecting a response, a producer's
// response task, a consumer's decode task, the group task), never on the
// socket's read path, so they cannot stall an event loop shared by every
// connection; but they do delay their caller, so they must be quick and
// must not block (record and return, as a metrics counter does). They must
// be safe for concurrent use, and must not keep the slices events carry.
type Hook any

// BrokerConnectHook is told of every attempt to open a connection to a
// broker.
type BrokerConnectHook interface {
	OnBrokerConnect(BrokerConnectEvent)
}

// BrokerDisconnectHook is told when a connection that was set up ends.
type BrokerDisconnectHook interface {
	OnBrokerDisconnect(BrokerDisconnectEvent)
}

// BrokerWriteHook is told of every request written to a broker.
type BrokerWriteHook interface {
	OnBrokerWrite(BrokerWriteEvent)
}

// BrokerReadHook is told of every response read from a broker (or the
// connection error that replaced it), once the response is collected.
type BrokerReadHook interface {
	OnBrokerRead(BrokerReadEvent)
}

// BrokerThrottleHook is told when a broker answers with a non-zero
// throttle_time_ms: the client exceeded a quota and the broker asks it to
// hold off.
type BrokerThrottleHook interface {
	OnBrokerThrottle(BrokerThrottleEvent)
}

// ProduceBatchHook is told of every record batch a producer writes.
type ProduceBatchHook interface {
	OnProduceBatch(ProduceBatchEvent)
}

// FetchBatchHook is told of every partition's records a consumer fetched
// and decoded.
type FetchBatchHook interface {
	OnFetchBatch(FetchBatchEvent)
}

// GroupHook is told of a balanced consumer's group events.
type GroupHook interface {
	OnGroupEvent(GroupEvent)
}

// ZooKeeperHook is told of the ZooKeeper session events of balanced
// consumers coordinated through ZooKeeper.
type ZooKeeperHook interface {
	OnZooKeeperEvent(ZooKeeperEvent)
}

// BrokerMeta names the broker and connection an event happened on.
type BrokerMeta struct {
	// NodeID is the broker's id, or -1 for a seed broker contacted before
	// the cluster's metadata was known; once that connection serves as the
	// broker's general connection, its events carry the broker's id.
	NodeID int32
	Addr   string // "host:port"
	// Conn is the connection's purpose: "general", "produce", "fetch",
	// "group" or "offsets" (see Broker).
	Conn string
}

// BrokerConnectEvent describes one connection attempt.
type BrokerConnectEvent struct {
	BrokerMeta
	Dial  time.Duration // the TCP dial alone
	Setup time.Duration // the dial plus API version negotiation
	Err   error         // nil when the connection is up
}

// BrokerDisconnectEvent describes the end of a connection. Err matches
// conn.ErrClosed when the client closed it.
type BrokerDisconnectEvent struct {
	BrokerMeta
	Pending int // requests that failed with it
	Err     error
}

// BrokerWriteEvent describes a request written to a broker.
type BrokerWriteEvent struct {
	BrokerMeta
	APIKey  int16
	Version int16
	Bytes   int           // the request frame, size prefix included
	Queued  time.Duration // waiting for an in-flight slot and the socket
	Err     error
}

// API returns the request's API name ("Produce", "Fetch", ...).
func (e BrokerWriteEvent) API() string { return protocol.APIName(e.APIKey) }

// BrokerReadEvent describes a response read from a broker.
type BrokerReadEvent struct {
	BrokerMeta
	APIKey   int16
	Version  int16
	Bytes    int           // the response frame, size prefix included; 0 on error
	Wire     time.Duration // from writing the request to the response's arrival
	Decode   time.Duration
	Throttle time.Duration
	Err      error // a connection or decoding error; error codes inside the response are not errors here
}

// API returns the response's API name.
func (e BrokerReadEvent) API() string { return protocol.APIName(e.APIKey) }

// BrokerThrottleEvent describes a throttled response.
type BrokerThrottleEvent struct {
	BrokerMeta
	APIKey   int16
	Throttle time.Duration
}

// API returns the throttled API's name.
func (e BrokerThrottleEvent) API() string { return protocol.APIName(e.APIKey) }

// ProduceBatchEvent describes one partition's record batch in a Produce
// request that was written. A batch that fails and is sent again is
// reported again: Retried says how many of its records were sent before,
// so Records-Retried counts each record once.
type ProduceBatchEvent struct {
	Topic     string
	Partition int32
	NodeID    int32 // the leader it went to
	Records   int
	Retried   int
	// UncompressedBytes counts the records' keys, values and headers;
	// WireBytes the batch as sent, after compression and framing.
	UncompressedBytes int
	WireBytes         int
	Compression       Compression
}

// FetchBatchEvent describes one partition's records from one Fetch
// response, after decoding.
type FetchBatchEvent struct {
	Topic     string
	Partition int32
	NodeID    int32
	Records   int // messages delivered to the consumer's queue
	// UncompressedBytes counts the decoded messages' keys, values and
	// headers; WireBytes the record data as fetched.
	UncompressedBytes int
	WireBytes         int
	// HighWatermark is the partition's high watermark in the response, and
	// Lag how far the consumer's fetch position is behind it after this
	// batch.
	HighWatermark int64
	Lag           int64
}

// GroupEventKind says what happened to a group member.
type GroupEventKind uint8

const (
	// GroupJoined: the member entered a new generation of the group
	// (broker-coordinated groups).
	GroupJoined GroupEventKind = iota + 1
	// GroupAssigned: the member owns Partitions now.
	GroupAssigned
	// GroupRevoked: a rebalance takes Partitions away; delivery pauses.
	GroupRevoked
	// GroupLost: the member lost its membership without giving its
	// partitions up (the coordinator forgot it, its generation ended, or
	// its ZooKeeper session expired); Err says why.
	GroupLost
)

func (k GroupEventKind) String() string {
	switch k {
	case GroupJoined:
		return "joined"
	case GroupAssigned:
		return "assigned"
	case GroupRevoked:
		return "revoked"
	case GroupLost:
		return "lost"
	}
	return fmt.Sprintf("GroupEventKind(%d)", uint8(k))
}

// GroupEvent describes a balanced consumer's group event.
type GroupEvent struct {
	Kind       GroupEventKind
	Group      string
	Topic      string // one event per topic for consumers of several; "" for events of the whole member there
	Member     string
	Generation int32   // -1 where there is none (ZooKeeper groups)
	Partitions []int32 // assigned or revoked
	Err        error   // why, for GroupLost
}

// ZooKeeperState is a ZooKeeper session state.
type ZooKeeperState uint8

const (
	ZooKeeperConnected    ZooKeeperState = iota + 1 // the session is established
	ZooKeeperDisconnected                           // the connection dropped; the session may survive
	ZooKeeperExpired                                // the session ended: ephemeral nodes are gone
)

func (s ZooKeeperState) String() string {
	switch s {
	case ZooKeeperConnected:
		return "connected"
	case ZooKeeperDisconnected:
		return "disconnected"
	case ZooKeeperExpired:
		return "expired"
	}
	return fmt.Sprintf("ZooKeeperState(%d)", uint8(s))
}

// ZooKeeperEvent describes a change of a ZooKeeper session.
type ZooKeeperEvent struct {
	State  ZooKeeperState
	Group  string
	Member string
	Server string // the server the session is connected to, when known
}

// ErrZooKeeperSessionExpired is the Err of the GroupLost event a consumer
// coordinated through ZooKeeper reports when its session expires, which
// deletes its registration and partition claims.
var ErrZooKeeperSessionExpired = errors.New("kafka: zookeeper session expired")
