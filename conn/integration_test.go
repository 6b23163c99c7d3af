package conn

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/internal/testcluster"
	"github.com/gregorkafka/gregor/protocol"
)

// Tests against real brokers. Shared clusters serve the read-only tests;
// the one that kills a broker starts its own and reuses it for both
// handlers.

func TestIntegrationNegotiatedVersions(t *testing.T) {
	for _, kind := range []testcluster.Config{testcluster.KRaftSingle, testcluster.ZooKeeperSingle} {
		t.Run(kind.Name(), func(t *testing.T) {
			cl := testcluster.Shared(t, kind)
			addr := cl.Brokers()[0].Addr()
			eachHandler(t, func(t *testing.T, h handler.Handler) {
				c := dialed(t, h, addr, Config{})
				v := c.Versions()
				require.NotNil(t, v)
				for key, atLeast := range map[int16]int16{
					protocol.APIKeyAPIVersions: 3,
					protocol.APIKeyMetadata:    12,
					protocol.APIKeyFetch:       16,
					protocol.APIKeyProduce:     9,
				} {
					got, err := v.Pick(key)
					require.NoError(t, err)
					assert.GreaterOrEqual(t, got, atLeast, protocol.APIName(key))
				}
				// What the broker advertised agrees with the harness's own
				// negotiation.
				want, err := cl.APIVersions(guarded(t), cl.Brokers()[0].ID)
				require.NoError(t, err)
				for _, k := range protocol.APIKeys() {
					wv, wok := want.Version(k)
					gv, gok := v.Version(k)
					assert.Equal(t, wok, gok, protocol.APIName(k))
					assert.Equal(t, wv, gv, protocol.APIName(k))
				}
			})
		})
	}
}

func TestIntegrationPipelinedBurst(t *testing.T) {
	for _, kind := range []testcluster.Config{testcluster.KRaftSingle, testcluster.ZooKeeperSingle} {
		t.Run(kind.Name(), func(t *testing.T) {
			cl := testcluster.Shared(t, kind)
			addr := cl.Brokers()[0].Addr()
			eachHandler(t, func(t *testing.T, h handler.Handler) {
				c := dialed(t, h, addr, Config{MaxInFlight: 64})
				ctx := guarded(t)
				const total, senders = 400, 4
				futures := make([]*ResponseFuture, total)
				var wg sync.WaitGroup
				errs := make(chan error, senders)
				for s := range senders {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for i := s; i < total; i += senders {
							var req protocol.Request = apiVersionsRequest()
							if i%2 == 1 {
								req = protocol.NewMetadataRequest()
							}
							f, err := c.Request(ctx, req)
							if err != nil {
								errs <- err
								return
							}
							futures[i] = f
						}
					}()
				}
				wg.Wait()
				close(errs)
				for err := range errs {
					require.NoError(t, err)
				}
				for i, f := range futures {
					resp, err := f.Get(ctx)
					require.NoError(t, err)
					switch r := resp.(type) {
					case *protocol.APIVersionsResponse:
						assert.Zero(t, i%2)
						assert.Zero(t, r.ErrorCode)
						assert.NotEmpty(t, r.APIKeys)
					case *protocol.MetadataResponse:
						assert.Equal(t, 1, i%2)
						require.Len(t, r.Brokers, 1)
						assert.Equal(t, cl.Brokers()[0].ID, r.Brokers[0].NodeID)
					default:
						t.Fatalf("unexpected %T", resp)
					}
				}
				assert.True(t, c.Connected())
			})
		})
	}
}

// apiVersionsRequest is an ApiVersions request a real broker accepts at
// v3+, which validates the software name and version.
func apiVersionsRequest() *protocol.APIVersionsRequest {
	return &protocol.APIVersionsRequest{ClientSoftwareName: "gregor-test", ClientSoftwareVersion: "1"}
}

// longPoll returns a Fetch the broker holds for a minute: an empty partition
// and MinBytes 1.
func longPoll(t *testing.T, c *BrokerConnection, topic string) *protocol.FetchRequest {
	md := protocol.NewMetadataRequest()
	md.Topics = []protocol.MetadataRequestTopic{{Name: &topic}}
	resp, err := c.RoundTrip(guarded(t), md)
	require.NoError(t, err)
	mr := resp.(*protocol.MetadataResponse)
	require.Len(t, mr.Topics, 1)
	require.Zero(t, mr.Topics[0].ErrorCode)

	f := protocol.NewFetchRequest()
	f.MaxWaitMs = int32(time.Minute / time.Millisecond)
	f.MinBytes = 1
	p := protocol.FetchRequestPartition{Partition: 0, CurrentLeaderEpoch: -1, LastFetchedEpoch: -1, LogStartOffset: -1, PartitionMaxBytes: 1 << 20}
	f.Topics = []protocol.FetchRequestTopic{{Topic: topic, TopicID: mr.Topics[0].TopicID, Partitions: []protocol.FetchRequestPartition{p}}}
	return f
}

