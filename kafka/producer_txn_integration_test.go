package kafka

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/internal/testcluster"
	"github.com/gregorkafka/gregor/protocol"
)

// kraftClassicTxn is Kafka 4 with transaction.version 1 finalized: the
// classic protocol on brokers that also speak KIP-890's.
var kraftClassicTxn = testcluster.Config{Mode: testcluster.KRaft, Brokers: 1,
	Features: map[string]int16{"transaction.version": 1}}

// txnKinds are the clusters the transaction protocols are tested on: Kafka
// 4 with transaction version 2 (its default) and 1, and 3.9 (classic).
var txnKinds = []testcluster.Config{testcluster.KRaftSingle, kraftClassicTxn, testcluster.ZooKeeperSingle}

// txnWire is what forTxnClusters' client wrote, and the protocol the
// cluster offers.
type txnWire struct {
	v2 bool // the cluster finalized transaction.version 2

	mu   sync.Mutex
	sent map[int16]int16 // API key → highest version written
}

func (w *txnWire) OnBrokerWrite(e BrokerWriteEvent) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if v, ok := w.sent[e.APIKey]; !ok || e.Version > v {
		w.sent[e.APIKey] = e.Version
	}
}

// reset forgets what was written so far.
func (w *txnWire) reset() {
	w.mu.Lock()
	defer w.mu.Unlock()
	clear(w.sent)
}

// highest returns the highest version of the API written, -1 for none.
func (w *txnWire) highest(key int16) int16 {
	w.mu.Lock()
	defer w.mu.Unlock()
	if v, ok := w.sent[key]; ok {
		return v
	}
	return -1
}

// requireProtocol checks that p's transactions spoke the protocol the
// cluster offers: Produce 12 and EndTxn 5 and no AddPartitionsToTxn under
// transaction version 2, the classic requests otherwise.
func (w *txnWire) requireProtocol(t *testing.T, p *Producer) {
	t.Helper()
	require.Equal(t, w.v2, p.TransactionV2())
	if w.v2 {
		require.Equal(t, int16(12), w.highest(protocol.APIKeyProduce))
		require.Equal(t, int16(5), w.highest(protocol.APIKeyEndTxn))
		require.Equal(t, int16(-1), w.highest(protocol.APIKeyAddPartitionsToTxn), "partitions are added by Produce")
		return
	}
	require.LessOrEqual(t, w.highest(protocol.APIKeyProduce), int16(11))
	require.GreaterOrEqual(t, w.highest(protocol.APIKeyProduce), int16(3))
	require.LessOrEqual(t, w.highest(protocol.APIKeyEndTxn), int16(4))
	require.GreaterOrEqual(t, w.highest(protocol.APIKeyAddPartitionsToTxn), int16(0), "partitions are added explicitly")
}

// forTxnClusters runs fn for every handler on every cluster kind.
func forTxnClusters(t *testing.T, fn func(t *testing.T, h handler.Handler, cl *Client, w *txnWire)) {
	for _, kind := range txnKinds {
		t.Run(kind.Name(), func(t *testing.T) {
			tc := testcluster.Shared(t, kind)
			forEachHandler(t, func(t *testing.T, h handler.Handler) {
				w := &txnWire{v2: kind.Mode == testcluster.KRaft && kind.Features == nil, sent: map[int16]int16{}}
				cl := newTestClient(t, testCtx(t), h, Config{Hosts: tc.Bootstrap(), Hooks: []Hook{w}})
				fn(t, h, cl, w)
			})
		})
	}
}

// epochOf returns p's producer id and epoch.
func epochOf(p *Producer) producerID {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pid
}

// readCommitted reads the topic's committed messages from the start until
// the consumer times out, returning their values in order per partition.
func readCommitted(t *testing.T, ctx context.Context, topic *Topic) []string {
	t.Helper()
	c := newConsumer(t, topic, ConsumerConfig{
		IsolationLevel: ReadCommitted, AutoOffsetReset: OffsetEarliest, ConsumerTimeout: time.Second,
	})
	var out []string
	for {
		m, err := c.Consume(ctx)
		if err != nil {
			require.ErrorIs(t, err, ErrConsumerTimeout)
			return out
		}
		out = append(out, string(m.Value))
	}
}

// txnProducer makes a transactional producer with delivery reports.
func txnProducer(t *testing.T, topic *Topic, id string) (*Producer, func() []DeliveryReport) {
	t.Helper()
	p, err := topic.Producer(ProducerConfig{TransactionalID: id, DeliveryReports: true})
	require.NoError(t, err)
	return p, collectReports(t, p)
}

