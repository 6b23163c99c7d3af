package kafka

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/gregorkafka/gregor/protocol"
)

// GroupOffsets is what a consumer group has committed: topic → partition →
// offset and metadata. A partition the group has no commit for is absent
// (never present with Offset -1), as is a topic with none.
type GroupOffsets map[string]map[int32]CommittedOffset

func (o GroupOffsets) set(topic string, partition int32, co CommittedOffset) {
	if o[topic] == nil {
		o[topic] = map[int32]CommittedOffset{}
	}
	o[topic][partition] = co
}

// FetchGroupOffsets returns the offsets the consumer group has committed
// for the given topics' partitions (pykafka's
// fetch_consumer_group_offsets). Nil topics means every topic the group
// has committed offsets for; a topic listed with no partitions means all
// of its partitions the group has committed. Partitions without a commit
// are absent from the result; so are those of a deleted topic. A group the
// coordinator does not know has no offsets: the result is empty, not an
// error.
//
// It runs on the group's coordinator and retries, looking the coordinator
// up again, while that moved or is loading the group; when it never
// settles the error is a *CoordinatorError. A partition the coordinator
// refused is a *PartitionError.
func (c *Cluster) FetchGroupOffsets(ctx context.Context, group string, topics map[string][]int32) (GroupOffsets, error) {
	if topics != nil && len(topics) == 0 {
		return GroupOffsets{}, nil
	}
	ask := topics
	for _, parts := range topics {
		if len(parts) == 0 { // "all its partitions": ask for everything, keep what was named
			ask = nil
			break
		}
	}
	req := offsetFetchRequest(group, ask)
	var out GroupOffsets
	err := c.onCoordinator(ctx, group, func(b *Broker) error {
		resp, err := b.OffsetFetch(ctx, req)
		if err != nil {
			return err
		}
		out, err = readGroupOffsets(resp, group)
		return err
	})
	if err != nil {
		return nil, groupOpError("fetching offsets of group", group, err)
	}
	if ask == nil && topics != nil {
		out = out.only(topics)
	}
	return out, nil
}

// only keeps the topics named, and of those listing partitions only those
// partitions.
func (o GroupOffsets) only(topics map[string][]int32) GroupOffsets {
	out := GroupOffsets{}
	for topic, parts := range topics {
		for id, co := range o[topic] {
			if len(parts) == 0 || slices.Contains(parts, id) {
				out.set(topic, id, co)
			}
		}
	}
	return out
}

// CommitGroupOffsets stores offsets (topic → partition → the next offset
// the group should read) for the consumer group as an administrator does
// (pykafka's commit_consumer_group_offsets): with no member id and
// generation -1, which the coordinator accepts only while the group has no
// live members. When it refuses for that reason the error is a
// *GroupHasMembersError wrapping the broker's error; other refusals are
// *PartitionErrors. Retries and coordinator errors are as in
// FetchGroupOffsets.
func (c *Cluster) CommitGroupOffsets(ctx context.Context, group string, offsets map[string]map[int32]int64) error {
	if len(offsets) == 0 {
		return nil
	}
	meta := ""
	req := offsetCommitRequest(group, -1, "", offsets, &meta)
	err := c.onCoordinator(ctx, group, func(b *Broker) error {
		resp, err := b.OffsetCommit(ctx, req)
		if err != nil {
			return err
		}
		var errs []error
		results := commitResults(resp)
		for _, topic := range slices.Sorted(maps.Keys(results)) {
			for _, id := range slices.Sorted(maps.Keys(results[topic])) {
				if perr := results[topic][id]; perr != nil {
					errs = append(errs, &PartitionError{Topic: topic, Partition: id, Err: perr})
				}
			}
		}
		return errors.Join(errs...)
	})
	for _, code := range []error{protocol.ErrUnknownMemberID, protocol.ErrIllegalGeneration, protocol.ErrRebalanceInProgress} {
		if errors.Is(err, code) {
			return &GroupHasMembersError{Group: group, Err: code}
		}
	}
	if err != nil {
		return groupOpError("committing offsets of group", group, err)
	}
	return nil
}

// groupOpError gives err the operation ("describing group") and the group
// as context, except for a *CoordinatorError, which names the group
// already.
func groupOpError(op, group string, err error) error {
	var ce *CoordinatorError
	if errors.As(err, &ce) {
		return err
	}
	return fmt.Errorf("kafka: %s %q: %w", op, group, err)
}

