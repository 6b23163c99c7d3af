package kafka

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/internal/testcluster"
)

// TestThreeBrokers runs the tests that need several brokers, or stop one,
// on a three-broker cluster of each mode. Each cluster is started once and
// its subtests run in order, the destructive one last.
func TestThreeBrokers(t *testing.T) {
	for _, kind := range []testcluster.Config{testcluster.KRaftTriple, testcluster.ZooKeeperTriple} {
		t.Run(kind.Name(), func(t *testing.T) {
			c := testcluster.ForTest(t, kind)
			if kind.Mode == testcluster.ZooKeeper {
				t.Run("ZooKeeperBootstrap", func(t *testing.T) { testZooKeeperBootstrap(t, c) })
				t.Run("NotController", func(t *testing.T) { testNotController(t, c) })
			}
			t.Run("RefreshReusesConnections", func(t *testing.T) { testRefreshReusesConnections(t, c) })
			t.Run("LeaderMove", func(t *testing.T) { testLeaderMove(t, c) })
		})
	}
}

func testZooKeeperBootstrap(t *testing.T, c *testcluster.Cluster) {
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		ctx := testCtx(t)
		byHosts := newTestClient(t, ctx, h, Config{Hosts: c.Bootstrap()})
		// ZooKeeper takes precedence: the dead host is never tried.
		byZK := newTestClient(t, ctx, h, Config{Hosts: []string{deadAddr(t)}, ZooKeeperHosts: c.ZooKeeperConnect()})

		type broker struct {
			id   int32
			addr string
		}
		list := func(cl *Client) []broker {
			var out []broker
			for _, b := range cl.Brokers() {
				out = append(out, broker{b.ID(), b.Addr()})
			}
			return out
		}
		require.Len(t, list(byHosts), 3)
		assert.Equal(t, list(byHosts), list(byZK))
		assert.Equal(t, byHosts.Cluster().ClusterID(), byZK.Cluster().ClusterID())

		_, err := NewClient(ctx, Config{ZooKeeperHosts: c.ZooKeeperConnect() + "/no-such-chroot", Handler: h, Logger: testLogger()})
		require.ErrorIs(t, err, ErrNoBrokersAvailable)
		assert.Contains(t, err.Error(), "/no-such-chroot/brokers/ids")
	})
}

// recorder keeps the messages logged to it.
type recorder struct {
	mu   sync.Mutex
	msgs []string
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	r.msgs = append(r.msgs, rec.Message)
	r.mu.Unlock()
	return nil
}
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *recorder) WithGroup(string) slog.Handler      { return r }

func (r *recorder) saw(substr string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range r.msgs {
		if strings.Contains(m, substr) {
			return true
		}
	}
	return false
}

// setController makes the model name broker id as controller, as stale
// metadata would after the controller moved.
func setController(c *Cluster, id int32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := *c.state.Load()
	s.controller = id
	c.state.Store(&s)
}

// A ZooKeeper-mode broker that is not the controller refuses admin
// requests with NOT_CONTROLLER; the client must find the controller again.
func testNotController(t *testing.T, c *testcluster.Cluster) {
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		ctx := testCtx(t)
		rec := &recorder{}
		cl := newTestClient(t, ctx, h, Config{Hosts: c.Bootstrap(), Logger: slog.New(rec)})
		real := cl.Cluster().Controller()
		require.NotNil(t, real)
		var wrong int32 = -1
		for _, b := range cl.Brokers() {
			if b != real {
				wrong = b.ID()
			}
		}

		name := uniqueTopic(t, "not-controller")
		setController(cl.Cluster(), wrong)
		require.NoError(t, cl.Cluster().CreateTopics(ctx, TopicSpec{Name: name, Partitions: 2, ReplicationFactor: 3}))
		assert.True(t, rec.saw("not the controller"), "the request first reached the wrong broker")
		assert.Same(t, real, cl.Cluster().Controller(), "refreshed")
		topic, err := cl.Topic(ctx, name)
		require.NoError(t, err)
		for _, p := range topic.Partitions() {
			assert.Len(t, p.Replicas(), 3)
			assert.NotNil(t, p.Leader())
		}

		setController(cl.Cluster(), wrong)
		require.NoError(t, cl.Cluster().DeleteTopics(ctx, name))
		assert.False(t, topic.Exists())
	})
}

