package kafka

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gregorkafka/gregor/conn"
	"github.com/gregorkafka/gregor/protocol"
)

// A coordinator lookup retries while the group's coordinator is loading or
// not yet elected (the first FindCoordinator of a cluster makes the brokers
// create __consumer_offsets, which takes a moment), backing off from
// coordinatorBackoff up to coordinatorMaxBackoff.
const (
	coordinatorAttempts   = 10
	coordinatorBackoff    = 100 * time.Millisecond
	coordinatorMaxBackoff = time.Second
)

// GroupCoordinator returns the broker coordinating the consumer group,
// asking the cluster (FindCoordinator) the first time and remembering the
// answer until a group call on this client hears that the coordinator
// moved. It retries, with backoff, while the cluster answers
// COORDINATOR_LOAD_IN_PROGRESS or COORDINATOR_NOT_AVAILABLE. A caller
// sending its own requests to the coordinator that wants a fresh answer
// sends FindCoordinator itself (Request).
// Errors are *CoordinatorError.
func (c *Cluster) GroupCoordinator(ctx context.Context, group string) (*Broker, error) {
	if c.closed.Load() {
		return nil, ErrClosed
	}
	c.coordMu.Lock()
	id, ok := c.coords[group]
	c.coordMu.Unlock()
	if ok {
		if b := c.Broker(id); b != nil {
			return b, nil
		}
		c.invalidateCoordinator(group)
	}

	var lastErr error
	backoff := coordinatorBackoff
	for attempt := 0; attempt < coordinatorAttempts; attempt++ {
		if attempt > 0 {
			if err := c.h.Sleep(ctx, backoff); err != nil {
				return nil, &CoordinatorError{Group: group, Err: err}
			}
			backoff = min(2*backoff, coordinatorMaxBackoff)
		}
		id, err := c.findCoordinator(ctx, group)
		if err != nil {
			if ctx.Err() != nil || !retriableCoordinatorError(err) {
				return nil, &CoordinatorError{Group: group, Err: err}
			}
			c.log.Debug("kafka: coordinator lookup failed, retrying", "group", group, "error", err)
			lastErr = err
			continue
		}
		b := c.Broker(id)
		if b == nil { // a broker the model has not seen yet
			if err := c.Update(ctx); err != nil {
				return nil, &CoordinatorError{Group: group, Err: err}
			}
			if b = c.Broker(id); b == nil {
				lastErr = fmt.Errorf("kafka: coordinator is broker %d, which metadata does not list", id)
				continue
			}
		}
		c.coordMu.Lock()
		c.coords[group] = id
		c.coordMu.Unlock()
		return b, nil
	}
	return nil, &CoordinatorError{Group: group, Err: lastErr}
}

// invalidateCoordinator forgets the group's coordinator, so the next
// GroupCoordinator asks the cluster again. Call it when the coordinator
// answers NOT_COORDINATOR or COORDINATOR_NOT_AVAILABLE, or cannot be
// reached.
func (c *Cluster) invalidateCoordinator(group string) {
	c.coordMu.Lock()
	delete(c.coords, group)
	c.coordMu.Unlock()
}

// invalidateCoordinatorOn forgets the group's coordinator when err says it
// moved or is unreachable, and reports whether it did. Group and offset
// code calls it with every error from the coordinator.
func (c *Cluster) invalidateCoordinatorOn(group string, err error) bool {
	if errors.Is(err, protocol.ErrNotCoordinator) || errors.Is(err, protocol.ErrCoordinatorNotAvailable) ||
		isStaleMetadata(err) {
		c.invalidateCoordinator(group)
		return true
	}
	return false
}

// retriableCoordinatorError reports the FindCoordinator failures that
// GroupCoordinator retries.
func retriableCoordinatorError(err error) bool {
	return coordinatorMoved(err) || isStaleMetadata(err)
}

// coordinatorMoved reports the answers of a broker that is not, or not yet,
// the group's working coordinator.
func coordinatorMoved(err error) bool {
	return errors.Is(err, protocol.ErrNotCoordinator) ||
		errors.Is(err, protocol.ErrCoordinatorNotAvailable) ||
		errors.Is(err, protocol.ErrCoordinatorLoadInProgress)
}