func produceValues(t *testing.T, ctx context.Context, p *Producer, values ...string) {
	t.Helper()
	for _, v := range values {
		require.NoError(t, p.Produce(ctx, Message{Value: []byte(v)}))
	}
}

func TestTransactionalProducerCommitAbort(t *testing.T) {
	forTxnClusters(t, func(t *testing.T, h handler.Handler, cl *Client, w *txnWire) {
		ctx := testCtx(t)
		topic := prodTopic(t, ctx, cl, 1, 1, nil)
		p, reports := txnProducer(t, topic, uniqueTopic(t, "txn"))

		assert.ErrorIs(t, p.Produce(ctx, Message{Value: []byte("x")}), ErrNoTransaction)
		assert.ErrorIs(t, p.CommitTransaction(ctx), ErrNoTransaction)

		require.NoError(t, p.BeginTransaction(ctx))
		assert.ErrorIs(t, p.BeginTransaction(ctx), ErrTransactionOpen)
		produceValues(t, ctx, p, seqValues("c", 0, 100)...)
		first := epochOf(p)
		require.NoError(t, p.CommitTransaction(ctx))
		if next := epochOf(p); w.v2 {
			// EndTxn 5 hands the next transaction a new epoch.
			require.Equal(t, producerID{id: first.id, epoch: first.epoch + 1}, next)
		} else {
			require.Equal(t, first, next)
		}

		require.NoError(t, p.BeginTransaction(ctx))
		produceValues(t, ctx, p, seqValues("a", 0, 50)...)
		require.NoError(t, p.Flush(ctx), "sent, then aborted")
		produceValues(t, ctx, p, seqValues("a", 50, 60)...)
		require.NoError(t, p.AbortTransaction(ctx))

		require.NoError(t, p.BeginTransaction(ctx))
		produceValues(t, ctx, p, seqValues("d", 0, 10)...)
		require.NoError(t, p.CommitTransaction(ctx))
		w.requireProtocol(t, p)

		// A transaction with nothing in it needs no EndTxn, and no new epoch.
		before := epochOf(p)
		require.NoError(t, p.BeginTransaction(ctx))
		require.NoError(t, p.CommitTransaction(ctx))
		require.Equal(t, before, epochOf(p))

		// A transaction left open is aborted by Close.
		require.NoError(t, p.BeginTransaction(ctx))
		produceValues(t, ctx, p, seqValues("z", 0, 5)...)
		require.NoError(t, p.Flush(ctx))
		require.NoError(t, p.Close())

		all := reports()
		require.Len(t, all, 100+60+10+5)
		for _, r := range all {
			if r.Message.Value[0] == 'a' && r.Err != nil {
				assert.ErrorIs(t, r.Err, ErrTransactionAborted)
				continue
			}
			assert.NoError(t, r.Err, "%s", r.Message.Value)
		}
		want := append(seqValues("c", 0, 100), seqValues("d", 0, 10)...)
		assert.Equal(t, want, readCommitted(t, ctx, topic), "only committed messages, in order, once")
	})
}

// TestTransactionalProducerSplitsTooLarge: a batch the topic's limit
// refuses is split and sent again within the transaction, which then
// commits: the halves keep the refused batch's sequence numbers, so no new
// epoch (which would break the transaction) is needed.
func TestTransactionalProducerSplitsTooLarge(t *testing.T) {
	forTxnClusters(t, func(t *testing.T, h handler.Handler, cl *Client, w *txnWire) {
		ctx := testCtx(t)
		topic := prodTopic(t, ctx, cl, 1, 1, map[string]string{"max.message.bytes": "20000"})
		p, err := topic.Producer(ProducerConfig{TransactionalID: uniqueTopic(t, "txn"), DeliveryReports: true,
			MinQueuedMessages: 60, Linger: time.Hour})
		require.NoError(t, err)
		reports := collectReports(t, p)
		pad := strings.Repeat("x", 1000)
		values := seqValues("big", 0, 60)
		for i := range values {
			values[i] += pad
		}
		require.NoError(t, p.BeginTransaction(ctx))
		first := epochOf(p)
		produceValues(t, ctx, p, values...)
		require.NoError(t, p.Flush(ctx), "the refused batch's halves were written")
		assert.Equal(t, first, epochOf(p), "no new epoch within the transaction")
		require.NoError(t, p.CommitTransaction(ctx))
		require.NoError(t, p.Close())
		for _, r := range reports() {
			require.NoError(t, r.Err)
		}
		assert.Equal(t, values, readCommitted(t, ctx, topic), "committed, in order, once")
	})
}

