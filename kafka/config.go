package kafka

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/internal/zookeeper"
	"github.com/gregorkafka/gregor/sasl"
)

// Defaults applied by NewClient to zero Config fields.
const (
	DefaultHost                  = "127.0.0.1:9092"
	DefaultSocketTimeout         = 30 * time.Second
	DefaultOffsetsChannelTimeout = 10 * time.Second
	DefaultDialTimeout           = 10 * time.Second
	DefaultClientID              = "gregor"
)

// maxClientIDLen is the longest string a request header can carry.
const maxClientIDLen = 1<<15 - 1

// Config configures a Client. The zero value is usable: every zero field
// means the default documented next to it, as with net/http's types.
// NewClient validates it and reports the first bad field as a *ConfigError.
type Config struct {
	// Hosts are the seed brokers, "host:port" each, tried in order until one
	// answers a Metadata request. Default []string{DefaultHost}.
	Hosts []string

	// ZooKeeperHosts is a ZooKeeper connect string, "h1:2181,h2:2181" with an
	// optional chroot suffix ("/kafka"). When set it takes precedence over
	// Hosts: the seeds are the PLAINTEXT endpoints of the brokers registered
	// under /brokers/ids. Only clusters that keep their registry in ZooKeeper
	// (Kafka before 4.0 in ZooKeeper mode) have one. Being plaintext
	// endpoints, they do not suit a client with TLS or SASL set: give it Hosts.
	ZooKeeperHosts string

	// SocketTimeout bounds the wait for a response on a broker connection;
	// a response that does not arrive in time means the connection is
	// broken, and it is closed, failing every request pending on it.
	// Requests a broker may hold on purpose get that time on top: a Fetch
	// its MaxWaitMs, a JoinGroup its rebalance timeout, admin requests their
	// TimeoutMs. Default 30s.
	SocketTimeout time.Duration

	// OffsetsChannelTimeout is SocketTimeout for the connection that carries
	// OffsetCommit and OffsetFetch. Default 10s.
	OffsetsChannelTimeout time.Duration

	// DialTimeout bounds setting up one broker connection (TCP connect and
	// API version negotiation) and reading the broker list from ZooKeeper.
	// Default 10s.
	DialTimeout time.Duration

	// Handler is the runtime every connection and task of the client runs
	// on. Nil means a goroutine handler (handler/goroutine) that the client
	// creates and closes; a Handler passed in is not closed by the client.
	Handler handler.Handler

	// IncludeInternalTopics makes internal topics such as __consumer_offsets
	// visible through Topic and TopicNames. By default they are hidden.
	IncludeInternalTopics bool

	// SourceAddress is the local "ip:port" connections bind to ("ip:0" for
	// any port). Empty lets the OS choose.
	SourceAddress string

	// ClientID is sent with every request; brokers use it in logs, metrics
	// and quotas. Default "gregor".
	ClientID string

	// Logger receives the client's log records, with structured attributes
	// (broker, topic, error). Routine events (brokers joining, rebalances,
	// assignments) are logged at Debug, so a program's Info log stays its
	// own; what needs attention (messages not delivered, a failing commit,
	// an offset out of range) at Warn, and failures the client cannot
	// recover from at Error. Default slog.Default().
	Logger *slog.Logger

	// TLS, when set, runs every broker connection of the client over TLS
	// with this configuration: bootstrap, metadata, produce, fetch, group
	// coordinator and offsets connections alike. Nil means plaintext. The
	// certificate chain and host name are verified as crypto/tls does unless
	// InsecureSkipVerify is set; an empty ServerName is filled per connection
	// with the host of the broker's address. Set RootCAs to trust a private
	// CA and Certificates for a client certificate (mutual TLS). The client
	// keeps a clone, so later changes to the value have no effect.
	TLS *tls.Config

	// SASL, when set, authenticates every broker connection of the client
	// with this mechanism (sasl.Plain, sasl.SCRAM, sasl.OAuthBearer, or any
	// sasl.Mechanism), after API version negotiation and before any other
	// request; nil means none. Use it with TLS unless the network is
	// trusted: PLAIN sends the password as is. A broker that rejects the
	// credentials or the mechanism fails the call that needed the
	// connection with an error matching *sasl.Error, and the client does
	// not retry it. When the broker limits the session
	// (connections.max.reauth.ms), connections re-authenticate before it
	// ends.
	SASL sasl.Mechanism

	// AutoCreateTopics asks brokers to create a topic that Topic looks up
	// and does not find. It works only where the broker allows it
	// (auto.create.topics.enable); elsewhere the lookup fails as usual.
	AutoCreateTopics bool

	// Hooks observe the client: connections, requests, produced and
	// fetched batches, group and ZooKeeper events. Each value implements
	// one or more of the hook interfaces (BrokerReadHook, ...); see Hook.
	// None by default, which costs nothing.
	Hooks []Hook

	// DisableMetricsPush turns client telemetry (KIP-714) off; the Java
	// client's enable.metrics.push=false. By default, when a broker offers
	// it (one with a metrics reporter that receives client telemetry), the
	// client pushes the metrics the broker's client-metrics subscription
	// asks for, OTLP-encoded, at the interval it names. Brokers without
	// such a reporter offer nothing, and the client then does no work for
	// it.
	DisableMetricsPush bool
}

