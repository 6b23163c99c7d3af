package testcluster

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/gregorkafka/gregor/protocol"
)

// The harness talks to its brokers through gregor's protocol package over a plain blocking socket, one request at a
// time: it needs no client machinery, and every readiness check doubles as a check of the wire format against a
// real broker.

var clientID = "gregor-testcluster"

// rawConn is one connection that has negotiated API versions with its broker.
type rawConn struct {
	c        net.Conn
	corr     int32
	versions *protocol.Versions
}

func dialRaw(ctx context.Context, addr string) (*rawConn, error) {
	return dialRawTLS(ctx, addr, nil)
}

// dialRawTLS is dialRaw over TLS when cfg is set.
func dialRawTLS(ctx context.Context, addr string, cfg *tls.Config) (*rawConn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	if cfg != nil {
		if cfg.ServerName == "" {
			cfg = cfg.Clone()
			cfg.ServerName, _, _ = net.SplitHostPort(addr)
		}
		tc := tls.Client(c, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			c.Close()
			return nil, fmt.Errorf("TLS handshake: %w", err)
		}
		c = tc
	}
	rc := &rawConn{c: c}
	resp := protocol.NewAPIVersionsResponse()
	_, maxV := resp.SupportedVersions()
	req := protocol.NewAPIVersionsRequest()
	req.ClientSoftwareName, req.ClientSoftwareVersion = "gregor-testcluster", "1"
	if err := rc.roundTripVersion(req, maxV, resp); err != nil {
		c.Close()
		return nil, fmt.Errorf("ApiVersions: %w", err)
	}
	if err := protocol.ErrorForCode(resp.ErrorCode); err != nil {
		c.Close()
		return nil, fmt.Errorf("ApiVersions: %w", err)
	}
	rc.versions = protocol.NewVersions(resp)
	return rc, nil
}

func (r *rawConn) Close() error { return r.c.Close() }

// roundTrip sends req at the highest version both sides support and decodes the answer into a new response.
func (r *rawConn) roundTrip(req protocol.Request) (protocol.Message, int16, error) {
	v, err := r.versions.Pick(req.APIKey())
	if err != nil {
		return nil, 0, err
	}
	resp := req.NewResponse()
	return resp, v, r.roundTripVersion(req, v, resp)
}

func (r *rawConn) roundTripVersion(req protocol.Request, version int16, resp protocol.Message) error {
	r.corr++
	frame, err := protocol.AppendRequestFrame(nil, req, version, r.corr, &clientID)
	if err != nil {
		return err
	}
	if _, err := r.c.Write(frame); err != nil {
		return err
	}
	var size [4]byte
	if _, err := io.ReadFull(r.c, size[:]); err != nil {
		return err
	}
	n := binary.BigEndian.Uint32(size[:])
	if n < 4 || n > 64<<20 {
		return fmt.Errorf("bad response size %d", n)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r.c, body); err != nil {
		return err
	}
	corr, err := protocol.DecodeResponseFrame(body, resp, version)
	if err != nil {
		return err
	}
	if corr != r.corr {
		return fmt.Errorf("correlation id %d, want %d", corr, r.corr)
	}
	return nil
}

// metadata asks for the named topics (nil: all topics), never auto-creating them.
func (r *rawConn) metadata(topics []string) (*protocol.MetadataResponse, error) {
	req := protocol.NewMetadataRequest()
	req.AllowAutoTopicCreation = false
	if topics != nil {
		req.Topics = make([]protocol.MetadataRequestTopic, 0, len(topics))
		for i := range topics {
			req.Topics = append(req.Topics, protocol.MetadataRequestTopic{Name: &topics[i]})
		}
	}
	resp, _, err := r.roundTrip(req)
	if err != nil {
		return nil, err
	}
	return resp.(*protocol.MetadataResponse), nil
}

// TopicSpec describes a topic for CreateTopic.
type TopicSpec struct {
	Name              string
	Partitions        int32
	ReplicationFactor int16
	Configs           map[string]string
}

func (r *rawConn) createTopics(specs []TopicSpec, timeout time.Duration) error {
	req := protocol.NewCreateTopicsRequest()
	req.TimeoutMs = int32(timeout / time.Millisecond)
	for _, s := range specs {
		t := protocol.CreateTopicsRequestTopic{Name: s.Name, NumPartitions: s.Partitions, ReplicationFactor: s.ReplicationFactor}
		for k, v := range s.Configs {
			t.Configs = append(t.Configs, protocol.CreateTopicsRequestConfig{Name: k, Value: &v})
		}
		req.Topics = append(req.Topics, t)
	}
	resp, _, err := r.roundTrip(req)
	if err != nil {
		return err
	}
	var errs []error
	for _, t := range resp.(*protocol.CreateTopicsResponse).Topics {
		if t.ErrorCode != 0 {
			msg := ""
			if t.ErrorMessage != nil {
				msg = *t.ErrorMessage
			}
			errs = append(errs, &TopicError{Topic: t.Name, Code: t.ErrorCode, Message: msg})
		}
	}
	return errors.Join(errs...)
}

func (r *rawConn) deleteTopics(names []string, timeout time.Duration) error {
	req := protocol.NewDeleteTopicsRequest()
	req.TimeoutMs = int32(timeout / time.Millisecond)
	req.TopicNames = names // versions 0-5
	for i := range names {
		req.Topics = append(req.Topics, protocol.DeleteTopicsRequestTopic{Name: &names[i]}) // version 6+
	}
	resp, _, err := r.roundTrip(req)
	if err != nil {
		return err
	}
	var errs []error
	for _, t := range resp.(*protocol.DeleteTopicsResponse).Responses {
		if t.ErrorCode != 0 {
			name := ""
			if t.Name != nil {
				name = *t.Name
			}
			errs = append(errs, &TopicError{Topic: name, Code: t.ErrorCode})
		}
	}
	return errors.Join(errs...)
}

// TopicError is a broker's refusal to create or delete a topic.
type TopicError struct {
	Topic   string
	Code    int16
	Message string
}

func (e *TopicError) Error() string {
	return fmt.Sprintf("testcluster: topic %q: %v %s", e.Topic, protocol.ErrorForCode(e.Code), e.Message)
}

// Unwrap exposes the Kafka error, so errors.Is(err, protocol.ErrTopicAlreadyExists) works.
func (e *TopicError) Unwrap() error { return protocol.ErrorForCode(e.Code) }
