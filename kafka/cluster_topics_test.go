package kafka

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/internal/testcluster"
	"github.com/gregorkafka/gregor/protocol"
)

func TestLookupBackoff(t *testing.T) {
	var b lookupBackoff
	var waits []time.Duration
	var sum time.Duration
	for {
		d, ok := b.wait(topicCreateWait)
		if !ok {
			break
		}
		require.Positive(t, d)
		waits = append(waits, d)
		sum += d
	}
	assert.Equal(t, topicLookupBackoff, waits[0], "the first retry comes soon")
	assert.Equal(t, 2*topicLookupBackoff, waits[1], "then the waits double")
	for _, d := range waits {
		assert.LessOrEqual(t, d, topicLookupMaxBackoff)
	}
	assert.Equal(t, topicCreateWait, sum, "the waits add up to the bound")
	_, ok := b.wait(topicCreateWait)
	assert.False(t, ok, "no wait once the bound is used up")
}

// autoCreateKinds are the brokers auto-creation is tested on: Kafka 4
// (KRaft) answers UNKNOWN_TOPIC_OR_PARTITION while it creates the topic,
// Kafka 3.9 in ZooKeeper mode LEADER_NOT_AVAILABLE.
var autoCreateKinds = []testcluster.Config{testcluster.KRaftSingle, testcluster.ZooKeeperSingle}

func TestTopicAutoCreated(t *testing.T) {
	for _, kind := range autoCreateKinds {
		t.Run(kind.Name(), func(t *testing.T) {
			c := testcluster.Shared(t, kind) // brokers allow auto-creation
			forEachHandler(t, func(t *testing.T, h handler.Handler) {
				ctx := testCtx(t)
				cl := newTestClient(t, ctx, h, Config{Hosts: c.Bootstrap(), AutoCreateTopics: true})
				name := uniqueTopic(t, "autocreated")
				topic, err := cl.Topic(ctx, name)
				require.NoError(t, err)
				assert.Equal(t, name, topic.Name())
				require.Len(t, topic.Partitions(), 1, "num.partitions of the test brokers")
				assert.NotNil(t, topic.Partitions()[0].Leader())
				require.NoError(t, cl.Cluster().DeleteTopics(ctx, name))
			})
		})
	}
}

func TestTopicAutoCreateRefused(t *testing.T) {
	for _, kind := range autoCreateKinds {
		t.Run(kind.Name(), func(t *testing.T) {
			kind.BrokerProps = map[string]string{"auto.create.topics.enable": "false"}
			c := testcluster.ForTest(t, kind)
			forEachHandlerParallel(t, func(t *testing.T, h handler.Handler) {
				ctx := testCtx(t)
				cl := newTestClient(t, ctx, h, Config{Hosts: c.Bootstrap(), AutoCreateTopics: true})
				name := uniqueTopic(t, "refused")
				_, err := cl.Topic(ctx, name)
				var te *TopicError
				require.ErrorAs(t, err, &te)
				assert.Equal(t, name, te.Topic)
				assert.ErrorIs(t, err, protocol.ErrUnknownTopicOrPartition)
				assert.ErrorIs(t, err, ErrUnknownTopic)

				names, err := cl.Topics(ctx)
				require.NoError(t, err)
				assert.NotContains(t, names, name, "the broker created nothing")
			})
		})
	}
}
