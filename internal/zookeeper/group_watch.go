package zookeeper

import (
	"context"
	"errors"
	"time"

	"github.com/go-zookeeper/zk"
)

// zkRearmBackoff is the pause before setting a watch again after failing
// to, typically while the session is being re-established.
const zkRearmBackoff = 200 * time.Millisecond

// watch keeps a watch on path (its children, or its data) and triggers a
// rebalance whenever it fires, until ctx ends. ZooKeeper watches fire once,
// so each is set again at once. When the session expires every watch fires
// EventNotWatching: the watch is set again in the new session and a
// rebalance triggered, which registers the consumer and claims its
// partitions again, since ZooKeeper dropped those nodes with the session.
func (m *Member) watch(ctx context.Context, path string, children bool) {
	lost := false
	for ctx.Err() == nil {
		ch, err := m.arm(path, children)
		if err != nil {
			if errors.Is(err, zk.ErrClosing) {
				return // the session was closed
			}
			m.log.Debug("kafka: setting a zookeeper watch failed", "path", path, "error", err)
			if m.cfg.Handler.Sleep(ctx, zkRearmBackoff) != nil {
				return
			}
			continue
		}
		if lost {
			lost = false
			m.trigger.Set()
		}
		var ev zk.Event
		select {
		case ev = <-ch:
		case <-ctx.Done():
			return
		}
		if ev.Type == zk.EventNotWatching {
			if errors.Is(ev.Err, zk.ErrClosing) {
				return
			}
			m.log.Debug("kafka: zookeeper watch lost", "path", path, "error", ev.Err)
			lost = true
		}
		m.trigger.Set()
	}
}

// arm sets one watch on path: on its children or its data, or, while the
// node does not exist, on its creation.
func (m *Member) arm(path string, children bool) (<-chan zk.Event, error) {
	var ch <-chan zk.Event
	var err error
	if children {
		_, _, ch, err = m.conn.ChildrenW(path)
	} else {
		_, _, ch, err = m.conn.GetW(path)
	}
	if errors.Is(err, zk.ErrNoNode) {
		var exists bool
		exists, _, ch, err = m.conn.ExistsW(path)
		if err == nil && exists {
			// Created between the two calls: this watch fires on its next
			// change, and the rebalance it triggers sees the node.
			m.trigger.Set()
		}
	}
	return ch, err
}

// onSessionEvent follows the member's own session. It runs on the
// ZooKeeper library's goroutine and must not block. An expired session has
// lost the member's nodes: the rebalance it triggers pauses consumption at
// once, and succeeds once a new session is up.
func (m *Member) onSessionEvent(ev zk.Event) {
	if ev.Type != zk.EventSession {
		return
	}
	switch ev.State {
	case zk.StateHasSession:
		m.c.SessionEvent(Connected, ev.Server)
		m.connected.Set()
		if m.expired.Swap(false) {
			m.log.Debug("kafka: zookeeper session re-established", "member", m.id)
			m.trigger.Set()
		}
	case zk.StateExpired:
		m.c.SessionEvent(Expired, ev.Server)
		m.connected.Clear()
		m.expired.Store(true)
		m.log.Warn("kafka: zookeeper session expired", "member", m.id)
		m.trigger.Set()
	case zk.StateDisconnected:
		m.c.SessionEvent(Disconnected, ev.Server)
		m.connected.Clear()
	}
}
