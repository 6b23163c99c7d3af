package conn

import (
	"reflect"
	"sync"
	"time"

	"github.com/gregorkafka/gregor/protocol"
)

// Observer learns what a BrokerConnection does, for metrics and tracing.
// Set it in Config.Observer; nil costs nothing. Its methods run on the
// goroutine of whoever caused the event (Connect's caller, the sender, the
// caller of Get) or on a task of the handler (a socket lost while nobody
// was using it), never on the connection's read path, so a slow observer
// slows its caller but cannot stall other connections sharing an event
// loop. They must be safe for concurrent use.
type Observer interface {
	// Connected reports the end of a Connect: the dial took Dial, and the
	// whole set-up (dial, ApiVersions, Authenticate) Setup. Err is nil on
	// success.
	Connected(ConnectInfo)
	// Disconnected reports that a connection that was set up is gone: Err
	// is ErrClosed after Close or Reconnect, the socket's error otherwise.
	Disconnected(DisconnectInfo)
	// RequestWritten reports a request handed to the socket.
	RequestWritten(RequestInfo)
	// ResponseRead reports a response, the first time Get collects it. A
	// response nobody calls Get for is not reported.
	ResponseRead(ResponseInfo)
}

// ConnectInfo describes one connection attempt.
type ConnectInfo struct {
	Address string
	Dial    time.Duration // the TCP (and TLS) dial alone
	Setup   time.Duration // dial, version negotiation and authentication
	Err     error
}

// DisconnectInfo describes the end of a connection.
type DisconnectInfo struct {
	Address string
	Pending int // requests failed by the disconnection
	Err     error
}

// RequestInfo describes a request written to the socket.
type RequestInfo struct {
	Address string
	APIKey  int16
	Version int16
	Bytes   int           // the whole frame, size prefix included
	Queued  time.Duration // from the call to the write: in-flight slot and write queue
	Err     error
}

// ResponseInfo describes a response read from the socket, or the error
// that replaced it.
type ResponseInfo struct {
	Address string
	APIKey  int16
	Version int16
	Bytes   int           // the frame as received, size prefix included; 0 on error
	Wire    time.Duration // from the write to the response's arrival
	Decode  time.Duration // decoding, in Get
	// Throttle is the response's throttle_time_ms: how long the broker
	// asks the client to hold off because it exceeded a quota.
	Throttle time.Duration
	Err      error
}

// throttleField caches, per response type, the index of its ThrottleTimeMs
// field, or -1. Only observed connections look it up.
var throttleField sync.Map // reflect.Type -> int

// throttleOf returns the throttle time a decoded response carries.
func throttleOf(m protocol.Message) time.Duration {
	v := reflect.ValueOf(m)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return 0
	}
	v = v.Elem()
	t := v.Type()
	idx, ok := throttleField.Load(t)
	if !ok {
		i := -1
		if f, found := t.FieldByName("ThrottleTimeMs"); found && len(f.Index) == 1 && f.Type.Kind() == reflect.Int32 {
			i = f.Index[0]
		}
		throttleField.Store(t, i)
		idx = i
	}
	if i := idx.(int); i >= 0 {
		return time.Duration(v.Field(i).Int()) * time.Millisecond
	}
	return 0
}
