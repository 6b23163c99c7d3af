package kafka

import (
	"context"
	"fmt"
	"time"

	"github.com/gregorkafka/gregor/protocol"
)

// joinGroupMargin is added to a JoinGroup's rebalance timeout: the broker
// may hold the request for the whole rebalance and answer just after it.
const joinGroupMargin = 5 * time.Second

// call sends req on the broker's connection for key and waits for the
// response. timeout replaces the connection's response timeout when
// positive. A request the broker does not answer (Produce with Acks 0)
// returns the zero Resp and a nil error once written.
func call[Resp protocol.Message](ctx context.Context, b *Broker, key connKey, req protocol.Request, timeout time.Duration) (Resp, error) {
	var zero Resp
	fail := func(err error) (Resp, error) {
		return zero, fmt.Errorf("kafka: %s request to %v: %w", protocol.APIName(req.APIKey()), b, err)
	}
	c, err := b.conn(ctx, key)
	if err != nil {
		return fail(err)
	}
	f, err := c.RequestWithTimeout(ctx, req, timeout)
	if err != nil {
		return fail(err)
	}
	if f == nil {
		return zero, nil
	}
	m, err := f.Get(ctx)
	if err != nil {
		return fail(err)
	}
	resp, ok := m.(Resp)
	if !ok {
		return fail(fmt.Errorf("unexpected response type %T", m))
	}
	return resp, nil
}

var (
	connGeneral = connKey{purpose: purposeGeneral}
	connProduce = connKey{purpose: purposeProduce}
	connFetch   = connKey{purpose: purposeFetch}
	connOffsets = connKey{purpose: purposeOffsets}
)

func groupConn(group string) connKey { return connKey{purpose: purposeGroup, tag: group} }

// Request sends req, any generated request, to broker b and returns its
// response, typed: the response type is inferred from the request's.
//
//	resp, err := kafka.Request(ctx, b, &protocol.DescribeClusterRequest{})  // *protocol.DescribeClusterResponse
//
// It is a function, not a Broker method, because Go methods cannot take
// type parameters. The request goes where Broker's typed methods send it
// (Produce on the produce connection, Fetch on the fetch connection, group
// membership on the group's, OffsetCommit and OffsetFetch on the offsets
// connection, everything else on the general one) with the same response
// timeouts; those methods are Request with the types spelled out. The
// version is the highest both sides support, and a field the version
// lacks is not sent.
func Request[Resp protocol.Message](ctx context.Context, b *Broker, req protocol.RequestOf[Resp]) (Resp, error) {
	key, timeout := b.route(req)
	return call[Resp](ctx, b, key, req, timeout)
}

// route picks the connection and response timeout for req (0: the
// connection's own).
func (b *Broker) route(req protocol.Request) (connKey, time.Duration) {
	switch r := req.(type) {
	case *protocol.ProduceRequest:
		return connProduce, 0
	case *protocol.FetchRequest:
		// The broker holds a Fetch up to MaxWaitMs when no data is there.
		return connFetch, b.cl.cfg.SocketTimeout + time.Duration(max(r.MaxWaitMs, 0))*time.Millisecond
	case *protocol.OffsetCommitRequest, *protocol.OffsetFetchRequest:
		return connOffsets, 0
	case *protocol.JoinGroupRequest:
		// The broker may hold it for the whole rebalance.
		wait := r.RebalanceTimeoutMs
		if wait < 0 {
			wait = r.SessionTimeoutMs
		}
		return groupConn(r.GroupID), max(b.cl.cfg.SocketTimeout, time.Duration(max(wait, 0))*time.Millisecond+joinGroupMargin)
	case *protocol.SyncGroupRequest:
		return groupConn(r.GroupID), 0
	case *protocol.HeartbeatRequest:
		return groupConn(r.GroupID), 0
	case *protocol.LeaveGroupRequest:
		return groupConn(r.GroupID), 0
	case *protocol.CreateTopicsRequest:
		return connGeneral, b.adminTimeout(r.TimeoutMs)
	case *protocol.DeleteTopicsRequest:
		return connGeneral, b.adminTimeout(r.TimeoutMs)
	}
	return connGeneral, 0
}

// Metadata sends a Metadata request on the general connection.
func (b *Broker) Metadata(ctx context.Context, req *protocol.MetadataRequest) (*protocol.MetadataResponse, error) {
	return Request(ctx, b, req)
}

// Produce sends a Produce request on the produce connection. With Acks 0 the
// broker sends no response: Produce returns (nil, nil) once the request is
// written.
func (b *Broker) Produce(ctx context.Context, req *protocol.ProduceRequest) (*protocol.ProduceResponse, error) {
	return Request(ctx, b, req)
}

