package kafka

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/internal/testcluster"
)

// TestZooKeeperConsumerChrootAndExternalSession runs one member on a
// session the test owns and one on its own session, both under a chroot
// (given with the session, and as a connect string suffix). The group's
// nodes are pykafka's, under the chroot; stopping the member with the
// external session deletes its nodes and leaves the session open.
func TestZooKeeperConsumerChrootAndExternalSession(t *testing.T) {
	tc := testcluster.Shared(t, testcluster.ZooKeeperSingle)
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		env := newGroupEnv(t, zkGroup, tc, h, 4, 1)
		chroot := "/gregor-" + env.topic.Name()
		session := dialZooKeeper(t, tc.ZooKeeperConnect())
		ext := env.consumer(t, BalancedConsumerConfig{ZooKeeper: session, ZooKeeperChroot: chroot})
		own := env.consumer(t, BalancedConsumerConfig{ZooKeeperConnect: tc.ZooKeeperConnect() + chroot})
		owners := env.waitSplit(t, ext, own)

		base := chroot + "/consumers/" + env.group
		ids, _, err := session.Children(base + "/ids")
		require.NoError(t, err)
		assert.ElementsMatch(t, []string{ext.MemberID(), own.MemberID()}, ids)
		data, _, err := session.Get(base + "/ids/" + ext.MemberID())
		require.NoError(t, err)
		assert.Equal(t, env.topic.Name(), string(data), "pykafka's registration data: the topic")
		nodes, _, err := session.Children(base + "/owners/" + env.topic.Name())
		require.NoError(t, err)
		require.Len(t, nodes, 4)
		for _, name := range nodes {
			p, ok := parseOwnerSlug(name)
			require.True(t, ok, name)
			assert.Equal(t, ownerSlug(env.topic.Partition(p).LeaderID(), p), name)
			data, _, err := session.Get(base + "/owners/" + env.topic.Name() + "/" + name)
			require.NoError(t, err)
			assert.Equal(t, owners[p].MemberID(), string(data))
		}
		exists, _, err := session.Exists("/consumers/" + env.group)
		require.NoError(t, err)
		assert.False(t, exists, "nothing outside the chroot")

		stopConsumer(t, env.ctx, ext)
		env.waitSplit(t, own)
		ids, _, err = session.Children(base + "/ids")
		require.NoError(t, err)
		assert.Equal(t, []string{own.MemberID()}, ids)
		nodes, _, err = session.Children(base + "/owners/" + env.topic.Name())
		require.NoError(t, err)
		assert.Len(t, nodes, 4)
		for _, name := range nodes {
			data, _, err := session.Get(base + "/owners/" + env.topic.Name() + "/" + name)
			require.NoError(t, err)
			assert.Equal(t, own.MemberID(), string(data))
		}

		// Its own session closed on Stop, which drops its nodes at once.
		stopConsumer(t, env.ctx, own)
		ids, _, err = session.Children(base + "/ids")
		require.NoError(t, err)
		assert.Empty(t, ids)
	})
}
