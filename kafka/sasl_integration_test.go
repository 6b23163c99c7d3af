package kafka

import (
	"context"
	"errors"
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

// saslMechanisms returns one of each mechanism, with the harness's user.
func saslMechanisms() []sasl.Mechanism {
	return []sasl.Mechanism{
		&sasl.Plain{Username: testcluster.SASLUser, Password: testcluster.SASLPassword},
		&sasl.SCRAM{Hash: sasl.SHA256, Username: testcluster.SASLUser, Password: testcluster.SASLPassword},
		&sasl.SCRAM{Hash: sasl.SHA512, Username: testcluster.SASLUser, Password: testcluster.SASLPassword},
		jwtBearer(time.Hour),
	}
}

// jwtBearer mints a fresh unsecured JWT for every authentication.
func jwtBearer(lifetime time.Duration) *sasl.OAuthBearer {
	return &sasl.OAuthBearer{Token: func(ctx context.Context) (sasl.Token, error) {
		return sasl.Token{Value: testcluster.UnsecuredJWT(testcluster.SASLUser, lifetime),
			Extensions: map[string]string{"traceId": "gregor-test"}}, nil
	}}
}

// saslConfig is a client Config for the cluster's listener: SASL with m,
// and TLS trusting the cluster's CA on a SASL_SSL listener.
func saslConfig(tc *testcluster.Cluster, listener string, m sasl.Mechanism) Config {
	cfg := Config{Hosts: tc.BootstrapFor(listener), SASL: m, DialTimeout: 10 * time.Second}
	for _, l := range tc.Config().Listeners {
		if l.Name == listener && l.Protocol.TLS() {
			cfg.TLS = tc.TLS().ClientConfig(false)
		}
	}
	return cfg
}

// TestSASLProduceConsume produces through a SyncProducer and consumes with
// a managed BalancedConsumer (fetch, group coordinator and offsets
// connections) over SASL_PLAINTEXT and SASL_SSL with every mechanism.
func TestSASLProduceConsume(t *testing.T) {
	tc := testcluster.Shared(t, testcluster.KRaftSASL)
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		for _, listener := range []string{testcluster.ListenerSASL, testcluster.ListenerSASLSSL} {
			for _, m := range saslMechanisms() {
				t.Run(listener+"/"+m.Name(), func(t *testing.T) {
					saslRoundTrip(t, h, saslConfig(tc, listener, m), 2)
				})
			}
		}
	})
}

// saslRoundTrip produces n messages per partition and reads them back in a
// managed group, committing its offsets.
func saslRoundTrip(t *testing.T, h handler.Handler, cfg Config, partitions int32) {
	ctx := testCtx(t)
	cl := newTestClient(t, ctx, h, cfg)
	topic := makeTopic(t, ctx, cl, TopicSpec{Name: uniqueTopic(t, "sasl"), Partitions: partitions, ReplicationFactor: 1})
	sp, err := topic.SyncProducer(ProducerConfig{RequiredAcks: AcksAll})
	require.NoError(t, err)
	defer sp.Close()
	want := seqValues("m", 0, 20)
	for _, v := range want {
		_, _, err := sp.Produce(ctx, Message{Value: []byte(v)})
		require.NoError(t, err)
	}
	bc, err := topic.BalancedConsumer(topic.Name()+"-g", BalancedConsumerConfig{
		Managed: true, SessionTimeout: 6 * time.Second, HeartbeatInterval: 500 * time.Millisecond,
		ConsumerConfig: ConsumerConfig{AutoOffsetReset: OffsetEarliest},
	})
	require.NoError(t, err)
	defer bc.Stop(context.Background())
	got := consumeMessages(t, ctx, bc, len(want))
	assert.ElementsMatch(t, want, valuesOf(got))
	require.NoError(t, bc.CommitOffsets(ctx))
	committed, err := cl.Cluster().FetchGroupOffsets(ctx, bc.Group(), nil)
	require.NoError(t, err)
	var total int64
	for _, off := range committed[topic.Name()] {
		total += off.Offset
	}
	assert.EqualValues(t, len(want), total, "committed offsets")
}

// dialCounter counts the connections its handler dials.
type dialCounter struct {
	handler.Handler
	dials atomic.Int32
}

func (c *dialCounter) Dial(ctx context.Context, cfg handler.DialConfig) (handler.Conn, error) {
	c.dials.Add(1)
	return c.Handler.Dial(ctx, cfg)
}

