package kafka

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/gregorkafka/gregor/conn"
	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/internal/zookeeper"
	"github.com/gregorkafka/gregor/protocol"
)

// Cluster is the client's model of a Kafka cluster: its brokers and the
// topics looked up so far, kept fresh by metadata refreshes. Get it from
// Client.Cluster. It is safe for concurrent use; reads never block on a
// refresh in progress.
type Cluster struct {
	cfg Config
	h   handler.Handler
	log *slog.Logger

	mu         sync.Mutex // serialises apply; guards allBrokers, allTopics
	state      atomic.Pointer[clusterState]
	allBrokers map[int32]*Broker
	allTopics  map[string]*Topic

	// Refreshes run one at a time. A caller takes a ticket before waiting;
	// a refresh records the last ticket issued when it started, and a
	// caller whose ticket that covers skips its own refresh, since one that
	// began after it asked has already finished.
	refreshLock   handler.Lock
	refreshCalls  atomic.Uint64
	refreshedUpTo atomic.Uint64

	coordMu sync.Mutex
	coords  map[string]int32 // group -> coordinator broker id

	closed atomic.Bool

	hooks *hooks // Config.Hooks by interface
}

func newCluster(cfg Config, h handler.Handler) *Cluster {
	c := &Cluster{
		cfg:         cfg,
		h:           h,
		log:         cfg.Logger,
		allBrokers:  map[int32]*Broker{},
		allTopics:   map[string]*Topic{},
		refreshLock: h.NewLock(),
		coords:      map[string]int32{},
	}
	c.hooks, _ = newHooks(cfg.Hooks) // validated by withDefaults
	c.state.Store(emptyState())
	return c
}

// Brokers returns the live brokers, sorted by id.
func (c *Cluster) Brokers() []*Broker { return slices.Clone(c.state.Load().sorted) }

// Broker returns the live broker with id, or nil.
func (c *Cluster) Broker(id int32) *Broker { return c.state.Load().brokers[id] }

// ClusterID returns the cluster's id ("" from brokers that predate it).
func (c *Cluster) ClusterID() string { return c.state.Load().clusterID }

// Controller returns the broker the metadata names as controller, or nil.
// Under KRaft the controllers are not brokers; brokers then name one of
// themselves, which forwards admin requests to the real controller.
func (c *Cluster) Controller() *Broker {
	s := c.state.Load()
	return s.brokers[s.controller]
}

// visible reports whether a topic may be handed to the user.
func (c *Cluster) visible(t *Topic) bool {
	return c.cfg.IncludeInternalTopics || !t.Internal()
}

