package kafka

import (
	"context"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gregorkafka/gregor/protocol"
)

// A managed consumer talks to its coordinator over a connection of its
// own, not the Broker's shared group connection: a broker answers one
// connection's requests in order and may hold a JoinGroup for a whole
// rebalance, so two members of one group in one process sharing a
// connection would each wait for the other's JoinGroup, and a heartbeat
// queued behind a JoinGroup could time out and take the connection (and the
// JoinGroup) down with it.
var groupConnSeq atomic.Uint64

// groupConnFor returns a new connection key for one consumer's group
// requests.
func groupConnFor(group string) connKey {
	return connKey{purpose: purposeGroup, tag: group + "\x00member-" + strconv.FormatUint(groupConnSeq.Add(1), 10)}
}

func (m *managedMembership) joinGroup(ctx context.Context, b *Broker, req *protocol.JoinGroupRequest) (*protocol.JoinGroupResponse, error) {
	wait := req.RebalanceTimeoutMs
	if wait < 0 {
		wait = req.SessionTimeoutMs
	}
	timeout := max(b.cl.cfg.SocketTimeout, time.Duration(max(wait, 0))*time.Millisecond+joinGroupMargin)
	return call[*protocol.JoinGroupResponse](ctx, b, m.connKey, req, timeout)
}

func (m *managedMembership) syncGroup(ctx context.Context, b *Broker, req *protocol.SyncGroupRequest) (*protocol.SyncGroupResponse, error) {
	return call[*protocol.SyncGroupResponse](ctx, b, m.connKey, req, 0)
}

func (m *managedMembership) heartbeat(ctx context.Context, b *Broker, req *protocol.HeartbeatRequest) (*protocol.HeartbeatResponse, error) {
	return call[*protocol.HeartbeatResponse](ctx, b, m.connKey, req, 0)
}

func (m *managedMembership) leaveGroup(ctx context.Context, b *Broker, req *protocol.LeaveGroupRequest) (*protocol.LeaveGroupResponse, error) {
	return call[*protocol.LeaveGroupResponse](ctx, b, m.connKey, req, 0)
}

// dropConn closes and forgets one of the broker's connections; requests
// pending on it fail at once.
func (b *Broker) dropConn(key connKey) {
	b.mu.Lock()
	c := b.conns[key]
	delete(b.conns, key)
	b.mu.Unlock()
	if c != nil {
		c.Close()
	}
}
