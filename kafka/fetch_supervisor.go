package kafka

import (
	"errors"
	"time"
)

// supervise keeps a fetch loop running for every broker that leads one of
// the consumer's partitions. Loops end by themselves when their broker
// leads none; whoever notices a partition without a loop (a leader moved,
// a partition was reset, a fetch failed) kicks the supervisor, and asks for
// a metadata refresh first when the model may be stale. Partitions without
// a live leader are looked at again after a backoff. It runs on demand (one
// run at a time), so an idle consumer costs no goroutine.
func (c *SimpleConsumer) supervise() {
	ctx := c.runCtx
	if ctx.Err() != nil || !c.started.Load() {
		return
	}
	if !c.retryAt.IsZero() && c.h.Now().Before(c.retryAt) {
		return // the retry timer brings what was asked meanwhile
	}
	c.retryAt = time.Time{}
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
		c.backoff = fetchRetryMin / 2
		return
	}
	// Some partition has no leader the client can reach: look again
	// after a while, with fresh metadata.
	c.backoff = min(2*max(c.backoff, fetchRetryMin/2), fetchRetryMax)
	c.retryAt = c.h.Now().Add(c.backoff)
	c.h.AfterFunc(c.backoff, c.requestRefresh)
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
	c.supervisor.kick()
}