// ConfigError reports an invalid field of a Config, ProducerConfig,
// ConsumerConfig or BalancedConsumerConfig.
type ConfigError struct {
	// Field names the field: bare for Config ("Hosts[1]", "SocketTimeout"),
	// qualified by its struct for the others ("ProducerConfig.Linger").
	Field  string
	Reason string
}

func (e *ConfigError) Error() string {
	if strings.Contains(e.Field, "Config.") {
		return "kafka: invalid " + e.Field + ": " + e.Reason
	}
	return "kafka: invalid Config." + e.Field + ": " + e.Reason
}

// withDefaults validates c and returns a copy with every default filled in.
// It does not create the default Handler: that is a resource, made by
// NewClient.
func (c Config) withDefaults() (Config, error) {
	bad := func(field, format string, args ...any) (Config, error) {
		return c, &ConfigError{Field: field, Reason: fmt.Sprintf(format, args...)}
	}
	for _, f := range []struct {
		name string
		d    time.Duration
	}{
		{"SocketTimeout", c.SocketTimeout},
		{"OffsetsChannelTimeout", c.OffsetsChannelTimeout},
		{"DialTimeout", c.DialTimeout},
	} {
		if f.d < 0 {
			return bad(f.name, "negative (%v)", f.d)
		}
	}
	for i, h := range c.Hosts {
		if err := checkHostPort(h); err != nil {
			return bad(fmt.Sprintf("Hosts[%d]", i), "%q: %v", h, err)
		}
	}
	if c.ZooKeeperHosts != "" {
		if _, err := zookeeper.ParseConnect(c.ZooKeeperHosts); err != nil {
			return bad("ZooKeeperHosts", "%v", err)
		}
	}
	if c.SourceAddress != "" {
		if err := checkSourceAddress(c.SourceAddress); err != nil {
			return bad("SourceAddress", "%q: %v", c.SourceAddress, err)
		}
	}
	if len(c.ClientID) > maxClientIDLen {
		return bad("ClientID", "longer than %d bytes", maxClientIDLen)
	}

	if _, err := newHooks(c.Hooks); err != nil {
		return c, err
	}
	c.Hooks = append([]Hook(nil), c.Hooks...)

	if len(c.Hosts) == 0 {
		c.Hosts = []string{DefaultHost}
	} else {
		c.Hosts = append([]string(nil), c.Hosts...)
	}
	if c.SocketTimeout == 0 {
		c.SocketTimeout = DefaultSocketTimeout
	}
	if c.OffsetsChannelTimeout == 0 {
		c.OffsetsChannelTimeout = DefaultOffsetsChannelTimeout
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	if c.ClientID == "" {
		c.ClientID = DefaultClientID
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.TLS != nil {
		c.TLS = c.TLS.Clone()
	}
	return c, nil
}

// checkHostPort accepts "host:port" with a non-empty host and a port in
// 1..65535. IPv6 hosts need brackets: "[::1]:9092".
func checkHostPort(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return err
	}
	if host == "" {
		return fmt.Errorf("empty host")
	}
	return checkPort(port, false)
}

// checkSourceAddress accepts "ip:port", where port may be 0.
func checkSourceAddress(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return err
	}
	if host != "" && net.ParseIP(host) == nil {
		return fmt.Errorf("%q is not an IP address", host)
	}
	return checkPort(port, true)
}

func checkPort(port string, zeroOK bool) error {
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 || (n == 0 && !zeroOK) || strings.TrimSpace(port) != port {
		return fmt.Errorf("bad port %q", port)
	}
	return nil
}