// TestTransactionalProducerFenced: a second producer with the same
// transactional id fences the first, whose open transaction is aborted and
// whose later messages never become visible.
func TestTransactionalProducerFenced(t *testing.T) {
	forTxnClusters(t, func(t *testing.T, h handler.Handler, cl *Client, w *txnWire) {
		ctx := testCtx(t)
		topic := prodTopic(t, ctx, cl, 2, 1, nil)
		id := uniqueTopic(t, "fence")
		old, oldReports := txnProducer(t, topic, id)
		require.NoError(t, old.BeginTransaction(ctx))
		produceValues(t, ctx, old, seqValues("first", 0, 10)...)
		require.NoError(t, old.CommitTransaction(ctx))
		require.NoError(t, old.BeginTransaction(ctx))
		produceValues(t, ctx, old, seqValues("open", 0, 10)...)
		require.NoError(t, old.Flush(ctx))

		young, youngReports := txnProducer(t, topic, id)
		require.NoError(t, young.BeginTransaction(ctx), "fences the old producer")
		produceValues(t, ctx, young, seqValues("young", 0, 10)...)
		require.NoError(t, young.CommitTransaction(ctx))

		// The zombie goes on: everything it does now fails, fenced.
		for _, v := range seqValues("zombie", 0, 10) {
			if err := old.Produce(ctx, Message{Value: []byte(v)}); err != nil {
				var fe *ProducerFencedError
				require.ErrorAs(t, err, &fe)
				break
			}
		}
		err := old.CommitTransaction(ctx)
		var fe *ProducerFencedError
		require.ErrorAs(t, err, &fe, "the old producer learns it is fenced")
		assert.Equal(t, id, fe.TransactionalID)
		require.ErrorAs(t, old.BeginTransaction(ctx), &fe, "for good")
		w.requireProtocol(t, young)
		require.NoError(t, old.Close())
		require.NoError(t, young.Close())
		for _, r := range oldReports() {
			if string(r.Message.Value[:5]) == "zombi" {
				require.ErrorAs(t, r.Err, &fe, "%s", r.Message.Value)
			}
		}
		for _, r := range youngReports() {
			require.NoError(t, r.Err)
		}

		got := readCommitted(t, ctx, topic)
		assert.ElementsMatch(t, append(seqValues("first", 0, 10), seqValues("young", 0, 10)...), got,
			"nothing the fenced producer wrote after the takeover is visible")
	})
}

// TestTransactionalProducerOffsets commits a consumer's offsets in a
// transaction: they count only if it commits.
func TestTransactionalProducerOffsets(t *testing.T) {
	forTxnClusters(t, func(t *testing.T, h handler.Handler, cl *Client, w *txnWire) {
		ctx := testCtx(t)
		in := prodTopic(t, ctx, cl, 1, 1, nil)
		out := prodTopic(t, ctx, cl, 1, 1, nil)
		group := uniqueTopic(t, "txn-group")
		produceAll(t, ctx, in, ProducerConfig{}, 20, func(i int) Message { return Message{Value: value(i)} })
		w.reset() // an idempotent producer's Produce versions are not the transaction's
		c := newConsumer(t, in, ConsumerConfig{ConsumerGroup: group, AutoOffsetReset: OffsetEarliest})
		md := c.GroupMetadata()
		assert.Equal(t, ConsumerGroupMetadata{GroupID: group, GenerationID: -1}, md)
		p, _ := txnProducer(t, out, uniqueTopic(t, "txn-offsets"))
		defer p.Close()

		copyN := func(n int, commit bool) {
			require.NoError(t, p.BeginTransaction(ctx))
			msgs := consumeMessages(t, ctx, c, n)
			for _, m := range msgs {
				require.NoError(t, p.Produce(ctx, Message{Value: m.Value}))
			}
			last := msgs[len(msgs)-1]
			offsets := map[string]map[int32]int64{in.Name(): {last.Partition: last.Offset + 1}}
			require.NoError(t, p.SendOffsetsToTransaction(ctx, offsets, md))
			if commit {
				require.NoError(t, p.CommitTransaction(ctx))
			} else {
				require.NoError(t, p.AbortTransaction(ctx))
			}
		}
		copyN(5, true)
		eventually(t, ctx, h, "the first transaction's offset", func() bool {
			committed, err := cl.Cluster().FetchGroupOffsets(ctx, group, map[string][]int32{in.Name(): {0}})
			require.NoError(t, err)
			return committed[in.Name()][0].Offset == 5
		})
		copyN(5, false)
		committed, err := cl.Cluster().FetchGroupOffsets(ctx, group, map[string][]int32{in.Name(): {0}})
		require.NoError(t, err)
		assert.Equal(t, int64(5), committed[in.Name()][0].Offset, "the aborted transaction's offsets do not count")
		copyN(5, true)
		// The coordinator writes the commit marker after EndTxn returns;
		// until then the offset fetched is the previous one.
		eventually(t, ctx, h, "the committed transaction's offset", func() bool {
			committed, err := cl.Cluster().FetchGroupOffsets(ctx, group, map[string][]int32{in.Name(): {0}})
			require.NoError(t, err)
			require.Contains(t, []int64{5, 15}, committed[in.Name()][0].Offset)
			return committed[in.Name()][0].Offset == 15
		})
		want := append(seqValues("value", 0, 5), seqValues("value", 10, 15)...)
		assert.Equal(t, want, readCommitted(t, ctx, out))
		w.requireProtocol(t, p)
		if w.v2 {
			require.Equal(t, int16(-1), w.highest(protocol.APIKeyAddOffsetsToTxn), "TxnOffsetCommit 5 adds the group")
			require.Equal(t, int16(5), w.highest(protocol.APIKeyTxnOffsetCommit))
		} else {
			require.GreaterOrEqual(t, w.highest(protocol.APIKeyAddOffsetsToTxn), int16(0))
			require.LessOrEqual(t, w.highest(protocol.APIKeyTxnOffsetCommit), int16(4))
		}
	})
}

