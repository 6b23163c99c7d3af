package kafka

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/internal/testcluster"
	"github.com/gregorkafka/gregor/protocol"
	"github.com/gregorkafka/gregor/sasl"
)

// revocableBearer hands out valid JWTs until revoked, expired ones after,
// which the broker rejects; it counts the authentications tried after
// revocation.
type revocableBearer struct {
	revoked  atomic.Bool
	rejected atomic.Int32
}

func (r *revocableBearer) mechanism() sasl.Mechanism {
	return &sasl.OAuthBearer{Token: func(context.Context) (sasl.Token, error) {
		life := time.Hour
		if r.revoked.Load() {
			r.rejected.Add(1)
			life = -time.Hour
		}
		return sasl.Token{Value: testcluster.UnsecuredJWT(testcluster.SASLUser, life)}, nil
	}}
}

// requireAuthFailure checks err is the broker's rejection of the credentials.
func requireAuthFailure(t *testing.T, err error) {
	t.Helper()
	var se *sasl.Error
	require.ErrorAs(t, err, &se, "%v", err)
	require.ErrorIs(t, err, protocol.ErrSASLAuthenticationFailed)
}

// TestSASLFailureIsFinal: once a connected client's credentials stop
// working, the producer, the consumers and the group code report the
// authentication failure to their callers after one attempt per broker
// instead of reconnecting in a loop.
func TestSASLFailureIsFinal(t *testing.T) {
	tc := testcluster.Shared(t, testcluster.KRaftSASL)
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		ctx := testCtx(t)
		// The topic is made, and written, by a client whose credentials last.
		admin := newTestClient(t, ctx, h, saslConfig(tc, testcluster.ListenerSASL, jwtBearer(time.Hour)))
		topic := makeTopic(t, ctx, admin, TopicSpec{Name: uniqueTopic(t, "revoked"), Partitions: 1, ReplicationFactor: 1})
		produceRecords(t, ctx, topic.Partitions()[0], 1, time.Now().UnixMilli())

		t.Run("producer", func(t *testing.T) {
			rb := &revocableBearer{}
			cl := newTestClient(t, ctx, h, saslConfig(tc, testcluster.ListenerSASL, rb.mechanism()))
			tp, err := cl.Topic(ctx, topic.Name())
			require.NoError(t, err)
			rb.revoked.Store(true)
			sp, err := tp.SyncProducer(ProducerConfig{})
			require.NoError(t, err)
			defer sp.Close()
			_, _, err = sp.Produce(ctx, Message{Value: []byte("x")})
			requireAuthFailure(t, err)
			assert.EqualValues(t, 1, rb.rejected.Load(), "authentications tried")
		})
		t.Run("simple consumer", func(t *testing.T) {
			rb := &revocableBearer{}
			cl := newTestClient(t, ctx, h, saslConfig(tc, testcluster.ListenerSASL, rb.mechanism()))
			tp, err := cl.Topic(ctx, topic.Name())
			require.NoError(t, err)
			rb.revoked.Store(true)
			sc := newConsumer(t, tp, ConsumerConfig{AutoOffsetReset: OffsetEarliest})
			_, err = sc.Consume(ctx)
			requireAuthFailure(t, err)
			assert.EqualValues(t, 1, rb.rejected.Load(), "authentications tried")
		})
		t.Run("managed group", func(t *testing.T) {
			rb := &revocableBearer{}
			cl := newTestClient(t, ctx, h, saslConfig(tc, testcluster.ListenerSASL, rb.mechanism()))
			tp, err := cl.Topic(ctx, topic.Name())
			require.NoError(t, err)
			rb.revoked.Store(true)
			bc, err := tp.BalancedConsumer(topic.Name()+"-g", BalancedConsumerConfig{Managed: true,
				ConsumerConfig: ConsumerConfig{AutoOffsetReset: OffsetEarliest}})
			require.NoError(t, err)
			defer bc.Stop(context.Background())
			_, err = bc.Consume(ctx)
			requireAuthFailure(t, err)
			assert.EqualValues(t, 1, rb.rejected.Load(), "authentications tried")
		})
	})
}
