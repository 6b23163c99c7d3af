package kafka

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/internal/testcluster"
	"github.com/gregorkafka/gregor/protocol"
)

// recordedFetch is a Fetch request as it went to the broker.
type recordedFetch struct {
	sessionID, epoch int32
	parts            []int32 // sorted
	forgotten        int
	rewritten        bool
}

// fetchRecorder forwards connections to the brokers they were meant for,
// recording every Fetch request on the way. Armed with a rewrite, it
// changes the next incremental Fetch before the broker sees it, so the
// broker itself answers with a session error.
type fetchRecorder struct {
	mu      sync.Mutex
	fetches []recordedFetch
	rewrite func(req *protocol.FetchRequest)
	*proxyListeners
}

func newFetchRecorder(t *testing.T) *fetchRecorder {
	r := &fetchRecorder{}
	r.proxyListeners = newProxyListeners(t, r.serve)
	return r
}

// since returns the requests recorded from the i-th on.
func (r *fetchRecorder) since(i int) []recordedFetch {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.fetches[min(i, len(r.fetches)):])
}

func (r *fetchRecorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.fetches)
}

func (r *fetchRecorder) arm(rewrite func(req *protocol.FetchRequest)) {
	r.mu.Lock()
	r.rewrite = rewrite
	r.mu.Unlock()
}

func (r *fetchRecorder) serve(client net.Conn, target string) {
	broker, err := net.Dial("tcp", target)
	if err != nil {
		client.Close()
		return
	}
	defer broker.Close()
	defer client.Close()
	go func() {
		defer broker.Close()
		defer client.Close()
		_, _ = io.Copy(client, broker)
	}()
	var size [4]byte
	for {
		if _, err := io.ReadFull(client, size[:]); err != nil {
			return
		}
		frame := make([]byte, binary.BigEndian.Uint32(size[:]))
		if _, err := io.ReadFull(client, frame); err != nil {
			return
		}
		frame = r.request(frame)
		binary.BigEndian.PutUint32(size[:], uint32(len(frame)))
		if _, err := broker.Write(append(size[:], frame...)); err != nil {
			return
		}
	}
}