// TestTransactionalCodecsReadCommitted writes a committed, an aborted and a
// committed transaction with every codec: consumers reading committed data
// skip the aborted records and every transaction marker, also when fetches
// end in partial batches; reading uncommitted, they see every data record
// and no marker.
//
// Decoding does not depend on the runtime, so the codecs alternate between
// the two handlers instead of running on both.
func TestTransactionalCodecsReadCommitted(t *testing.T) {
	for _, kind := range []testcluster.Config{testcluster.KRaftSingle, testcluster.ZooKeeperSingle} {
		tc := testcluster.Shared(t, kind)
		for i, codec := range []Compression{CompressionNone, CompressionGzip, CompressionSnappy, CompressionLZ4, CompressionZstd} {
			name := []string{"goroutine", "eventloop"}[i%2]
			t.Run(kind.Name()+"/"+codec.String()+"/"+name, func(t *testing.T) {
				t.Parallel() // each codec has its own topic and transactional id
				h := newHandler(t, name)
				ctx := testCtx(t)
				cl := newTestClient(t, ctx, h, Config{Hosts: tc.Bootstrap()})
				topic := prodTopic(t, ctx, cl, 1, 1, nil)
				p, err := topic.Producer(ProducerConfig{TransactionalID: uniqueTopic(t, "codec"), Compression: codec, MinQueuedMessages: 7})
				require.NoError(t, err)
				for _, tx := range []struct {
					prefix string
					commit bool
				}{{"c1", true}, {"ab", false}, {"c2", true}} {
					require.NoError(t, p.BeginTransaction(ctx))
					produceValues(t, ctx, p, seqValues(tx.prefix, 0, 30)...)
					require.NoError(t, p.Flush(ctx))
					if tx.commit {
						require.NoError(t, p.CommitTransaction(ctx))
					} else {
						require.NoError(t, p.AbortTransaction(ctx))
					}
				}
				require.NoError(t, p.Close())
				// The coordinator writes the last marker after EndTxn returns.
				var latest int64
				eventually(t, ctx, h, "90 records and 3 markers", func() bool {
					var err error
					latest, err = topic.Partition(0).LatestOffset(ctx)
					require.NoError(t, err)
					return latest == 93
				})

				committed := append(seqValues("c1", 0, 30), seqValues("c2", 0, 30)...)
				all := append(append(seqValues("c1", 0, 30), seqValues("ab", 0, 30)...), seqValues("c2", 0, 30)...)
				for _, tc := range []struct {
					name  string
					level IsolationLevel
					max   int
					want  []string
				}{
					{"committed", ReadCommitted, 0, committed},
					{"committed partial", ReadCommitted, 200, committed},
					{"uncommitted", ReadUncommitted, 0, all},
					{"uncommitted partial", ReadUncommitted, 200, all},
				} {
					c := newConsumer(t, topic, ConsumerConfig{
						IsolationLevel: tc.level, AutoOffsetReset: OffsetEarliest, FetchMessageMaxBytes: tc.max,
						ConsumerTimeout: time.Second,
					})
					got := valuesOf(consumeMessages(t, ctx, c, len(tc.want)))
					requireNoMore(t, ctx, c)
					assert.Equal(t, tc.want, got, tc.name)
					assert.Equal(t, latest-1, c.HeldOffsets()[0], "%s: past the final marker, as Java's position", tc.name)
					assert.Equal(t, map[int32]int64{0: 0}, c.Lag(), "%s: nothing left to read", tc.name)
				}
			})
		}
	}
}
