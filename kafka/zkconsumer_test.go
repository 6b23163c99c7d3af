package kafka

import (
	"slices"
	"testing"

	"github.com/go-zookeeper/zk"

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
		require.NoError(t, ensurePath(session, base+"/ids"))
		require.NoError(t, ensurePath(session, pyOwners))
		_, err := session.Create(base+"/ids/"+py, []byte(env.topic.Name()), zk.FlagEphemeral, zkACL)
		require.NoError(t, err)
		slug := func(p int32) string { return ownerSlug(env.topic.Partition(p).LeaderID(), p) }
		// Alone so far, the pykafka member holds everything.
		for p := range int32(4) {
			_, err := session.Create(pyOwners+"/"+slug(p), []byte(py), zk.FlagEphemeral, zkACL)
			require.NoError(t, err)
		}

		g := env.consumer(t, BalancedConsumerConfig{})
		var slots []zkSlot
		for _, p := range env.topic.Partitions() {
			slots = append(slots, newZKSlot(env.topic.Name(), p.LeaderID(), p.ID()))
		}
		mine := decidePartitions(RangeAssignment, []string{g.MemberID(), py}, slots, g.MemberID())
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
		_, err = session.Create(pyOwners+"/"+slug(mine[1]), []byte(py), zk.FlagEphemeral, zkACL)
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
