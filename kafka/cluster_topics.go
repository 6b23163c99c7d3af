package kafka

import (
	"context"
	"sort"
	"time"

	"github.com/gregorkafka/gregor/protocol"
)

// Topic lookups retry while a topic is being created (auto-created, or
// just created by an admin request). Kafka 3.9 in ZooKeeper mode answers
// LEADER_NOT_AVAILABLE until the partitions have leaders; Kafka 4 answers
// UNKNOWN_TOPIC_OR_PARTITION until the controller's record reaches the
// broker, which is also what a broker that refuses auto-creation answers
// for good. Creation takes some tens to a few hundred milliseconds, so the
// waits start short and double. Their sum is bounded by topicCreateWait,
// for the ambiguous answer too: on a loaded cluster creation can take
// seconds, and reporting a topic that is about to exist as unknown is worse
// than reporting a refusal late.
const (
	topicLookupBackoff    = 10 * time.Millisecond
	topicLookupMaxBackoff = 200 * time.Millisecond
	topicCreateWait       = 3 * time.Second
)

// lookupBackoff is the wait schedule of one topic lookup.
type lookupBackoff struct {
	next   time.Duration // zero before the first wait
	waited time.Duration
}

// wait returns how long to sleep before the next try, or false once the
// waits so far add up to limit. The last wait is cut to end at limit.
func (b *lookupBackoff) wait(limit time.Duration) (time.Duration, bool) {
	if b.waited >= limit {
		return 0, false
	}
	if b.next == 0 {
		b.next = topicLookupBackoff
	}
	d := min(b.next, limit-b.waited)
	b.waited += d
	b.next = min(2*b.next, topicLookupMaxBackoff)
	return d, true
}

// Topic returns the topic called name. A topic the client already knows is
// returned at once, without a request; others are looked up (and, with
// Config.AutoCreateTopics, created where the broker allows it). A topic the
// cluster does not have gives a *TopicError wrapping ErrUnknownTopic; an
// internal topic while Config.IncludeInternalTopics is false gives one
// wrapping ErrInternalTopic.
//
// A topic being created is waited for, up to 3s in all: while the broker
// reports it without leaders (a topic with partitions is then returned as
// it is) and, with Config.AutoCreateTopics, while the broker does not
// report it yet. A broker that refuses auto-creation
// (auto.create.topics.enable=false) is therefore reported as
// ErrUnknownTopic after about 3s; ctx may end the wait sooner.
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
	var backoff lookupBackoff
	for {
		md, err := c.metadata(ctx, metadataRequest(names, c.cfg.AutoCreateTopics), false)
		if err != nil {
			return nil, &TopicError{Topic: name, Err: err}
		}
		mt := findTopic(md, name)
		// Why this answer does not do yet.
		retryErr := error(ErrUnknownTopic)
		if mt != nil { // else the broker broke the protocol; ask again
			switch err := protocol.ErrorForCode(mt.ErrorCode); {
			case err == nil && len(mt.Partitions) > 0:
				if t := c.state.Load().topics[name]; t != nil {
					return c.checkVisible(t)
				}
				// deleted again since the answer
			case err == nil, err == protocol.ErrLeaderNotAvailable:
				retryErr = protocol.ErrLeaderNotAvailable
			case err == protocol.ErrUnknownTopicOrPartition && c.cfg.AutoCreateTopics:
				// maybe being created; a broker that refuses keeps saying so
			default:
				return nil, &TopicError{Topic: name, Err: err}
			}
		}
		d, ok := backoff.wait(topicCreateWait)
		if !ok {
			// Still being created: take what exists.
			if retryErr == protocol.ErrLeaderNotAvailable && len(mt.Partitions) > 0 {
				if t := c.state.Load().topics[name]; t != nil {
					return c.checkVisible(t)
				}
			}
			return nil, &TopicError{Topic: name, Err: retryErr}
		}
		if err := c.h.Sleep(ctx, d); err != nil {
			return nil, &TopicError{Topic: name, Err: err}
		}
	}
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
	return c.topicNames(ctx, c.cfg.IncludeInternalTopics)
}

// topicNames is TopicNames, with internal topics when internal is set.
func (c *Cluster) topicNames(ctx context.Context, internal bool) ([]string, error) {
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
		if mt.IsInternal && !internal {
			continue
		}
		names = append(names, *mt.Name)
	}
	sort.Strings(names)
	return names, nil
}
