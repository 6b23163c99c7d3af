package kafka

import (
	"slices"
	"testing"

	"github.com/go-zookeeper/zk"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/internal/assign"
	"github.com/gregorkafka/gregor/internal/testcluster"
	"github.com/gregorkafka/gregor/internal/zookeeper"
)

// TestZooKeeperConsumerChroot runs two members under a chroot given as a
// connect string suffix. The group's nodes are pykafka's, under the
// chroot; stopping a member closes its session, which drops its nodes at
// once, and the other takes its partitions.
func TestZooKeeperConsumerChroot(t *testing.T) {
	tc := testcluster.Shared(t, testcluster.ZooKeeperSingle)
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		env := newGroupEnv(t, zkGroup, tc, h, 4, 1)
		chroot := "/gregor-" + env.topic.Name()
		session := dialZooKeeper(t, tc.ZooKeeperConnect())
		cfg := BalancedConsumerConfig{ZooKeeperConnect: tc.ZooKeeperConnect() + chroot}
		one := env.consumer(t, cfg)
		two := env.consumer(t, cfg)
		owners := env.waitSplit(t, one, two)

		base := chroot + "/consumers/" + env.group
		ids, _, err := session.Children(base + "/ids")
		require.NoError(t, err)
		assert.ElementsMatch(t, []string{one.MemberID(), two.MemberID()}, ids)
		data, _, err := session.Get(base + "/ids/" + one.MemberID())
		require.NoError(t, err)
		assert.Equal(t, env.topic.Name(), string(data), "pykafka's registration data: the topic")
		nodes, _, err := session.Children(base + "/owners/" + env.topic.Name())
		require.NoError(t, err)
		require.Len(t, nodes, 4)
		for _, name := range nodes {
			p, ok := zookeeper.ParseOwnerSlug(name)
			require.True(t, ok, name)
			assert.Equal(t, zookeeper.OwnerSlug(env.topic.Partition(p).LeaderID(), p), name)
			data, _, err := session.Get(base + "/owners/" + env.topic.Name() + "/" + name)
			require.NoError(t, err)
			assert.Equal(t, owners[p].MemberID(), string(data))
		}
		exists, _, err := session.Exists("/consumers/" + env.group)
		require.NoError(t, err)
		assert.False(t, exists, "nothing outside the chroot")

		stopConsumer(t, env.ctx, one)
		env.waitSplit(t, two)
		ids, _, err = session.Children(base + "/ids")
		require.NoError(t, err)
		assert.Equal(t, []string{two.MemberID()}, ids)
		nodes, _, err = session.Children(base + "/owners/" + env.topic.Name())
		require.NoError(t, err)
		assert.Len(t, nodes, 4)
		for _, name := range nodes {
			data, _, err := session.Get(base + "/owners/" + env.topic.Name() + "/" + name)
			require.NoError(t, err)
			assert.Equal(t, two.MemberID(), string(data))
		}

		stopConsumer(t, env.ctx, two)
		ids, _, err = session.Children(base + "/ids")
		require.NoError(t, err)
		assert.Empty(t, ids)
	})
}

// TestZooKeeperOwnersUnderPythonBytesName shares a group with a member
// that claims as pykafka 2.8 on Python 3 does, under owners/b'<topic>'/:
// gregor waits for a partition held there, and mirrors its own claims there,
// so the pykafka member's claim of them fails as it would on its own path.
func TestZooKeeperOwnersUnderPythonBytesName(t *testing.T) {
	tc := testcluster.Shared(t, testcluster.ZooKeeperSingle)
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		env := newGroupEnv(t, zkGroup, tc, h, 4, 1)
		session := dialZooKeeper(t, tc.ZooKeeperConnect())
		base := "/consumers/" + env.group
		pyOwners := base + "/owners/b'" + env.topic.Name() + "'"
		py := "python3-host:00000000-0000-4000-8000-000000000000"
		require.NoError(t, zookeeper.EnsurePath(session, base+"/ids"))
		require.NoError(t, zookeeper.EnsurePath(session, pyOwners))
		_, err := session.Create(base+"/ids/"+py, []byte(env.topic.Name()), zk.FlagEphemeral, zookeeper.ACL)
		require.NoError(t, err)
		slug := func(p int32) string { return zookeeper.OwnerSlug(env.topic.Partition(p).LeaderID(), p) }
		// Alone so far, the pykafka member holds everything.
		for p := range int32(4) {
			_, err := session.Create(pyOwners+"/"+slug(p), []byte(py), zk.FlagEphemeral, zookeeper.ACL)
			require.NoError(t, err)
		}

		g := env.consumer(t, BalancedConsumerConfig{})
		var slots []assign.Slot
		for _, p := range env.topic.Partitions() {
			slots = append(slots, assign.NewSlot(env.topic.Name(), p.LeaderID(), p.ID()))
		}
		mine := assign.DecidePartitions(false, []string{g.MemberID(), py}, slots, g.MemberID())
		require.Len(t, mine, 2)
		// The pykafka member lets go of gregor's share but one partition.
		held := mine[0]
		require.NoError(t, session.Delete(pyOwners+"/"+slug(mine[1]), -1))
		eventually(t, env.ctx, h, "gregor owning the released partition", func() bool {
			return slices.Equal(g.Partitions(), []int32{mine[1]})
		})
		assert.NotContains(t, g.Partitions(), held, "held under owners/b'topic' by another member")
		for _, dir := range []string{base + "/owners/" + env.topic.Name(), pyOwners} {
			data, _, err := session.Get(dir + "/" + slug(mine[1]))
			require.NoError(t, err, dir)
			assert.Equal(t, g.MemberID(), string(data), dir)
		}
		// pykafka's own claim of it now fails, as on its own path.
		_, err = session.Create(pyOwners+"/"+slug(mine[1]), []byte(py), zk.FlagEphemeral, zookeeper.ACL)
		require.ErrorIs(t, err, zk.ErrNodeExists)

		require.NoError(t, session.Delete(pyOwners+"/"+slug(held), -1))
		eventually(t, env.ctx, h, "gregor owning its whole share", func() bool {
			return slices.Equal(g.Partitions(), mine)
		})
		stopConsumer(t, env.ctx, g)
		for _, dir := range []string{base + "/owners/" + env.topic.Name(), pyOwners} {
			exists, _, err := session.Exists(dir + "/" + slug(held))
			require.NoError(t, err)
			assert.False(t, exists, "released under %s", dir)
		}
	})
}
