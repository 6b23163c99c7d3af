package kafka

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/gregorkafka/gregor/protocol"
)

// CommittedOffset is what a consumer group has stored for one partition.
type CommittedOffset struct {
	// Offset is the next offset the group will consume: one past the last
	// message consumed before the commit. -1 means the group has none.
	Offset int64
	// Metadata is the string stored with the offset. gregor stores
	// pykafka's: {"consumer_id":"<member id>","hostname":"<host>"}.
	Metadata string
}

// CommitOffsets stores, in the consumer group, the position of every
// partition the consumer has started: the offset of the next message it
// will deliver (HeldOffsets()+1), so a consumer of the same group that
// starts later resumes right after the last message delivered here. A
// failure is retried OffsetsCommitMaxRetries times, OffsetsChannelBackoff
// apart, finding the coordinator again when it moved. Without a
// ConsumerGroup it returns ErrNoConsumerGroup. It may be called after Stop.
func (c *SimpleConsumer) CommitOffsets(ctx context.Context) error {
	return c.commit(ctx, false)
}

// commit commits every started partition, or with onlyChanged those whose
// position moved since their last commit.
func (c *SimpleConsumer) commit(ctx context.Context, onlyChanged bool) error {
	return c.commitPartitions(ctx, c.Partitions(), onlyChanged)
}

func (c *SimpleConsumer) commitPartitions(ctx context.Context, ids []int32, onlyChanged bool) error {
	group := c.cfg.ConsumerGroup
	if group == "" {
		return ErrNoConsumerGroup
	}
	generation, member := c.generation()
	meta := commitMetadata(member)

	pending := c.toCommit(ids, onlyChanged)
	if len(pending) == 0 {
		return nil
	}

	// A consumer retries its commits on its own terms rather than through
	// Cluster.onCoordinator: pykafka's options (OffsetsCommitMaxRetries,
	// OffsetsChannelBackoff) say how often and how far apart, every
	// retriable error counts, and only the partitions that failed go again.
	var lastErr error
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if err := c.h.Sleep(ctx, c.cfg.OffsetsChannelBackoff); err != nil {
				return errors.Join(lastErr, err)
			}
		}
		offsets := map[string]map[int32]int64{c.topic.name: pending}
		// A retry carries the generation current now: a consumer-protocol
		// member's epoch may have moved on (STALE_MEMBER_EPOCH).
		generation, member = c.generation()
		req := offsetCommitRequest(group, generation, member, offsets, &meta)
		req.GroupInstanceID = c.cfg.groupInstanceID

		results, err := c.sendCommit(ctx, req)
		if err != nil {
			lastErr = fmt.Errorf("kafka: committing offsets of group %q: %w", group, err)
			c.cl.invalidateCoordinatorOn(group, err)
			if ctx.Err() != nil || !retriableOffsetError(err) || attempt >= c.cfg.OffsetsCommitMaxRetries {
				return lastErr
			}
			c.log.Debug("kafka: offset commit failed, retrying", "error", err)
			continue
		}
		var errs []error
		retry := false
		c.mu.Lock()
		for id, off := range pending {
			perr, ok := results[id]
			switch {
			case !ok:
				perr = errors.New("kafka: partition missing from OffsetCommit response")
			case perr == nil:
				c.byID[id].committed = off
				delete(pending, id)
				continue
			}
			retry = retry || retriableOffsetError(perr) || errors.Is(perr, protocol.ErrStaleMemberEpoch)
			errs = append(errs, &PartitionError{Topic: c.topic.name, Partition: id, Err: perr})
		}
		c.mu.Unlock()
		if len(errs) == 0 {
			return nil
		}
		lastErr = errors.Join(errs...)
		for _, e := range errs {
			c.cl.invalidateCoordinatorOn(group, e)
		}
		if !retry || attempt >= c.cfg.OffsetsCommitMaxRetries {
			return lastErr
		}
	}
}

// toCommit returns the offset to commit for each of the partitions that
// has a position: the position itself, the next offset to deliver. With
// onlyChanged, partitions whose position was committed already are left
// out.
func (c *SimpleConsumer) toCommit(ids []int32, onlyChanged bool) map[int32]int64 {
	out := map[int32]int64{}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range ids {
		op := c.byID[id]
		if op.position >= 0 && (!onlyChanged || op.position != op.committed) {
			out[id] = op.position
		}
	}
	return out
}

// sendCommit sends req to the group's coordinator and returns each
// partition's outcome.
func (c *SimpleConsumer) sendCommit(ctx context.Context, req *protocol.OffsetCommitRequest) (map[int32]error, error) {
	coord, err := c.cl.GroupCoordinator(ctx, req.GroupID)
	if err != nil {
		return nil, err
	}
	resp, err := coord.OffsetCommit(ctx, req)
	if err != nil {
		return nil, err
	}
	out := commitResults(resp)[c.topic.name]
	if out == nil {
		out = map[int32]error{}
	}
	return out, nil
}

