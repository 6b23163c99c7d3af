package kafka

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
)

// TestTransactionAcrossTopics writes to two topics in the transactions of
// one Transaction: each commits or aborts on both topics together, and a
// newer producer of the same transactional id fences all of its producers.
func TestTransactionAcrossTopics(t *testing.T) {
	forTxnClusters(t, func(t *testing.T, h handler.Handler, cl *Client, w *txnWire) {
		ctx := testCtx(t)
		a := prodTopic(t, ctx, cl, 2, 1, nil)
		b := prodTopic(t, ctx, cl, 1, 1, nil)
		id := uniqueTopic(t, "across")
		_, err := cl.Transaction(TransactionConfig{})
		var ce *ConfigError
		require.ErrorAs(t, err, &ce)
		tx, err := cl.Transaction(TransactionConfig{TransactionalID: id})
		require.NoError(t, err)
		pa, err := tx.Producer(a, ProducerConfig{DeliveryReports: true})
		require.NoError(t, err)
		reportsA := collectReports(t, pa)
		_, err = tx.Producer(b, ProducerConfig{TransactionalID: "other"})
		require.ErrorAs(t, err, &ce)
		pb, err := tx.Producer(b, ProducerConfig{})
		require.NoError(t, err)

		require.NoError(t, tx.Begin(ctx))
		_, err = tx.Producer(b, ProducerConfig{})
		require.ErrorIs(t, err, ErrTransactionOpen, "producers are taken between transactions")
		produceValues(t, ctx, pa, seqValues("a1", 0, 20)...)
		produceValues(t, ctx, pb, seqValues("b1", 0, 20)...)
		require.NoError(t, tx.Commit(ctx))

		require.NoError(t, pa.BeginTransaction(ctx), "a producer's own methods act on its Transaction")
		produceValues(t, ctx, pa, seqValues("ax", 0, 10)...)
		produceValues(t, ctx, pb, seqValues("bx", 0, 10)...)
		require.NoError(t, pb.Flush(ctx), "one topic's records written, then aborted with the other's")
		require.NoError(t, tx.Abort(ctx))

		require.NoError(t, tx.Begin(ctx))
		produceValues(t, ctx, pb, seqValues("b2", 0, 5)...)
		produceValues(t, ctx, pa, seqValues("a2", 0, 5)...)
		require.NoError(t, pb.CommitTransaction(ctx))
		w.requireProtocol(t, pa)
		require.Equal(t, epochOf(pa), epochOf(pb), "one producer id and epoch")

		// A newer producer of the id fences every producer of the Transaction.
		require.NoError(t, tx.Begin(ctx))
		produceValues(t, ctx, pb, "zombie")
		require.NoError(t, pb.Flush(ctx))
		young, err := a.Producer(ProducerConfig{TransactionalID: id})
		require.NoError(t, err)
		require.NoError(t, young.BeginTransaction(ctx))
		require.NoError(t, young.CommitTransaction(ctx))
		require.NoError(t, young.Close())
		var fe *ProducerFencedError
		require.ErrorAs(t, tx.Commit(ctx), &fe)
		require.ErrorAs(t, pa.Produce(ctx, Message{Value: []byte("late")}), &fe)
		require.ErrorAs(t, tx.Begin(ctx), &fe, "for good")
		require.NoError(t, tx.Close())
		_, err = tx.Producer(b, ProducerConfig{})
		require.ErrorIs(t, err, ErrProducerClosed)

		for _, r := range reportsA() {
			if r.Message.Value[1] == 'x' && r.Err != nil {
				assert.ErrorIs(t, r.Err, ErrTransactionAborted)
				continue
			}
			assert.NoError(t, r.Err, "%s", r.Message.Value)
		}
		assert.ElementsMatch(t, append(seqValues("a1", 0, 20), seqValues("a2", 0, 5)...), readCommitted(t, ctx, a))
		assert.Equal(t, append(seqValues("b1", 0, 20), seqValues("b2", 0, 5)...), readCommitted(t, ctx, b),
			"committed together, aborted together; nothing of the fenced transaction")
	})
}