// offsetFetchRequest asks for the group's offsets of topics' partitions,
// or of every topic when topics is nil. Versions up to 7 send GroupID and
// Topics, later ones Groups; the encoder writes whichever the negotiated
// version has, so both are filled.
func offsetFetchRequest(group string, topics map[string][]int32) *protocol.OffsetFetchRequest {
	req := protocol.NewOffsetFetchRequest()
	req.GroupID = group
	g := protocol.OffsetFetchRequestGroup{GroupID: group, MemberEpoch: -1}
	for _, name := range slices.Sorted(maps.Keys(topics)) {
		req.Topics = append(req.Topics, protocol.OffsetFetchRequestTopic{Name: name, PartitionIndexes: topics[name]})
		g.Topics = append(g.Topics, protocol.OffsetFetchRequestTopics{Name: name, PartitionIndexes: topics[name]})
	}
	req.Groups = []protocol.OffsetFetchRequestGroup{g}
	return req
}

// fetchedOffset is one partition of an OffsetFetch answer, whichever
// layout carried it.
type fetchedOffset struct {
	topic     string
	partition int32
	offset    int64 // -1: no commit
	metadata  *string
	code      int16
}

// fetchedOffsets lists the partitions of the group's OffsetFetch answer:
// from the top-level topics (v0–7) or from the group's entry in Groups
// (v8+). A group-level error code is returned as the error.
func fetchedOffsets(resp *protocol.OffsetFetchResponse, group string) ([]fetchedOffset, error) {
	var out []fetchedOffset
	if len(resp.Groups) == 0 { // up to v7
		if err := protocol.ErrorForCode(resp.ErrorCode); err != nil {
			return nil, err
		}
		for _, t := range resp.Topics {
			for _, p := range t.Partitions {
				out = append(out, fetchedOffset{t.Name, p.PartitionIndex, p.CommittedOffset, p.Metadata, p.ErrorCode})
			}
		}
		return out, nil
	}
	for i := range resp.Groups {
		g := &resp.Groups[i]
		if g.GroupID != group {
			continue
		}
		if err := protocol.ErrorForCode(g.ErrorCode); err != nil {
			return nil, err
		}
		for _, t := range g.Topics {
			for _, p := range t.Partitions {
				out = append(out, fetchedOffset{t.Name, p.PartitionIndex, p.CommittedOffset, p.Metadata, p.ErrorCode})
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("kafka: OffsetFetch response does not mention group %q", group)
}

// readGroupOffsets reads FetchGroupOffsets' result from an OffsetFetch
// answer: no commit, a deleted topic (UNKNOWN_TOPIC_OR_PARTITION) and an
// unknown group (GROUP_ID_NOT_FOUND) all mean no offsets; other partition
// errors are *PartitionErrors.
func readGroupOffsets(resp *protocol.OffsetFetchResponse, group string) (GroupOffsets, error) {
	fetched, err := fetchedOffsets(resp, group)
	if errors.Is(err, protocol.ErrGroupIDNotFound) {
		return GroupOffsets{}, nil
	}
	if err != nil {
		return nil, err
	}
	out := GroupOffsets{}
	var errs []error
	for _, f := range fetched {
		switch err := protocol.ErrorForCode(f.code); {
		case errors.Is(err, protocol.ErrUnknownTopicOrPartition):
		case err != nil:
			errs = append(errs, &PartitionError{Topic: f.topic, Partition: f.partition, Err: err})
		case f.offset >= 0:
			co := CommittedOffset{Offset: f.offset}
			if f.metadata != nil {
				co.Metadata = *f.metadata
			}
			out.set(f.topic, f.partition, co)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// offsetCommitRequest commits offsets (topic → partition → offset) for the
// group as member of generation, every partition with metadata meta.
// Generation -1 and no member make an administrative commit.
func offsetCommitRequest(group string, generation int32, member string, offsets map[string]map[int32]int64, meta *string) *protocol.OffsetCommitRequest {
	req := protocol.NewOffsetCommitRequest()
	req.GroupID = group
	req.GenerationIDOrMemberEpoch = generation
	req.MemberID = member
	for _, topic := range slices.Sorted(maps.Keys(offsets)) {
		rt := protocol.OffsetCommitRequestTopic{Name: topic}
		for _, id := range slices.Sorted(maps.Keys(offsets[topic])) {
			rt.Partitions = append(rt.Partitions, protocol.OffsetCommitRequestPartition{PartitionIndex: id,
				CommittedOffset: offsets[topic][id], CommittedLeaderEpoch: -1, CommitTimestamp: -1, CommittedMetadata: meta})
		}
		req.Topics = append(req.Topics, rt)
	}
	return req
}

// commitResults maps each partition of an OffsetCommit answer to its
// outcome: nil for a commit stored.
func commitResults(resp *protocol.OffsetCommitResponse) map[string]map[int32]error {
	out := map[string]map[int32]error{}
	for i := range resp.Topics {
		rt := &resp.Topics[i]
		if out[rt.Name] == nil {
			out[rt.Name] = map[int32]error{}
		}
		for _, rp := range rt.Partitions {
			out[rt.Name][rp.PartitionIndex] = protocol.ErrorForCode(rp.ErrorCode)
		}
	}
	return out
}