// FetchOffsets returns the offsets the consumer group has committed for
// the consumer's partitions (pykafka's fetch_offsets). It does not move
// the consumer. Failures are retried as in CommitOffsets. Without a
// ConsumerGroup it returns ErrNoConsumerGroup.
func (c *SimpleConsumer) FetchOffsets(ctx context.Context) (map[int32]CommittedOffset, error) {
	return c.fetchOffsets(ctx, c.Partitions())
}

func (c *SimpleConsumer) fetchOffsets(ctx context.Context, ids []int32) (map[int32]CommittedOffset, error) {
	group := c.cfg.ConsumerGroup
	if group == "" {
		return nil, ErrNoConsumerGroup
	}
	// Retried as commits are, under the consumer's own options (see
	// commitPartitions).
	var lastErr error
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if err := c.h.Sleep(ctx, c.cfg.OffsetsChannelBackoff); err != nil {
				return nil, errors.Join(lastErr, err)
			}
		}
		out, err := c.sendOffsetFetch(ctx, group, ids)
		if err == nil {
			return out, nil
		}
		lastErr = fmt.Errorf("kafka: fetching offsets of group %q: %w", group, err)
		c.cl.invalidateCoordinatorOn(group, err)
		if ctx.Err() != nil || !retriableOffsetError(err) || attempt >= c.cfg.OffsetsCommitMaxRetries {
			return nil, lastErr
		}
		c.log.Debug("kafka: offset fetch failed, retrying", "error", err)
	}
}

func (c *SimpleConsumer) sendOffsetFetch(ctx context.Context, group string, ids []int32) (map[int32]CommittedOffset, error) {
	coord, err := c.cl.GroupCoordinator(ctx, group)
	if err != nil {
		return nil, err
	}
	resp, err := coord.OffsetFetch(ctx, consumerOffsetFetchRequest(group, c.topic.name, ids))
	if err != nil {
		return nil, err
	}
	fetched, err := fetchedOffsets(resp, group)
	if err != nil {
		return nil, err
	}

	out := make(map[int32]CommittedOffset, len(ids))
	var errs []error
	for _, f := range fetched {
		if f.topic != c.topic.name {
			continue
		}
		if err := protocol.ErrorForCode(f.code); err != nil {
			errs = append(errs, &PartitionError{Topic: c.topic.name, Partition: f.partition, Err: err})
			continue
		}
		co := CommittedOffset{Offset: max(f.offset, -1)}
		if f.metadata != nil {
			co.Metadata = *f.metadata
		}
		out[f.partition] = co
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	for _, id := range ids {
		if _, ok := out[id]; !ok {
			out[id] = CommittedOffset{Offset: -1}
		}
	}
	return out, nil
}

// consumerOffsetFetchRequest asks for the committed offsets a consumer
// starts from. It requires stable offsets, as the Java consumer does: a
// Kafka 4 coordinator otherwise answers from the state its log's high
// watermark covers, and a coordinator that has just taken over after a
// failure may not have advanced that past the last commits the old one
// acknowledged, so a member restarting its partitions would be sent back
// to an earlier commit and deliver again what it had committed. Required,
// the answer waits for that state; pending transactional commits are
// refused (UNSTABLE_OFFSET_COMMIT, retriable) until they are decided.
func consumerOffsetFetchRequest(group, topic string, ids []int32) *protocol.OffsetFetchRequest {
	req := offsetFetchRequest(group, map[string][]int32{topic: ids})
	req.RequireStable = true
	return req
}

// retriableOffsetError reports whether an offset commit or fetch that
// failed with err may succeed when tried again: the coordinator moved or
// is loading, the connection broke, or the broker says so. Generation and
// membership errors are final: the caller's view of the group is stale.
func retriableOffsetError(err error) bool {
	var kerr *Error
	if errors.As(err, &kerr) {
		return kerr.Retriable || coordinatorMoved(err)
	}
	return !errors.Is(err, ErrClosed) // lookups and transport failures
}

// commitMetadata is the metadata pykafka stores with its commits.
func commitMetadata(memberID string) string {
	host, _ := os.Hostname()
	b, _ := json.Marshal(struct {
		ConsumerID string `json:"consumer_id"`
		Hostname   string `json:"hostname"`
	}{memberID, host})
	return string(b)
}

// generation returns the group generation (or member epoch) and member id
// commits carry: -1 and "" outside a group generation.
func (c *SimpleConsumer) generation() (int32, string) {
	if c.cfg.generation == nil {
		return -1, ""
	}
	return c.cfg.generation()
}
