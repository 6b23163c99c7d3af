package kafka

import (
	"context"
	"sync"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/handler/goroutine"
)

// Client is a connection to a Kafka cluster: the entry point of gregor, as
// KafkaClient is pykafka's. It is safe for concurrent use. Close it when
// done. Its Topic, Topics, Brokers and Update are pykafka's KafkaClient
// shortcuts (client.topics, client.brokers, update_cluster) to the same
// calls on Cluster, which has the rest.
type Client struct {
	cluster     *Cluster
	h           handler.Handler
	ownsHandler bool
	stopTasks   context.CancelFunc // ends the client's own tasks (telemetry)

	closeOnce sync.Once
}

// NewClient validates cfg, applies its defaults and bootstraps: it tries
// each seed in order (Config.Hosts, or the brokers registered in
// ZooKeeper when Config.ZooKeeperHosts is set), each bounded by
// Config.DialTimeout, until one answers a Metadata request, and learns the
// cluster's brokers from it. Topics are looked up lazily, by Topic.
//
// An invalid cfg gives a *ConfigError. When no seed answers, the error is a
// *NoBrokersAvailableError listing each seed's failure
// (errors.Is(err, ErrNoBrokersAvailable) holds).
func NewClient(ctx context.Context, cfg Config) (*Client, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	cl := &Client{h: cfg.Handler}
	if cl.h == nil {
		cl.h = goroutine.New()
		cl.ownsHandler = true
	}
	cl.cluster = newCluster(cfg, cl.h)
	if err := cl.cluster.Update(ctx); err != nil {
		cl.Close()
		return nil, err
	}
	tasks, stop := context.WithCancel(context.Background())
	cl.stopTasks = stop
	cl.cluster.startTelemetry(tasks)
	cfg.Logger.Debug("kafka: client ready", "cluster", cl.cluster.ClusterID(), "brokers", len(cl.cluster.Brokers()))
	return cl, nil
}

// Cluster returns the client's model of the cluster.
func (c *Client) Cluster() *Cluster { return c.cluster }

// Topic returns the topic called name; see Cluster.Topic.
func (c *Client) Topic(ctx context.Context, name string) (*Topic, error) {
	return c.cluster.Topic(ctx, name)
}

// Topics lists the names of the cluster's topics; see Cluster.TopicNames.
func (c *Client) Topics(ctx context.Context) ([]string, error) {
	return c.cluster.TopicNames(ctx)
}

// Brokers returns the live brokers, sorted by id.
func (c *Client) Brokers() []*Broker { return c.cluster.Brokers() }

// Update refreshes the cluster's metadata; see Cluster.Update.
func (c *Client) Update(ctx context.Context) error { return c.cluster.Update(ctx) }

// Close closes every broker connection (requests in flight fail at once)
// and, when the client created its handler, the handler. Later calls on the
// client, and on the Cluster, Topic, Partition and Broker values it handed
// out, fail with ErrClosed. Close is idempotent and returns nil.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		if c.stopTasks != nil {
			c.stopTasks()
		}
		c.cluster.close()
		if c.ownsHandler {
			_ = c.h.Close()
		}
	})
	return nil
}