// TestSASLRejected: wrong credentials, an unknown user and a mechanism the
// listener does not enable each fail NewClient with a *sasl.Error after one
// connection per seed, without waiting out DialTimeout.
func TestSASLRejected(t *testing.T) {
	tc := testcluster.Shared(t, testcluster.KRaftSASL)
	user, pass := testcluster.SASLUser, testcluster.SASLPassword
	cases := []struct {
		name     string
		listener string
		mech     sasl.Mechanism
		is       error
		enabled  []string
	}{
		{"wrong password PLAIN", testcluster.ListenerSASL, &sasl.Plain{Username: user, Password: "nope"}, protocol.ErrSASLAuthenticationFailed, nil},
		{"wrong password SCRAM-SHA-256", testcluster.ListenerSASLSSL, &sasl.SCRAM{Hash: sasl.SHA256, Username: user, Password: "nope"}, protocol.ErrSASLAuthenticationFailed, nil},
		{"unknown user SCRAM-SHA-512", testcluster.ListenerSASL, &sasl.SCRAM{Hash: sasl.SHA512, Username: "mallory", Password: pass}, protocol.ErrSASLAuthenticationFailed, nil},
		{"expired token OAUTHBEARER", testcluster.ListenerSASL, jwtBearer(-time.Hour), protocol.ErrSASLAuthenticationFailed, nil},
		{"mechanism not enabled", testcluster.ListenerScramOnly, &sasl.Plain{Username: user, Password: pass}, protocol.ErrUnsupportedSASLMechanism, []string{testcluster.MechScramSHA512}},
		{"SASL to a PLAINTEXT listener", "PLAINTEXT", &sasl.Plain{Username: user, Password: pass}, protocol.ErrIllegalSASLState, nil},
	}
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				ch := &dialCounter{Handler: h}
				cfg := saslConfig(tc, c.listener, c.mech)
				cfg.Handler, cfg.Logger = ch, testLogger()
				_, err := NewClient(testCtx(t), cfg)
				var se *sasl.Error
				require.ErrorAs(t, err, &se, "%v", err)
				assert.ErrorIs(t, err, c.is)
				assert.ErrorIs(t, err, ErrNoBrokersAvailable)
				assert.NotErrorIs(t, err, context.DeadlineExceeded, "an answer, not a timeout")
				assert.Equal(t, c.mech.Name(), se.Mechanism)
				assert.Equal(t, c.enabled, se.Enabled)
				assert.EqualValues(t, len(cfg.Hosts), ch.dials.Load(), "connections: one per seed")
			})
		}
	})
}

// TestSASLWithoutTLSOnSASLSSL: SASL without TLS against a SASL_SSL
// listener fails at once with the transport's error (the broker's TLS
// records), not as an authentication failure nor a hang.
func TestSASLWithoutTLSOnSASLSSL(t *testing.T) {
	tc := testcluster.Shared(t, testcluster.KRaftSASL)
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		cfg := saslConfig(tc, testcluster.ListenerSASLSSL, saslMechanisms()[0])
		cfg.TLS = nil
		cfg.DialTimeout = 3 * time.Second
		cfg.Handler, cfg.Logger = h, testLogger()
		_, err := NewClient(testCtx(t), cfg)
		require.ErrorIs(t, err, ErrNoBrokersAvailable)
		assert.ErrorIs(t, err, handler.ErrTLSRecord)
		var se *sasl.Error
		assert.False(t, errors.As(err, &se), "not an authentication failure: %v", err)
	})
}

// TestSASLZooKeeper runs SCRAM on Kafka 3.9 in ZooKeeper mode, where the
// credentials live in ZooKeeper, over SASL_PLAINTEXT and SASL_SSL.
func TestSASLZooKeeper(t *testing.T) {
	tc := testcluster.Shared(t, testcluster.ZooKeeperSASL)
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		for _, listener := range []string{testcluster.ListenerSASL, testcluster.ListenerSASLSSL} {
			for _, hash := range []sasl.ScramHash{sasl.SHA256, sasl.SHA512} {
				m := &sasl.SCRAM{Hash: hash, Username: testcluster.SASLUser, Password: testcluster.SASLPassword}
				t.Run(listener+"/"+m.Name(), func(t *testing.T) {
					saslRoundTrip(t, h, saslConfig(tc, listener, m), 2)
				})
			}
		}
		t.Run("wrong password", func(t *testing.T) {
			cfg := saslConfig(tc, testcluster.ListenerSASL, &sasl.SCRAM{Hash: sasl.SHA512, Username: testcluster.SASLUser, Password: "nope"})
			cfg.Handler, cfg.Logger = h, testLogger()
			_, err := NewClient(testCtx(t), cfg)
			requireAuthFailure(t, err)
		})
	})
}
