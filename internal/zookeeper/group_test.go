package zookeeper

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/internal/assign"
	"github.com/gregorkafka/gregor/internal/testcluster"
)

// fakeConsumer records what a Member hands it.
type fakeConsumer struct {
	h     handler.Handler
	parts []Partition

	mu       sync.Mutex
	owned    []int32
	assigned handler.Event
}

func (f *fakeConsumer) Partitions() []Partition              { return f.parts }
func (f *fakeConsumer) UpdateMetadata(context.Context) error { return nil }
func (f *fakeConsumer) Revoke(context.Context) error         { return nil }
func (f *fakeConsumer) Ready()                               {}
func (f *fakeConsumer) Closed(error) bool                    { return false }
func (f *fakeConsumer) Fail(error)                           {}
func (f *fakeConsumer) Go(name string, fn func())            { f.h.Go(name, fn) }
func (f *fakeConsumer) SessionEvent(State, string)           {}
func (f *fakeConsumer) Assign(_ context.Context, owned []int32, _ map[int32]bool) {
	f.mu.Lock()
	f.owned = slices.Clone(owned)
	f.mu.Unlock()
	f.assigned.Set()
}

func (f *fakeConsumer) ownedNow() []int32 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.owned)
}

// Two members of a group over a real ZooKeeper split the partitions as
// pykafka's decide_partitions does, each claiming its share under its id;
// closing one drops its nodes, and the other takes everything.
func TestMembersSplitAndHandOver(t *testing.T) {
	tc := testcluster.Shared(t, testcluster.ZooKeeperSingle)
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		ctx, cancel := context.WithCancel(testCtx(t))
		defer cancel()
		group := "zkgroup-" + strconv.FormatInt(time.Now().UnixNano(), 36)
		parts := []Partition{{0, 1}, {1, 1}, {2, 1}, {3, 1}, {4, 1}}
		newMember := func() (*Member, *fakeConsumer) {
			fc := &fakeConsumer{h: h, parts: parts, assigned: h.NewEvent()}
			m := NewMember(Config{Handler: h, Log: testLogger(), Connect: tc.ZooKeeperConnect(), Timeout: 10 * time.Second,
				Group: group, Topic: "orders", RebalanceMaxRetries: 50, RebalanceBackoff: 50 * time.Millisecond}, fc)
			require.NoError(t, m.Open(ctx))
			h.Go("test-member", func() { m.Run(ctx) })
			return m, fc
		}
		a, fa := newMember()
		b, fb := newMember()
		var slots []assign.Slot
		for _, p := range parts {
			slots = append(slots, assign.NewSlot("orders", p.Leader, p.ID))
		}
		ids := []string{a.ID(), b.ID()}
		wantA := assign.DecidePartitions(false, ids, slots, a.ID())
		wantB := assign.DecidePartitions(false, ids, slots, b.ID())
		split := func() bool { return slices.Equal(fa.ownedNow(), wantA) && slices.Equal(fb.ownedNow(), wantB) }
		for !split() {
			fa.assigned.Clear()
			fb.assigned.Clear()
			if split() {
				break
			}
			wctx, wcancel := context.WithTimeout(ctx, time.Second)
			_ = fa.assigned.Wait(wctx)
			wcancel()
			require.NoError(t, ctx.Err(), "no split: a %v, b %v", fa.ownedNow(), fb.ownedNow())
		}

		nodes, _, err := a.Session().Children(a.Paths().Owners)
		require.NoError(t, err)
		assert.Len(t, nodes, len(parts))
		for _, name := range nodes {
			p, ok := ParseOwnerSlug(name)
			require.True(t, ok, name)
			data, _, err := a.Session().Get(a.Paths().Owners + "/" + name)
			require.NoError(t, err)
			want := b.ID()
			if slices.Contains(wantA, p) {
				want = a.ID()
			}
			assert.Equal(t, want, string(data), "owner of %d", p)
		}

		require.NoError(t, b.Close(ctx))
		for !slices.Equal(fa.ownedNow(), []int32{0, 1, 2, 3, 4}) {
			fa.assigned.Clear()
			wctx, wcancel := context.WithTimeout(ctx, time.Second)
			_ = fa.assigned.Wait(wctx)
			wcancel()
			require.NoError(t, ctx.Err(), "no handover: a %v", fa.ownedNow())
		}
		ids2, _, err := a.Session().Children(a.Paths().IDs)
		require.NoError(t, err)
		assert.Equal(t, []string{a.ID()}, ids2)
		cancel()
		require.NoError(t, a.Close(context.Background()))

		// Closing the session dropped the member's ephemeral nodes.
		zc, err := ParseConnect(tc.ZooKeeperConnect())
		require.NoError(t, err)
		other, _, err := zk.Connect(zc.Servers, 10*time.Second, zk.WithLogger(Logger{testLogger()}), zk.WithDialer(Dialer(h)))
		require.NoError(t, err)
		defer other.Close()
		left, _, err := other.Children(a.Paths().IDs)
		require.NoError(t, err)
		assert.Empty(t, left)
	})
}