// Fetch sends a Fetch request on the fetch connection. The response timeout
// is Config.SocketTimeout plus the request's MaxWaitMs, since the broker
// holds the request that long when no data is there.
func (b *Broker) Fetch(ctx context.Context, req *protocol.FetchRequest) (*protocol.FetchResponse, error) {
	return Request(ctx, b, req)
}

// ListOffsets sends a ListOffsets request on the general connection.
func (b *Broker) ListOffsets(ctx context.Context, req *protocol.ListOffsetsRequest) (*protocol.ListOffsetsResponse, error) {
	return Request(ctx, b, req)
}

// OffsetCommit sends an OffsetCommit request on the offsets connection.
func (b *Broker) OffsetCommit(ctx context.Context, req *protocol.OffsetCommitRequest) (*protocol.OffsetCommitResponse, error) {
	return Request(ctx, b, req)
}

// OffsetFetch sends an OffsetFetch request on the offsets connection.
func (b *Broker) OffsetFetch(ctx context.Context, req *protocol.OffsetFetchRequest) (*protocol.OffsetFetchResponse, error) {
	return Request(ctx, b, req)
}

// FindCoordinator sends a FindCoordinator request on the general connection.
// Fill both Key and CoordinatorKeys: the version negotiated decides which is
// sent (CoordinatorKeys from v4).
func (b *Broker) FindCoordinator(ctx context.Context, req *protocol.FindCoordinatorRequest) (*protocol.FindCoordinatorResponse, error) {
	return Request(ctx, b, req)
}

// JoinGroup sends a JoinGroup request on the group's connection. The broker
// may hold it for the whole rebalance, so the response timeout is the
// request's rebalance timeout (or session timeout, where the version has
// none) plus a margin, and at least Config.SocketTimeout.
func (b *Broker) JoinGroup(ctx context.Context, req *protocol.JoinGroupRequest) (*protocol.JoinGroupResponse, error) {
	return Request(ctx, b, req)
}

// SyncGroup sends a SyncGroup request on the group's connection.
func (b *Broker) SyncGroup(ctx context.Context, req *protocol.SyncGroupRequest) (*protocol.SyncGroupResponse, error) {
	return Request(ctx, b, req)
}

// Heartbeat sends a Heartbeat request on the group's connection.
func (b *Broker) Heartbeat(ctx context.Context, req *protocol.HeartbeatRequest) (*protocol.HeartbeatResponse, error) {
	return Request(ctx, b, req)
}

// LeaveGroup sends a LeaveGroup request on the group's connection.
func (b *Broker) LeaveGroup(ctx context.Context, req *protocol.LeaveGroupRequest) (*protocol.LeaveGroupResponse, error) {
	return Request(ctx, b, req)
}

// ListGroups sends a ListGroups request on the general connection. It lists
// the groups this broker coordinates only.
func (b *Broker) ListGroups(ctx context.Context, req *protocol.ListGroupsRequest) (*protocol.ListGroupsResponse, error) {
	return Request(ctx, b, req)
}

// DescribeGroups sends a DescribeGroups request on the general connection;
// send it to the groups' coordinator.
func (b *Broker) DescribeGroups(ctx context.Context, req *protocol.DescribeGroupsRequest) (*protocol.DescribeGroupsResponse, error) {
	return Request(ctx, b, req)
}

// ConsumerGroupDescribe sends a ConsumerGroupDescribe request (Kafka 4's
// consumer groups, KIP-848) on the general connection; send it to the
// groups' coordinator. A broker without the API fails it with an error
// matching protocol.ErrUnsupportedVersion, without a request being sent.
func (b *Broker) ConsumerGroupDescribe(ctx context.Context, req *protocol.ConsumerGroupDescribeRequest) (*protocol.ConsumerGroupDescribeResponse, error) {
	return Request(ctx, b, req)
}

// adminTimeout is the response timeout of an admin request that the broker
// may hold for up to timeoutMs before answering.
func (b *Broker) adminTimeout(timeoutMs int32) time.Duration {
	return b.cl.cfg.SocketTimeout + time.Duration(max(timeoutMs, 0))*time.Millisecond
}

// CreateTopics sends a CreateTopics request on the general connection. Most
// callers want Cluster.CreateTopics, which finds the controller and waits
// for the topics to appear.
func (b *Broker) CreateTopics(ctx context.Context, req *protocol.CreateTopicsRequest) (*protocol.CreateTopicsResponse, error) {
	return Request(ctx, b, req)
}

// DeleteTopics sends a DeleteTopics request on the general connection. Most
// callers want Cluster.DeleteTopics.
func (b *Broker) DeleteTopics(ctx context.Context, req *protocol.DeleteTopicsRequest) (*protocol.DeleteTopicsResponse, error) {
	return Request(ctx, b, req)
}