// knownTopics returns the names of the topics in the model that exist.
func (c *Cluster) knownTopics() []string {
	s := c.state.Load()
	names := make([]string, 0, len(s.topics))
	for name := range s.topics {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// metadataRequest asks for the named topics; nil names means all topics.
func metadataRequest(names []string, autoCreate bool) *protocol.MetadataRequest {
	req := protocol.NewMetadataRequest()
	req.AllowAutoTopicCreation = autoCreate
	if names != nil {
		req.Topics = make([]protocol.MetadataRequestTopic, len(names))
		for i := range names {
			req.Topics[i].Name = &names[i]
		}
	}
	return req
}

// Update refreshes the broker list and the metadata of every topic the
// client knows: leaders that moved, brokers that joined or left (the
// connections to those that left are closed), partitions added, topics
// deleted. Concurrent calls share one refresh. It asks a broker the client
// is already connected to and falls back to the seeds only when no known
// broker answers.
func (c *Cluster) Update(ctx context.Context) error {
	return c.refresh(ctx, c.refreshCalls.Add(1))
}

func (c *Cluster) refresh(ctx context.Context, ticket uint64) error {
	if c.closed.Load() {
		return ErrClosed
	}
	if err := c.refreshLock.LockContext(ctx); err != nil {
		return err
	}
	defer c.refreshLock.Unlock()
	if c.refreshedUpTo.Load() >= ticket {
		return nil
	}
	start := c.refreshCalls.Load()
	names := c.knownTopics()
	if _, err := c.metadata(ctx, metadataRequest(names, false), false); err != nil {
		return err
	}
	c.refreshedUpTo.Store(start)
	return nil
}

// isStaleMetadata reports whether err means the client's view of leaders
// or brokers is out of date, so a refresh may cure it.
func isStaleMetadata(err error) bool {
	return isAny(err, staleMetadataErrors)
}

// staleMetadataErrors are the errors isStaleMetadata looks for.
var staleMetadataErrors = []error{
	protocol.ErrNotLeaderOrFollower,
	protocol.ErrUnknownTopicOrPartition,
	protocol.ErrLeaderNotAvailable,
	protocol.ErrFencedLeaderEpoch,
	protocol.ErrUnknownLeaderEpoch,
	protocol.ErrReplicaNotAvailable,
	protocol.ErrBrokerNotAvailable,
	protocol.ErrKafkaStorageError,
	protocol.ErrNotController,
	ErrNoLeader,
	conn.ErrDisconnected,
}

// refreshIfStale refreshes metadata when err says it is out of date (see
// isStaleMetadata) and reports whether it did. Producers and consumers call
// it on every error a broker or connection gives them.
func (c *Cluster) refreshIfStale(ctx context.Context, err error) (bool, error) {
	if !isStaleMetadata(err) {
		return false, nil
	}
	if rerr := c.Update(ctx); rerr != nil {
		return false, rerr
	}
	return true, nil
}

// candidates lists the live brokers to ask for cluster-wide information:
// those with a live general connection first, so refreshes reuse
// connections instead of dialing.
func (c *Cluster) candidates() []*Broker {
	all := c.state.Load().sorted
	out := make([]*Broker, 0, len(all))
	var idle []*Broker
	for _, b := range all {
		if b.Connected() {
			out = append(out, b)
		} else {
			idle = append(idle, b)
		}
	}
	return append(out, idle...)
}

// metadata fetches metadata from a known broker, or from a seed when none
// answers, and applies it to the model.
func (c *Cluster) metadata(ctx context.Context, req *protocol.MetadataRequest, all bool) (*protocol.MetadataResponse, error) {
	if c.closed.Load() {
		return nil, ErrClosed
	}
	var attempts []BrokerAttempt
	for _, b := range c.candidates() {
		md, err := b.Metadata(ctx, req)
		if err == nil {
			c.applyAndClose(md, all)
			return md, nil
		}
		if ctx.Err() != nil {
			return nil, err
		}
		c.log.Debug("kafka: metadata request failed", "broker", b.id, "addr", b.Addr(), "error", err)
		attempts = append(attempts, BrokerAttempt{Addr: b.Addr(), Err: err})
	}
	md, sc, err := c.metadataFromSeeds(ctx, req, attempts)
	if err != nil {
		return nil, err
	}
	c.applyAndClose(md, all)
	c.adoptSeed(sc)
	return md, nil
}

func (c *Cluster) applyAndClose(md *protocol.MetadataResponse, all bool) {
	for _, b := range c.apply(md, all).gone {
		b.closeConns()
	}
}

// adoptSeed keeps the connection to a seed as the general connection of the
// broker at that address, or closes it.
func (c *Cluster) adoptSeed(sc *conn.BrokerConnection) {
	for _, b := range c.Brokers() {
		if b.Addr() == sc.Address() && b.adopt(sc) {
			return
		}
	}
	sc.Close()
}

// metadataFromSeeds tries each seed in order, each connection bounded by
// Config.DialTimeout, skipping addresses already tried. It returns the
// first answer and the connection that gave it.
func (c *Cluster) metadataFromSeeds(ctx context.Context, req *protocol.MetadataRequest, attempts []BrokerAttempt) (*protocol.MetadataResponse, *conn.BrokerConnection, error) {
	seeds, err := c.seeds(ctx)
	if err != nil {
		attempts = append(attempts, BrokerAttempt{Addr: c.cfg.ZooKeeperHosts, Err: err})
	}
	tried := map[string]bool{}
	for _, a := range attempts {
		tried[a.Addr] = true
	}
	for _, addr := range seeds {
		if tried[addr] {
			continue
		}
		tried[addr] = true
		md, sc, err := c.metadataFromSeed(ctx, addr, req)
		if err == nil {
			return md, sc, nil
		}
		if ctx.Err() != nil {
			return nil, nil, err
		}
		c.log.Debug("kafka: seed broker failed", "addr", addr, "error", err)
		attempts = append(attempts, BrokerAttempt{Addr: addr, Err: err})
	}
	return nil, nil, &NoBrokersAvailableError{Attempts: attempts}
}

func (c *Cluster) metadataFromSeed(ctx context.Context, addr string, req *protocol.MetadataRequest) (*protocol.MetadataResponse, *conn.BrokerConnection, error) {
	cc := c.cfg.connConfig(c.log.With("seed", addr, "conn", purposeGeneral.String()))
	cc.Observer = c.hooks.observer(BrokerMeta{NodeID: -1, Addr: addr, Conn: purposeGeneral.String()})
	sc, err := conn.New(c.h, addr, cc)
	if err != nil {
		return nil, nil, err
	}
	dctx, cancel := handler.WithTimeout(ctx, c.h, c.cfg.DialTimeout)
	err = sc.Connect(dctx)
	cancel()
	if err != nil {
		sc.Close()
		return nil, nil, err
	}
	m, err := sc.RoundTrip(ctx, req)
	if err != nil {
		sc.Close()
		return nil, nil, err
	}
	md, ok := m.(*protocol.MetadataResponse)
	if !ok {
		sc.Close()
		return nil, nil, errors.New("kafka: unexpected metadata response type")
	}
	return md, sc, nil
}

// seeds returns the bootstrap addresses: from ZooKeeper when configured,
// else Config.Hosts.
func (c *Cluster) seeds(ctx context.Context) ([]string, error) {
	if c.cfg.ZooKeeperHosts == "" {
		return c.cfg.Hosts, nil
	}
	return zookeeper.Brokers(ctx, c.h, c.cfg.ZooKeeperHosts, c.cfg.DialTimeout, c.log)
}

// close shuts every broker connection; later calls fail with ErrClosed.
func (c *Cluster) close() {
	if c.closed.Swap(true) {
		return
	}
	c.mu.Lock()
	brokers := make([]*Broker, 0, len(c.allBrokers))
	for _, b := range c.allBrokers {
		brokers = append(brokers, b)
	}
	c.mu.Unlock()
	for _, b := range brokers {
		b.shutdown()
	}
}