// findCoordinator asks one broker, the first of the candidates that
// answers, for the group's coordinator.
func (c *Cluster) findCoordinator(ctx context.Context, group string) (int32, error) {
	req := protocol.NewFindCoordinatorRequest()
	req.KeyType = 0 // a consumer group
	// Versions up to 3 send Key, later ones CoordinatorKeys; the encoder
	// writes whichever the negotiated version has.
	req.Key = group
	req.CoordinatorKeys = []string{group}

	brokers := c.candidates()
	if len(brokers) == 0 {
		if err := c.Update(ctx); err != nil {
			return -1, err
		}
		brokers = c.candidates()
	}
	var attempts []BrokerAttempt
	for _, b := range brokers {
		resp, err := b.FindCoordinator(ctx, req)
		if err != nil {
			if ctx.Err() != nil {
				return -1, err
			}
			attempts = append(attempts, BrokerAttempt{Addr: b.Addr(), Err: err})
			continue
		}
		return coordinatorFrom(resp, group)
	}
	return -1, &NoBrokersAvailableError{Attempts: attempts}
}

// coordinatorFrom reads the group's coordinator from either response
// layout: the batched Coordinators list (v4+) or the top-level fields.
func coordinatorFrom(resp *protocol.FindCoordinatorResponse, group string) (int32, error) {
	if len(resp.Coordinators) > 0 {
		for i := range resp.Coordinators {
			co := &resp.Coordinators[i]
			if co.Key != group {
				continue
			}
			if err := brokerError(co.ErrorCode, co.ErrorMessage); err != nil {
				return -1, err
			}
			return co.NodeID, nil
		}
		return -1, errors.New("kafka: FindCoordinator response does not mention the group")
	}
	if err := brokerError(resp.ErrorCode, resp.ErrorMessage); err != nil {
		return -1, err
	}
	if resp.Host == "" { // a v4+ answer with an empty list
		return -1, errors.New("kafka: FindCoordinator response names no coordinator")
	}
	return resp.NodeID, nil
}

// coordinatorBusy reports whether a group request failed because its
// coordinator moved, is loading the group, or dropped the connection: the
// errors after which onCoordinator looks the coordinator up again and
// retries.
func coordinatorBusy(err error) bool {
	return coordinatorMoved(err) || errors.Is(err, conn.ErrDisconnected)
}

// retryCoordinator runs try until it succeeds or fails with an error that
// coordinatorBusy does not explain, at most coordinatorAttempts times,
// backing off between tries as GroupCoordinator does. A *CoordinatorError
// is final: GroupCoordinator has retried already. It returns try's last
// error, joined with the context's when ctx ended first.
func (c *Cluster) retryCoordinator(ctx context.Context, try func() error) error {
	backoff := coordinatorBackoff
	for attempt := 1; ; attempt++ {
		err := try()
		var ce *CoordinatorError
		if err == nil || errors.As(err, &ce) || !coordinatorBusy(err) || attempt == coordinatorAttempts {
			return err
		}
		c.log.Debug("kafka: group coordinator busy, retrying", "attempt", attempt, "error", err)
		if serr := c.h.Sleep(ctx, backoff); serr != nil {
			return errors.Join(err, serr)
		}
		backoff = min(2*backoff, coordinatorMaxBackoff)
	}
}

// onCoordinator runs fn on the group's coordinator. When fn's error says
// the coordinator moved or is loading (coordinatorBusy), it forgets the
// cached coordinator where that is stale, backs off and runs fn again on
// the coordinator found then. Group administration goes through it; when
// the coordinator never settles the error is a *CoordinatorError, and
// otherwise fn's own.
func (c *Cluster) onCoordinator(ctx context.Context, group string, fn func(*Broker) error) error {
	err := c.retryCoordinator(ctx, func() error {
		b, err := c.GroupCoordinator(ctx, group)
		if err != nil {
			return err
		}
		if err = fn(b); err != nil {
			c.invalidateCoordinatorOn(group, err)
		}
		return err
	})
	var ce *CoordinatorError
	if err != nil && coordinatorBusy(err) && !errors.As(err, &ce) {
		return &CoordinatorError{Group: group, Err: err}
	}
	return err
}
