package kafka

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gregorkafka/gregor/protocol"
)

// shareRetryBackoff is the pause after a heartbeat or ShareFetch that failed
// for a reason that passes (a moved coordinator, a lost connection).
const shareRetryBackoff = 200 * time.Millisecond

// shareLeaveEpoch is the member epoch of a ShareGroupHeartbeat that leaves.
const shareLeaveEpoch = -1

// heartbeatLoop keeps the member in its group for the consumer's life: one
// ShareGroupHeartbeat per interval the coordinator asks for, which also
// carries assignment changes.
func (c *ShareConsumer) heartbeatLoop(ctx context.Context) {
	defer c.hbDone.Set()
	for {
		c.mu.Lock()
		wait := c.hbInterval
		c.mu.Unlock()
		if err := c.h.Sleep(ctx, wait); err != nil {
			return
		}
		if err := c.heartbeat(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			var fatal *ShareGroupError
			if errors.As(err, &fatal) {
				c.fail(err)
				return
			}
			c.log.Debug("kafka: share group heartbeat failed, retrying", "group", c.cfg.Group, "error", err)
		}
	}
}

// heartbeat sends one ShareGroupHeartbeat and applies its answer. Errors
// that end the membership for good are *ShareGroupError.
func (c *ShareConsumer) heartbeat(ctx context.Context) error {
	c.mu.Lock()
	epoch := c.memberEpoch
	c.mu.Unlock()
	req := protocol.NewShareGroupHeartbeatRequest()
	req.GroupID = c.cfg.Group
	req.MemberID = c.memberID
	req.MemberEpoch = epoch
	if c.cfg.RackID != "" {
		rack := c.cfg.RackID
		req.RackID = &rack
	}
	if epoch == 0 {
		// The subscription goes with the join; later heartbeats leave it
		// null, meaning unchanged.
		req.SubscribedTopicNames = c.cfg.Topics
	}
	resp, err := c.sendHeartbeat(ctx, req)
	if err != nil {
		return err
	}
	switch kerr := protocol.ErrorForCode(resp.ErrorCode); {
	case kerr == nil:
	case errors.Is(kerr, protocol.ErrUnknownMemberID), errors.Is(kerr, protocol.ErrFencedMemberEpoch):
		// The coordinator dropped the member (a missed session timeout):
		// what it held went back to the group; join again at once.
		c.log.Info("kafka: share group member fenced, rejoining", "group", c.cfg.Group, "member", c.memberID, "error", kerr)
		c.mu.Lock()
		c.memberEpoch = 0
		c.hbInterval = 0
		c.setAssignment(nil)
		c.mu.Unlock()
		return nil
	default:
		c.setRetryInterval()
		if coordinatorMoved(kerr) {
			c.cl.invalidateCoordinator(c.cfg.Group)
			return kerr
		}
		var pe *protocol.Error
		if errors.As(kerr, &pe) && pe.Retriable {
			return kerr
		}
		return c.heartbeatFatal(kerr, resp.ErrorMessage)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if epoch == shareLeaveEpoch || c.memberEpoch == shareLeaveEpoch {
		return nil
	}
	c.memberEpoch = resp.MemberEpoch
	c.hbInterval = time.Duration(max(resp.HeartbeatIntervalMs, 0)) * time.Millisecond
	if resp.Assignment != nil {
		var parts []sharePartition
		unknown := false
		for _, tp := range resp.Assignment.TopicPartitions {
			t := c.byID[tp.TopicID]
			if t == nil {
				unknown = true
				continue
			}
			for _, p := range tp.Partitions {
				parts = append(parts, sharePartition{topicID: tp.TopicID, topic: t.Name(), partition: p})
			}
		}
		if unknown {
			// A topic recreated under a new id: learn it, then take the
			// assignment again on the next heartbeat.
			c.refreshTopicsLocked()
		}
		c.setAssignment(parts)
	}
	return nil
}

func (c *ShareConsumer) sendHeartbeat(ctx context.Context, req *protocol.ShareGroupHeartbeatRequest) (*protocol.ShareGroupHeartbeatResponse, error) {
	b, err := c.cl.GroupCoordinator(ctx, c.cfg.Group)
	if err != nil {
		c.setRetryInterval()
		if errors.Is(err, protocol.ErrUnsupportedVersion) {
			return nil, c.heartbeatFatal(err, nil)
		}
		return nil, err
	}
	resp, err := call[*protocol.ShareGroupHeartbeatResponse](ctx, b, c.hbConn, req, 0)
	if err != nil {
		c.setRetryInterval()
		if errors.Is(err, protocol.ErrUnsupportedVersion) {
			return nil, c.heartbeatFatal(err, nil)
		}
		c.cl.invalidateCoordinatorOn(c.cfg.Group, err)
		if isStaleMetadata(err) {
			c.cl.invalidateCoordinator(c.cfg.Group)
		}
		return nil, err
	}
	return resp, nil
}

// heartbeatFatal wraps an error that ends the membership.
func (c *ShareConsumer) heartbeatFatal(err error, msg *string) error {
	if msg != nil && *msg != "" {
		err = fmt.Errorf("%w (%s)", err, *msg)
	}
	if errors.Is(err, protocol.ErrUnsupportedVersion) {
		err = fmt.Errorf("%w: %w", ErrShareGroupsUnsupported, err)
	}
	return &ShareGroupError{Group: c.cfg.Group, Err: err}
}

func (c *ShareConsumer) setRetryInterval() {
	c.mu.Lock()
	c.hbInterval = shareRetryBackoff
	c.mu.Unlock()
}

// leave sends the heartbeat that takes the member out of the group; the
// coordinator gives what it held to the others.
func (c *ShareConsumer) leave(ctx context.Context) error {
	c.mu.Lock()
	joined := c.memberEpoch > 0
	c.memberEpoch = shareLeaveEpoch
	c.mu.Unlock()
	if !joined {
		return nil
	}
	req := protocol.NewShareGroupHeartbeatRequest()
	req.GroupID = c.cfg.Group
	req.MemberID = c.memberID
	req.MemberEpoch = shareLeaveEpoch
	resp, err := c.sendHeartbeat(ctx, req)
	if err != nil {
		return err
	}
	if kerr := protocol.ErrorForCode(resp.ErrorCode); kerr != nil &&
		!errors.Is(kerr, protocol.ErrUnknownMemberID) && !errors.Is(kerr, protocol.ErrFencedMemberEpoch) {
		return kerr
	}
	return nil
}