// Refreshes ask the broker the client is connected to rather than dialing
// the others (pykafka dialed afresh on every refresh).
func testRefreshReusesConnections(t *testing.T, c *testcluster.Cluster) {
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		ctx := testCtx(t)
		cl := newTestClient(t, ctx, h, Config{Hosts: c.Bootstrap()})
		connected := func() (n int) {
			for _, b := range cl.Brokers() {
				if b.Connected() {
					n++
				}
			}
			return n
		}
		require.Len(t, cl.Brokers(), 3)
		require.Equal(t, 1, connected(), "bootstrap keeps its seed connection")
		for range 3 {
			require.NoError(t, cl.Update(ctx))
			_, err := cl.Topics(ctx)
			require.NoError(t, err)
		}
		assert.Equal(t, 1, connected(), "no other broker was dialed")
	})
}

// Stopping a partition's leader moves leadership; after Update, the client
// sees the new leader through the same *Topic and *Partition, the stopped
// broker is gone and its connections are closed.
func testLeaderMove(t *testing.T, c *testcluster.Cluster) {
	ctx := testCtx(t)
	name := uniqueTopic(t, "leader-move")
	require.NoError(t, c.CreateTopic(ctx, testcluster.TopicSpec{Name: name, Partitions: 1, ReplicationFactor: 3}))

	type view struct {
		h      handler.Handler
		cl     *Client
		topic  *Topic
		p      *Partition
		leader *Broker
	}
	var views []*view
	for _, hn := range []string{"goroutine", "eventloop"} {
		h := newHandler(t, hn)
		cl := newTestClient(t, ctx, h, Config{Hosts: c.Bootstrap()})
		topic, err := cl.Topic(ctx, name)
		require.NoError(t, err)
		p := topic.Partition(0)
		require.NotNil(t, p.Leader())
		views = append(views, &view{h: h, cl: cl, topic: topic, p: p, leader: p.Leader()})
	}
	old := views[0].leader.ID()
	require.Equal(t, old, views[1].leader.ID())
	// A record every replica has, and a connection to the old leader.
	produceRecords(t, ctx, views[0].p, -1, 1)
	for _, v := range views {
		off, err := v.p.LatestOffset(ctx)
		require.NoError(t, err)
		require.Equal(t, int64(1), off)
		require.True(t, v.leader.Connected())
	}

	require.NoError(t, c.StopBroker(old))

	for i, v := range views {
		t.Logf("client %d", i)
		eventually(t, ctx, v.h, "the leader to move", func() bool {
			require.NoError(t, v.cl.Update(ctx))
			return v.p.LeaderID() != old && v.p.Leader() != nil && v.cl.Cluster().Broker(old) == nil
		})
		assert.Same(t, v.p, v.topic.Partition(0), "same *Partition")
		assert.Len(t, v.cl.Brokers(), 2)
		assert.NotContains(t, v.cl.Brokers(), v.leader)
		assert.False(t, v.leader.Connected(), "connections to the stopped broker are closed")
		off, err := v.p.LatestOffset(ctx)
		require.NoError(t, err, "offsets come from the new leader")
		assert.Equal(t, int64(1), off)
	}

	// The broker comes back: the same *Broker returns and dials again.
	require.NoError(t, c.RestartBroker(ctx, old))
	for _, v := range views {
		eventually(t, ctx, v.h, "the broker to return", func() bool {
			require.NoError(t, v.cl.Update(ctx))
			return v.cl.Cluster().Broker(old) != nil
		})
		assert.Same(t, v.leader, v.cl.Cluster().Broker(old), "same *Broker")
		assert.Len(t, v.cl.Brokers(), 3)
		_, err := v.leader.Metadata(ctx, metadataRequest([]string{}, false))
		require.NoError(t, err)
		assert.True(t, v.leader.Connected())
	}
}