func TestIntegrationBrokerKilledMidFlight(t *testing.T) {
	cl := testcluster.ForTest(t, testcluster.KRaftSingle)
	broker := cl.Brokers()[0]
	const topic = "conn-killed-mid-flight"
	require.NoError(t, cl.CreateTopic(guarded(t), testcluster.TopicSpec{Name: topic}))

	eachHandler(t, func(t *testing.T, h handler.Handler) {
		ctx := guarded(t)
		// Only the dead socket can fail these requests within the hang
		// guard: the request timeout and the broker's wait are far longer.
		c := dialed(t, h, broker.Addr(), Config{RequestTimeout: 10 * time.Minute})
		fetch := longPoll(t, c, topic)
		var futures []*ResponseFuture
		for i := range 20 {
			var req protocol.Request = fetch
			if i%2 == 1 {
				req = protocol.NewMetadataRequest()
			}
			f, err := c.Request(ctx, req)
			require.NoError(t, err)
			futures = append(futures, f)
		}
		require.False(t, futures[0].Done(), "the long poll is held by the broker")

		require.NoError(t, cl.KillBroker(broker.ID))
		for _, f := range futures {
			_, err := f.Get(ctx)
			requireDisconnected(t, err, broker.Addr())
		}
		assert.False(t, c.Connected())
		_, err := c.Request(ctx, protocol.NewMetadataRequest())
		requireDisconnected(t, err, broker.Addr())

		require.NoError(t, cl.RestartBroker(ctx, broker.ID))
		require.NoError(t, c.Reconnect(ctx))
		assert.True(t, c.Connected())
		resp, err := c.RoundTrip(ctx, protocol.NewMetadataRequest())
		require.NoError(t, err)
		assert.Len(t, resp.(*protocol.MetadataResponse).Brokers, 1)
	})
}

func TestIntegrationReconnectAfterStop(t *testing.T) {
	// A clean stop (SIGTERM) rather than a crash: the broker closes its
	// sockets itself.
	cl := testcluster.ForTest(t, testcluster.KRaftSingle)
	broker := cl.Brokers()[0]
	eachHandler(t, func(t *testing.T, h handler.Handler) {
		ctx := guarded(t)
		c := dialed(t, h, broker.Addr(), Config{})
		require.NoError(t, cl.StopBroker(broker.ID))
		_, err := c.RoundTrip(ctx, protocol.NewMetadataRequest())
		requireDisconnected(t, err, broker.Addr())
		err = c.Reconnect(ctx)
		requireDisconnected(t, err, broker.Addr())

		require.NoError(t, cl.RestartBroker(ctx, broker.ID))
		require.NoError(t, c.Reconnect(ctx))
		for i := range 10 {
			resp, err := c.RoundTrip(ctx, apiVersionsRequest())
			require.NoError(t, err, fmt.Sprint("request ", i))
			assert.Zero(t, resp.(*protocol.APIVersionsResponse).ErrorCode)
		}
	})
}

// TestIntegrationCanceledWaitThenResponse checks, on a real broker, that a
// caller giving up does not disturb the FIFO: the held long poll's response
// is discarded when it arrives and later requests still match.
func TestIntegrationCanceledWaitThenResponse(t *testing.T) {
	cl := testcluster.Shared(t, testcluster.KRaftSingle)
	const topic = "conn-canceled-wait"
	require.NoError(t, cl.CreateTopic(guarded(t), testcluster.TopicSpec{Name: topic}))
	eachHandler(t, func(t *testing.T, h handler.Handler) {
		c := dialed(t, h, cl.Brokers()[0].Addr(), Config{})
		fetch := longPoll(t, c, topic)
		fetch.MaxWaitMs = 200
		f, err := c.Request(guarded(t), fetch)
		require.NoError(t, err)
		canceled, cancel := context.WithCancel(context.Background())
		cancel()
		_, err = f.Get(canceled)
		require.ErrorIs(t, err, context.Canceled)
		for range 5 {
			resp, err := c.RoundTrip(guarded(t), protocol.NewMetadataRequest())
			require.NoError(t, err)
			assert.Len(t, resp.(*protocol.MetadataResponse).Brokers, 1)
		}
		resp, err := f.Get(guarded(t))
		require.NoError(t, err)
		assert.Zero(t, resp.(*protocol.FetchResponse).ErrorCode)
	})
}