// request records a Fetch frame and applies an armed rewrite to it.
func (r *fetchRecorder) request(frame []byte) []byte {
	hdr, body, err := protocol.DecodeRequestFrame(frame)
	if err != nil || hdr.APIKey != protocol.APIKeyFetch {
		return frame
	}
	req := protocol.NewFetchRequest()
	if req.DecodeFrom(body, hdr.APIVersion) != nil {
		return frame
	}
	rec := recordedFetch{sessionID: req.SessionID, epoch: req.SessionEpoch}
	for _, t := range req.Topics {
		for _, p := range t.Partitions {
			rec.parts = append(rec.parts, p.Partition)
		}
	}
	slices.Sort(rec.parts)
	for _, t := range req.ForgottenTopicsData {
		rec.forgotten += len(t.Partitions)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.rewrite != nil && req.SessionEpoch > 0 {
		r.rewrite(req)
		r.rewrite = nil
		out, err := req.AppendTo(slices.Clone(frame[:len(frame)-len(body)]), hdr.APIVersion)
		if err == nil {
			frame = out
			rec.rewritten = true
		}
	}
	r.fetches = append(r.fetches, rec)
	return frame
}

// recordingHandler dials every address through a fetchRecorder.
type recordingHandler struct {
	handler.Handler
	rec *fetchRecorder
}

func (h *recordingHandler) Dial(ctx context.Context, cfg handler.DialConfig) (handler.Conn, error) {
	addr, err := h.rec.listen(cfg.Address)
	if err != nil {
		return nil, &handler.DialError{Address: cfg.Address, Err: err}
	}
	cfg.Address = addr
	return h.Handler.Dial(ctx, cfg)
}

// produceEach writes n records to each of the partitions given, in one
// Produce request per call, and returns how many it wrote.
func produceEach(t *testing.T, ctx context.Context, topic *Topic, ids []int32, n int, tag string) int {
	t.Helper()
	return produceEachTB(t, ctx, topic, ids, n, tag)
}

func produceEachTB(t testing.TB, ctx context.Context, topic *Topic, ids []int32, n int, tag string) int {
	t.Helper()
	var bb protocol.RecordBatchBuilder
	req := protocol.NewProduceRequest()
	req.Acks, req.TimeoutMs = -1, 10000
	pt := protocol.ProduceRequestTopic{Name: topic.Name()}
	ts := time.Now().UnixMilli()
	for _, id := range ids {
		bb.Reset(&protocol.RecordBatch{ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1, PartitionLeaderEpoch: -1})
		for _, v := range seqValues(tag, 0, n) {
			bb.Add(ts, nil, []byte(v), nil)
		}
		records, err := bb.Build(nil, protocol.CompressionNone)
		require.NoError(t, err)
		pt.PartitionData = append(pt.PartitionData, protocol.ProduceRequestPartition{Index: id, Records: records})
	}
	req.TopicData = []protocol.ProduceRequestTopic{pt}
	leader := topic.Partition(ids[0]).Leader()
	require.NotNil(t, leader)
	for attempt := 0; ; attempt++ {
		resp, err := leader.Produce(ctx, req)
		require.NoError(t, err)
		var retry []protocol.ProduceRequestPartition
		for _, pr := range resp.Responses[0].PartitionResponses {
			err := protocol.ErrorForCode(pr.ErrorCode)
			// A new topic's partitions take a while to get leaders
			// (seconds for a thousand on a loaded machine).
			if err != nil && isRetriable(err) && attempt < 300 {
				for _, pd := range pt.PartitionData {
					if pd.Index == pr.Index {
						retry = append(retry, pd)
					}
				}
				continue
			}
			require.NoError(t, err, "producing to partition %d", pr.Index)
		}
		if len(retry) == 0 {
			return n * len(ids)
		}
		time.Sleep(100 * time.Millisecond)
		req.TopicData[0].PartitionData = retry
	}
}

func allPartitionIDs(n int) []int32 {
	out := make([]int32, n)
	for i := range out {
		out[i] = int32(i)
	}
	return out
}

// requireOnce checks that msgs hold each partition's records once and in
// order, want per partition in all.
func requireOnce(t *testing.T, msgs []*Message, want map[int32]int) {
	t.Helper()
	got := map[int32]int{}
	for id, offs := range requireInOrder(t, msgs) {
		got[id] = len(offs)
	}
	assert.Equal(t, want, got)
}

// waitFetches waits until the recorder has seen n more Fetch requests
// than it had at from.
func waitFetches(t *testing.T, ctx context.Context, h handler.Handler, rec *fetchRecorder, from, n int) {
	t.Helper()
	eventually(t, ctx, h, "fetch requests", func() bool { return rec.count() >= from+n })
}

// afterRewrite waits for the request the recorder rewrote (from the
// mark-th on) and the one after it, and returns the requests from mark
// with the rewritten one's index.
func afterRewrite(t *testing.T, ctx context.Context, h handler.Handler, rec *fetchRecorder, mark int) ([]recordedFetch, int) {
	t.Helper()
	var after []recordedFetch
	i := -1
	eventually(t, ctx, h, "the Fetch after the rewritten one", func() bool {
		after = rec.since(mark)
		i = slices.IndexFunc(after, func(f recordedFetch) bool { return f.rewritten })
		return i >= 0 && len(after) > i+1
	})
	return after, i
}

// TestFetchSessionIncremental reads a 200-partition topic through a proxy
// that records each Fetch on the wire: the first opens a session with all
// 200 partitions; once caught up, requests carry no partitions; after
// records arrive on two partitions, requests carry at most those two. Then
// the proxy corrupts a request's epoch and another's session id, the
// broker refuses them (INVALID_FETCH_SESSION_EPOCH,
// FETCH_SESSION_ID_NOT_FOUND), and the consumer falls back to a full Fetch
// at once. Every record is read once throughout.
func TestFetchSessionIncremental(t *testing.T) {
	for _, kind := range []testcluster.Config{testcluster.KRaftSingle, testcluster.ZooKeeperSingle} {
		t.Run(kind.Name(), func(t *testing.T) {
			tc := testcluster.Shared(t, kind)
			forEachHandler(t, func(t *testing.T, h handler.Handler) {
				const parts = 200
				ctx := testCtx(t)
				admin := newTestClient(t, ctx, h, Config{Hosts: tc.Bootstrap()})
				name := uniqueTopic(t, "fetch-session")
				topic := makeTopic(t, ctx, admin, TopicSpec{Name: name, Partitions: parts, ReplicationFactor: 1})
				want := map[int32]int{}
				total := produceEach(t, ctx, topic, allPartitionIDs(parts), 3, "a")
				for id := range int32(parts) {
					want[id] = 3
				}

				rec := newFetchRecorder(t)
				cl := newTestClient(t, ctx, &recordingHandler{Handler: h, rec: rec}, Config{Hosts: tc.Bootstrap()})
				ct, err := cl.Topic(ctx, name)
				require.NoError(t, err)
				c := newConsumer(t, ct, ConsumerConfig{ConsumerTimeout: 300 * time.Millisecond})
				msgs := consumeMessages(t, ctx, c, total)

				first := rec.since(0)[0]
				assert.Equal(t, int32(0), first.sessionID)
				assert.Equal(t, int32(0), first.epoch, "the first Fetch asks for a session")
				assert.Len(t, first.parts, parts, "and names every partition")

				// Caught up: the session's requests name nothing.
				mark := rec.count()
				waitFetches(t, ctx, h, rec, mark, 5)
				idle := rec.since(mark)
				last := idle[len(idle)-1]
				assert.NotZero(t, last.sessionID)
				assert.Positive(t, last.epoch)
				assert.Empty(t, last.parts, "no partition changed")
				session := last.sessionID

				// Records on two partitions: only they are sent again.
				mark = rec.count()
				total += produceEach(t, ctx, topic, []int32{7, 150}, 4, "b")
				want[7] += 4
				want[150] += 4
				msgs = append(msgs, consumeMessages(t, ctx, c, 8)...)
				waitFetches(t, ctx, h, rec, mark, 3)
				sentAgain := false
				for _, f := range rec.since(mark) {
					assert.Equal(t, session, f.sessionID)
					assert.Positive(t, f.epoch)
					assert.Subset(t, []int32{7, 150}, f.parts, "only partitions with new offsets")
					sentAgain = sentAgain || len(f.parts) > 0
				}
				assert.True(t, sentAgain, "the partitions that moved are sent with their new offsets")

				// A stale epoch: the broker refuses it; the next Fetch is full,
				// closing the old session.
				mark = rec.count()
				rec.arm(func(req *protocol.FetchRequest) { req.SessionEpoch += 1000 })
				after, i := afterRewrite(t, ctx, h, rec, mark)
				assert.Equal(t, session, after[i+1].sessionID)
				assert.Equal(t, int32(0), after[i+1].epoch, "full after INVALID_FETCH_SESSION_EPOCH")
				assert.Len(t, after[i+1].parts, parts)

				// An unknown session: the next Fetch is full and asks anew.
				eventually(t, ctx, h, "a new session", func() bool {
					fs := rec.since(mark)
					return fs[len(fs)-1].epoch > 0
				})
				mark = rec.count()
				rec.arm(func(req *protocol.FetchRequest) { req.SessionID ^= 0x5a5a5a5a })
				after, i = afterRewrite(t, ctx, h, rec, mark)
				assert.Equal(t, int32(0), after[i+1].sessionID, "full after FETCH_SESSION_ID_NOT_FOUND")
				assert.Equal(t, int32(0), after[i+1].epoch)
				assert.Len(t, after[i+1].parts, parts)

				// Nothing lost or repeated across the fallbacks.
				total += produceEach(t, ctx, topic, allPartitionIDs(parts), 2, "c")
				for id := range int32(parts) {
					want[id] += 2
				}
				msgs = append(msgs, consumeMessages(t, ctx, c, parts*2)...)
				requireNoMore(t, ctx, c)
				require.Len(t, msgs, total)
				requireOnce(t, msgs, want)

				// Stop closes the session: epoch -1, no partitions.
				fs := rec.since(0)
				open := fs[len(fs)-1].sessionID
				require.NotZero(t, open)
				mark = rec.count()
				require.NoError(t, c.Stop(ctx))
				eventually(t, ctx, h, "the session closed", func() bool {
					return slices.ContainsFunc(rec.since(mark), func(f recordedFetch) bool {
						return f.sessionID == open && f.epoch == -1 && len(f.parts) == 0
					})
				})
			})
		})
	}
}

// TestFetchSessionCacheFull: a broker whose session cache has no room
// (max.incremental.fetch.session.cache.slots 0; Kafka splits the slots
// among shards of the cache, so a small number leaves none either) answers
// every request for a session with session id 0. The consumer keeps
// sending full Fetches, each asking again, and reads everything once.
func TestFetchSessionCacheFull(t *testing.T) {
	tc := testcluster.Shared(t, testcluster.Config{Mode: testcluster.KRaft, Brokers: 1,
		BrokerProps: map[string]string{"max.incremental.fetch.session.cache.slots": "0"}})
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		const parts = 20
		ctx := testCtx(t)
		admin := newTestClient(t, ctx, h, Config{Hosts: tc.Bootstrap()})
		name := uniqueTopic(t, "fetch-session-full")
		topic := makeTopic(t, ctx, admin, TopicSpec{Name: name, Partitions: parts, ReplicationFactor: 1})
		total := produceEach(t, ctx, topic, allPartitionIDs(parts), 5, "a")
		want := map[int32]int{}
		for id := range int32(parts) {
			want[id] = 5
		}

		rec := newFetchRecorder(t)
		cl := newTestClient(t, ctx, &recordingHandler{Handler: h, rec: rec}, Config{Hosts: tc.Bootstrap()})
		ct, err := cl.Topic(ctx, name)
		require.NoError(t, err)
		c := newConsumer(t, ct, ConsumerConfig{ConsumerTimeout: 300 * time.Millisecond})
		msgs := consumeMessages(t, ctx, c, total)
		total += produceEach(t, ctx, topic, allPartitionIDs(parts), 2, "b")
		for id := range int32(parts) {
			want[id] += 2
		}
		msgs = append(msgs, consumeMessages(t, ctx, c, parts*2)...)
		waitFetches(t, ctx, h, rec, rec.count(), 3)
		requireNoMore(t, ctx, c)
		require.Len(t, msgs, total)
		requireOnce(t, msgs, want)

		fs := rec.since(0)
		require.Greater(t, len(fs), 3)
		for _, f := range fs {
			assert.Equal(t, int32(0), f.sessionID, "no session to be had")
			assert.Equal(t, int32(0), f.epoch, "so every Fetch is full, asking again")
		}
		assert.Len(t, fs[len(fs)-1].parts, parts, "naming every partition")
	})
}
