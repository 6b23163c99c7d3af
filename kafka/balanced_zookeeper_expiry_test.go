package kafka

import (
	"encoding/binary"
	"io"
	"net"
	"reflect"
	"slices"
	"testing"
	"time"
	"unsafe"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/internal/testcluster"
	"github.com/gregorkafka/gregor/internal/zookeeper"
)

// expireSession ends conn's ZooKeeper session from outside, as the server
// does when a client stays away longer than its session timeout: it
// attaches to the session from a second connection, with the session's id
// and password (which makes the server drop conn's connection), and closes
// it. When conn reconnects, the server tells it the session expired.
func expireSession(t *testing.T, addr string, conn *zk.Conn) {
	t.Helper()
	field := reflect.ValueOf(conn).Elem().FieldByName("passwd")
	passwd := slices.Clone(reflect.NewAt(field.Type(), unsafe.Pointer(field.UnsafeAddr())).Elem().Bytes())

	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.SetDeadline(time.Now().Add(10*time.Second)))

	// ConnectRequest: protocol version, last zxid seen, timeout, session
	// id, password; then closeSession (op -11) with xid 1, in one write so
	// that the session is gone before conn can attach to it again.
	connect := binary.BigEndian.AppendUint32(nil, 0)
	connect = binary.BigEndian.AppendUint64(connect, 0)
	connect = binary.BigEndian.AppendUint32(connect, 4000)
	connect = binary.BigEndian.AppendUint64(connect, uint64(conn.SessionID()))
	connect = binary.BigEndian.AppendUint32(connect, uint32(len(passwd)))
	connect = append(connect, passwd...)
	closeReq := binary.BigEndian.AppendUint32(nil, 1)
	closeReq = binary.BigEndian.AppendUint32(closeReq, uint32(0xFFFFFFF5)) // -11
	var frame []byte
	for _, body := range [][]byte{connect, closeReq} {
		frame = binary.BigEndian.AppendUint32(frame, uint32(len(body)))
		frame = append(frame, body...)
	}
	_, err = c.Write(frame)
	require.NoError(t, err)
	// Wait for the server to answer both (or hang up), so the close is done.
	_, _ = io.ReadAll(io.LimitReader(c, 1<<16))
}

// TestBalancedConsumerZooKeeperSessionExpiry expires a member's ZooKeeper
// session. ZooKeeper drops its registration and claims, and every watch it
// had; the member notices, registers and claims again in a new session and
// sets its watches again (pykafka left its partitions unowned here).
func TestBalancedConsumerZooKeeperSessionExpiry(t *testing.T) {
	tc := testcluster.Shared(t, testcluster.ZooKeeperSingle)
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		env := newGroupEnv(t, zkGroup, tc, h, 10, 1)
		a := env.consumer(t, BalancedConsumerConfig{})
		b := env.consumer(t, BalancedConsumerConfig{})
		env.waitSplit(t, a, b)
		za := a.member.(*zkMembership).m
		before := za.Session().SessionID()

		for za.Session().SessionID() == before {
			expireSession(t, tc.ZooKeeperConnect(), za.Session())
			eventually(t, env.ctx, h, "a new session", func() bool { return za.Session().SessionID() != before })
		}

		// Back to a complete split, with every claim visible in ZooKeeper.
		owners := env.waitSplit(t, a, b)
		zc := dialZooKeeper(t, tc.ZooKeeperConnect())
		eventually(t, env.ctx, h, "ten owner nodes", func() bool {
			names, _, err := zc.Children(za.Paths().Owners)
			return err == nil && len(names) == 10
		})
		names, _, err := zc.Children(za.Paths().Owners)
		require.NoError(t, err)
		for _, name := range names {
			p, ok := zookeeper.ParseOwnerSlug(name)
			require.True(t, ok, name)
			data, _, err := zc.Get(za.Paths().Owners + "/" + name)
			require.NoError(t, err)
			assert.Equal(t, owners[p].MemberID(), string(data), "owner of partition %d", p)
		}

		// The new session's watches work: a third member is noticed.
		c := env.consumer(t, BalancedConsumerConfig{})
		env.waitSplit(t, a, b, c)

		col := newCollector(t)
		for _, x := range []*BalancedConsumer{a, b, c} {
			col.run(env.ctx, x)
		}
		round := env.produceRound(t, "after-expiry", 3)
		col.waitAll(t, env, round)
	})
}
