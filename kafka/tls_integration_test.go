package kafka

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/internal/testcerts"
	"github.com/gregorkafka/gregor/internal/testcluster"
)

// tlsCase is one secured listener a test reaches with the given TLS settings.
type tlsCase struct {
	kind     testcluster.Config
	listener string
	withCert bool
	managed  bool // also run a broker-managed BalancedConsumer
}

// TestTLSProduceConsume produces and consumes over the SSL and mutual-TLS
// listeners of real brokers, on both handlers: every connection the client
// opens (bootstrap, metadata, produce, fetch, list offsets, group
// coordinator, offsets) must run TLS, since those listeners speak nothing
// else.
func TestTLSProduceConsume(t *testing.T) {
	cases := []tlsCase{
		{testcluster.KRaftSecured, testcluster.ListenerSSL, false, true},
		{testcluster.KRaftSecured, testcluster.ListenerMTLS, true, true},
		{testcluster.ZooKeeperSecured, testcluster.ListenerSSL, false, false},
		{testcluster.ZooKeeperSecured, testcluster.ListenerMTLS, true, true},
	}
	for _, tc := range cases {
		t.Run(tc.kind.Name()+"/"+tc.listener, func(t *testing.T) {
			c := testcluster.Shared(t, tc.kind)
			forEachHandler(t, func(t *testing.T, h handler.Handler) {
				ctx := testCtx(t)
				addr := c.BootstrapFor(tc.listener)
				cl := newTestClient(t, ctx, h, Config{Hosts: addr, TLS: c.TLS().ClientConfig(tc.withCert)})
				for _, b := range cl.Brokers() {
					assert.Equal(t, addr[0], b.Addr(), "brokers are reached on the listener the client bootstrapped from")
				}
				name := uniqueTopic(t, "tls")
				require.NoError(t, cl.Cluster().CreateTopics(ctx, TopicSpec{Name: name, Partitions: 3}))
				topic, err := cl.Topic(ctx, name)
				require.NoError(t, err)

				sp, err := topic.SyncProducer(ProducerConfig{RequiredAcks: AcksAll})
				require.NoError(t, err)
				want := map[string]bool{}
				for i := 0; i < 30; i++ {
					v := fmt.Sprintf("m%d", i)
					want[v] = true
					_, _, err := sp.Produce(ctx, Message{Key: []byte(v), Value: []byte(v)})
					require.NoError(t, err)
				}
				require.NoError(t, sp.Close())

				sc, err := topic.SimpleConsumer(ConsumerConfig{ConsumerGroup: name + "-simple", AutoOffsetReset: OffsetEarliest})
				require.NoError(t, err)
				consumeAll(t, ctx, sc.Consume, want)
				require.NoError(t, sc.CommitOffsets(ctx), "offsets channel")
				require.NoError(t, sc.Stop(ctx))

				if tc.managed {
					bc, err := topic.BalancedConsumer(name+"-group", BalancedConsumerConfig{
						Managed:        true,
						ConsumerConfig: ConsumerConfig{AutoOffsetReset: OffsetEarliest},
					})
					require.NoError(t, err)
					consumeAll(t, ctx, bc.Consume, want)
					require.NoError(t, bc.CommitOffsets(ctx))
					require.NoError(t, bc.Stop(ctx))
				}
			})
		})
	}
}

// consumeAll consumes until every value in want has been seen once.
func consumeAll(t *testing.T, ctx context.Context, consume func(context.Context) (*Message, error), want map[string]bool) {
	t.Helper()
	seen := map[string]int{}
	for len(seen) < len(want) {
		m, err := consume(ctx)
		require.NoError(t, err)
		seen[string(m.Value)]++
	}
	for v := range want {
		assert.Equal(t, 1, seen[v], v)
	}
}

// TestTLSMisconfigured dials real brokers with TLS settings that cannot
// work: each fails NewClient with a typed error naming the cause, on both
// handlers, without waiting for DialTimeout.
func TestTLSMisconfigured(t *testing.T) {
	c := testcluster.Shared(t, testcluster.KRaftSecured)
	m := c.TLS()
	other, err := testcerts.NewCA("another CA")
	require.NoError(t, err)
	b := c.Brokers()[0]
	cases := []struct {
		name  string
		addr  string
		tls   *tls.Config
		check func(t *testing.T, err error)
	}{
		{"TLSToPlaintextPort", b.Addr(), m.ClientConfig(false), func(t *testing.T, err error) {
			// The broker reads the ClientHello as an oversized request and hangs up.
			var de *handler.DialError
			assert.True(t, errors.As(err, &de), "a failed handshake fails the dial: %v", err)
			assert.True(t, errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET), "%v", err)
		}},
		{"PlaintextToSSLPort", b.ListenerAddr(testcluster.ListenerSSL), nil, func(t *testing.T, err error) {
			// The broker refuses the plaintext request with a TLS alert.
			var ce *handler.ConnError
			assert.True(t, errors.As(err, &ce), "%v", err)
			assert.ErrorIs(t, err, handler.ErrTLSRecord)
		}},
		{"MTLSWithoutCert", b.ListenerAddr(testcluster.ListenerMTLS), m.ClientConfig(false), func(t *testing.T, err error) {
			var oe *net.OpError
			require.True(t, errors.As(err, &oe), "the broker's alert: %v", err)
			assert.Equal(t, "remote error", oe.Op)
		}},
		{"WrongCA", b.ListenerAddr(testcluster.ListenerSSL), &tls.Config{RootCAs: other.Pool()}, func(t *testing.T, err error) {
			var ua x509.UnknownAuthorityError
			assert.True(t, errors.As(err, &ua), "%v", err)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			forEachHandler(t, func(t *testing.T, h handler.Handler) {
				ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
				defer cancel()
				cl, err := NewClient(ctx, Config{Hosts: []string{tc.addr}, TLS: tc.tls, Handler: h,
					DialTimeout: 30 * time.Second, Logger: testLogger()})
				if cl != nil {
					cl.Close()
				}
				require.Error(t, err)
				t.Logf("%v", err)
				assert.ErrorIs(t, err, ErrNoBrokersAvailable)
				assert.NotErrorIs(t, err, context.DeadlineExceeded, "a clear answer, not a timeout")
				tc.check(t, err)
			})
		})
	}
}
