package testcluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/protocol"
)

func TestMain(m *testing.M) { Main(m) }

// TestSelfCheck proves each cluster kind is a real, serving Kafka: it asks every broker for its API versions and
// metadata over raw TCP and checks the brokers' ids and ports, then creates and deletes a topic.
func TestSelfCheck(t *testing.T) {
	for _, kind := range Kinds() {
		t.Run(kind.Name(), func(t *testing.T) {
			c := Shared(t, kind)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()

			var want []string
			for _, b := range c.Brokers() {
				want = append(want, fmt.Sprintf("%d@127.0.0.1:%d", b.ID, b.Port))
				vs, err := c.APIVersions(ctx, b.ID)
				require.NoError(t, err)
				for _, k := range []int16{protocol.APIKeyProduce, protocol.APIKeyFetch, protocol.APIKeyMetadata,
					protocol.APIKeyCreateTopics, protocol.APIKeyFindCoordinator, protocol.APIKeyJoinGroup} {
					_, err := vs.Pick(k)
					require.NoError(t, err, "broker %d: %s", b.ID, protocol.APIName(k))
				}
				v, _ := vs.Version(protocol.APIKeyMetadata)
				require.GreaterOrEqual(t, v, int16(12), "negotiated Metadata version")
			}
			require.Len(t, want, kind.Brokers)

			for _, b := range c.Brokers() {
				md, err := metadataFrom(ctx, b.Addr(), nil)
				require.NoError(t, err)
				var got []string
				for _, mb := range md.Brokers {
					got = append(got, fmt.Sprintf("%d@%s:%d", mb.NodeID, mb.Host, mb.Port))
				}
				sort.Strings(got)
				require.Equal(t, want, got, "brokers seen by broker %d", b.ID)
				require.GreaterOrEqual(t, md.ControllerID, int32(1))
				require.NotNil(t, md.ClusterID)
				require.NotEmpty(t, *md.ClusterID)
			}
			if kind.Mode == ZooKeeper {
				require.NotEmpty(t, c.ZooKeeperConnect())
				require.NoError(t, ruok(ctx, c.ZooKeeperConnect()))
			}

			topic := "selfcheck-" + kind.Name()
			rf := int16(kind.Brokers)
			require.NoError(t, c.CreateTopic(ctx, TopicSpec{Name: topic, Partitions: 4, ReplicationFactor: rf}))
			md, err := c.Metadata(ctx, []string{topic})
			require.NoError(t, err)
			require.Len(t, md.Topics, 1)
			require.Len(t, md.Topics[0].Partitions, 4)
			for _, p := range md.Topics[0].Partitions {
				require.Len(t, p.ReplicaNodes, int(rf))
			}
			err = c.CreateTopic(ctx, TopicSpec{Name: topic, Partitions: 1})
			require.ErrorIs(t, err, protocol.ErrTopicAlreadyExists, "creating an existing topic must fail")
			require.NoError(t, c.DeleteTopic(ctx, topic))
		})
	}
}

// TestBrokerLifecycle stops, kills and restarts brokers of a three-broker cluster and checks the survivors see it.
func TestBrokerLifecycle(t *testing.T) {
	c := ForTest(t, KRaftTriple.QuickFailover())
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	props, err := os.ReadFile(filepath.Join(c.Dir(), "broker-1", "server.properties"))
	require.NoError(t, err)
	require.Contains(t, string(props), "broker.session.timeout.ms=3000", "QuickFailover reaches the brokers")

	pid := c.Broker(2).Pid()
	require.NotZero(t, pid)
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	require.NoError(t, err)
	require.Contains(t, string(cmdline), "-Dgregor.testcluster=", "Pid is the broker's JVM")
	require.NoError(t, c.KillBroker(2))
	require.False(t, c.Broker(2).Running())
	require.Zero(t, c.Broker(2).Pid())
	require.Len(t, c.Bootstrap(), 2)
	_, err = c.APIVersions(ctx, 2)
	require.Error(t, err, "a killed broker must not answer")

	require.NoError(t, c.StopBroker(3))
	require.False(t, c.Broker(3).Running())

	require.NoError(t, c.RestartBroker(ctx, 2))
	require.NoError(t, c.RestartBroker(ctx, 3))
	require.NotZero(t, c.Broker(2).Pid())
	require.NotEqual(t, pid, c.Broker(2).Pid(), "a restarted broker is a new JVM")
	md, err := c.Metadata(ctx, nil)
	require.NoError(t, err)
	require.Len(t, md.Brokers, 3)
	require.Error(t, c.RestartBroker(ctx, 1), "restarting a running broker is refused")

	dir := c.Dir()
	require.NoError(t, c.Close())
	require.NoDirExists(t, dir)
	for _, b := range c.Brokers() {
		require.False(t, b.Running())
	}
}

func TestMissingJava(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := Start(context.Background(), KRaftSingle)
	require.ErrorIs(t, err, ErrMissingTool)
	require.Contains(t, err.Error(), `"java"`)
}
