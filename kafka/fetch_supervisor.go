package kafka

import (
	"context"
	"errors"
)

// supervise keeps a fetch loop running for every broker that leads one of
// the consumer's partitions. Loops end by themselves when their broker
// leads none; whoever notices a partition without a loop (a leader moved,
// a partition was reset, a fetch failed) wakes the supervisor through
// c.reroute, and asks for a metadata refresh first when the model may be
// stale. Partitions without a live leader are retried with backoff.
func (c *SimpleConsumer) supervise(ctx context.Context) {
	var backoff = fetchRetryMin / 2
	for {
		if c.reroute.Wait(ctx) != nil {
			return
		}
		c.reroute.Clear()
		c.mu.Lock()
		refresh := c.needRefresh
		c.needRefresh = false
		c.mu.Unlock()
		if refresh {
			if err := c.cl.Update(ctx); err != nil {
				if ctx.Err() != nil {
					return
				}
				if errors.Is(err, ErrClosed) {
					c.mu.Lock()
					c.failLocked(err)
					c.mu.Unlock()
					c.avail.Set()
					return
				}
				c.log.Debug("kafka: metadata refresh failed", "error", err)
			}
		}
		if !c.ensureLoops() {
			backoff = fetchRetryMin / 2
			continue
		}
		// Some partition has no leader the client can reach: look again
		// after a while.
		backoff = min(2*backoff, fetchRetryMax)
		if c.h.Sleep(ctx, backoff) != nil {
			return
		}
		c.requestRefresh()
	}
}

// ensureLoops starts a loop for every leader without one and wakes every
// loop. It reports whether a partition to fetch has no live leader.
func (c *SimpleConsumer) ensureLoops() (leaderless bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return false
	}
	for _, op := range c.parts {
		if op.position < 0 || op.stalled {
			continue
		}
		b := op.p.Leader()
		if b == nil {
			leaderless = true
			continue
		}
		if c.loops[b.ID()] == nil {
			c.startLoopLocked(b)
		}
	}
	for _, l := range c.loops {
		l.kick()
	}
	return leaderless
}

// requestRefresh asks the supervisor to refresh metadata and re-route.
func (c *SimpleConsumer) requestRefresh() {
	c.mu.Lock()
	c.needRefresh = true
	c.mu.Unlock()
	c.reroute.Set()
}
