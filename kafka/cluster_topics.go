package kafka

import (
	"context"
	"sort"
	"time"

	"github.com/gregorkafka/gregor/protocol"
)

// Topic lookups retry while a topic is being created (auto-created, or
// just created by an admin request): brokers answer LEADER_NOT_AVAILABLE
// until its partitions have leaders, and Kafka 4 answers
// UNKNOWN_TOPIC_OR_PARTITION to the request that triggers an
// auto-creation.
const (
	topicLookupAttempts   = 10
	topicLookupBackoff    = 50 * time.Millisecond
	topicLookupMaxBackoff = 500 * time.Millisecond
)

// Topic returns the topic called name. A topic the client already knows is
// returned at once, without a request; others are looked up (and, with
// Config.AutoCreateTopics, created where the broker allows it). A topic the
// cluster does not have gives a *TopicError wrapping ErrUnknownTopic; an
// internal topic while Config.IncludeInternalTopics is false gives one
// wrapping ErrInternalTopic.
//
// The same *Topic is returned for the same name for the client's lifetime;
// it is kept fresh by metadata refreshes.
func (c *Cluster) Topic(ctx context.Context, name string) (*Topic, error) {
	if c.closed.Load() {
		return nil, ErrClosed
	}
	if name == "" {
		return nil, &TopicError{Topic: name, Err: protocol.ErrInvalidTopicException}
	}
	if t := c.state.Load().topics[name]; t != nil {
		return c.checkVisible(t)
	}
	names := []string{name}
	var lastErr error
	backoff := topicLookupBackoff
	for attempt := 0; attempt < topicLookupAttempts; attempt++ {
		if attempt > 0 {
			if err := c.h.Sleep(ctx, backoff); err != nil {
				return nil, &TopicError{Topic: name, Err: err}
			}
			backoff = min(2*backoff, topicLookupMaxBackoff)
		}
		md, err := c.metadata(ctx, metadataRequest(names, c.cfg.AutoCreateTopics), false)
		if err != nil {
			return nil, &TopicError{Topic: name, Err: err}
		}
		mt := findTopic(md, name)
		if mt == nil {
			lastErr = ErrUnknownTopic // a broker must answer for every topic asked
			continue
		}
		last := attempt == topicLookupAttempts-1
		switch err := protocol.ErrorForCode(mt.ErrorCode); {
		case err == nil && len(mt.Partitions) > 0,
			// Still being created; after the last try, take what exists.
			err == protocol.ErrLeaderNotAvailable && len(mt.Partitions) > 0 && last:
			if t := c.state.Load().topics[name]; t != nil {
				return c.checkVisible(t)
			}
			lastErr = ErrUnknownTopic // deleted again since the answer
		case err == nil, err == protocol.ErrLeaderNotAvailable:
			lastErr = protocol.ErrLeaderNotAvailable
		case err == protocol.ErrUnknownTopicOrPartition && c.cfg.AutoCreateTopics:
			lastErr = err // maybe being created; a broker that refuses keeps saying so
		default:
			return nil, &TopicError{Topic: name, Err: err}
		}
	}
	return nil, &TopicError{Topic: name, Err: lastErr}
}

func (c *Cluster) checkVisible(t *Topic) (*Topic, error) {
	if !c.visible(t) {
		return nil, &TopicError{Topic: t.name, Err: ErrInternalTopic}
	}
	return t, nil
}

func findTopic(md *protocol.MetadataResponse, name string) *protocol.MetadataResponseTopic {
	for i := range md.Topics {
		if n := md.Topics[i].Name; n != nil && *n == name {
			return &md.Topics[i]
		}
	}
	return nil
}

// TopicNames lists the cluster's topics, sorted; internal topics only with
// Config.IncludeInternalTopics. It fetches metadata for every topic and
// brings the model up to date with it: topics created elsewhere become
// known, deleted ones are marked so.
func (c *Cluster) TopicNames(ctx context.Context) ([]string, error) {
	md, err := c.metadata(ctx, metadataRequest(nil, false), true)
	if err != nil {
		return nil, err
	}
	var names []string
	for i := range md.Topics {
		mt := &md.Topics[i]
		if mt.Name == nil || mt.ErrorCode != 0 && len(mt.Partitions) == 0 {
			continue
		}
		if mt.IsInternal && !c.cfg.IncludeInternalTopics {
			continue
		}
		names = append(names, *mt.Name)
	}
	sort.Strings(names)
	return names, nil
}
