package testcluster

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// The harness speaks just enough of the Kafka protocol, by hand and in non-flexible versions every pinned
// broker accepts, to check readiness and manage topics. Keeping it independent of gregor's own protocol
// package means a bug there cannot make the harness lie about whether a broker is up.

const (
	apiMetadata     = 3
	apiApiVersions  = 18
	apiCreateTopics = 19
	apiDeleteTopics = 20

	clientID = "gregor-testcluster"
)

// rawConn is one connection speaking size-prefixed frames, one request at a time.
type rawConn struct {
	c    net.Conn
	corr int32
}

func dialRaw(ctx context.Context, addr string) (*rawConn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	return &rawConn{c: c}, nil
}

func (r *rawConn) Close() error { return r.c.Close() }

// roundTrip sends one request (header v1) and returns the response body after the v0 header.
func (r *rawConn) roundTrip(apiKey, version int16, body []byte) (*reader, error) {
	r.corr++
	req := make([]byte, 4, 64+len(body))
	req = binary.BigEndian.AppendUint16(req, uint16(apiKey))
	req = binary.BigEndian.AppendUint16(req, uint16(version))
	req = binary.BigEndian.AppendUint32(req, uint32(r.corr))
	req = appendString(req, clientID)
	req = append(req, body...)
	binary.BigEndian.PutUint32(req, uint32(len(req)-4))
	if _, err := r.c.Write(req); err != nil {
		return nil, err
	}
	var size [4]byte
	if _, err := io.ReadFull(r.c, size[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(size[:])
	if n < 4 || n > 64<<20 {
		return nil, fmt.Errorf("bad response size %d", n)
	}
	resp := make([]byte, n)
	if _, err := io.ReadFull(r.c, resp); err != nil {
		return nil, err
	}
	rd := &reader{b: resp}
	if got := rd.int32(); got != r.corr {
		return nil, fmt.Errorf("correlation id %d, want %d", got, r.corr)
	}
	return rd, nil
}

func appendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

func appendInt32(b []byte, v int32) []byte { return binary.BigEndian.AppendUint32(b, uint32(v)) }

func appendInt16(b []byte, v int16) []byte { return binary.BigEndian.AppendUint16(b, uint16(v)) }

// reader decodes big-endian fields with a sticky error.
type reader struct {
	b   []byte
	err error
}

var errShort = errors.New("short response")

func (r *reader) take(n int) []byte {
	if r.err != nil || n < 0 || n > len(r.b) {
		if r.err == nil {
			r.err = errShort
		}
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) int16() int16 {
	if b := r.take(2); b != nil {
		return int16(binary.BigEndian.Uint16(b))
	}
	return 0
}

func (r *reader) int32() int32 {
	if b := r.take(4); b != nil {
		return int32(binary.BigEndian.Uint32(b))
	}
	return 0
}

func (r *reader) bool() bool {
	b := r.take(1)
	return b != nil && b[0] != 0
}

func (r *reader) string() string {
	n := r.int16()
	if n < 0 {
		return ""
	}
	return string(r.take(int(n)))
}

// count reads an array length, bounding it by the bytes left so a corrupt count cannot drive a huge loop.
func (r *reader) count() int {
	n := r.int32()
	if n < 0 {
		return 0
	}
	if int(n) > len(r.b) {
		r.err = errShort
		return 0
	}
	return int(n)
}

// APIVersion is one entry of a broker's ApiVersions answer.
type APIVersion struct {
	Key, Min, Max int16
}

// apiVersions sends ApiVersions v0.
func (r *rawConn) apiVersions() ([]APIVersion, error) {
	rd, err := r.roundTrip(apiApiVersions, 0, nil)
	if err != nil {
		return nil, err
	}
	if code := rd.int16(); code != 0 {
		return nil, fmt.Errorf("ApiVersions error code %d", code)
	}
	n := rd.count()
	out := make([]APIVersion, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, APIVersion{Key: rd.int16(), Min: rd.int16(), Max: rd.int16()})
	}
	return out, rd.err
}

// MetadataBroker is a broker as listed in a Metadata response.
type MetadataBroker struct {
	ID   int32
	Host string
	Port int32
}

// MetadataPartition is one partition's leadership.
type MetadataPartition struct {
	ID       int32
	Err      int16
	Leader   int32
	Replicas []int32
	ISR      []int32
}

// MetadataTopic is one topic's answer.
type MetadataTopic struct {
	Name       string
	Err        int16
	Internal   bool
	Partitions []MetadataPartition
}

// Metadata is what the harness reads from a Metadata v4 response.
type Metadata struct {
	Brokers      []MetadataBroker
	ClusterID    string
	ControllerID int32
	Topics       []MetadataTopic
}

// metadata sends Metadata v4 for the named topics (nil: all topics), never auto-creating them.
func (r *rawConn) metadata(topics []string) (*Metadata, error) {
	var body []byte
	if topics == nil {
		body = appendInt32(body, -1)
	} else {
		body = appendInt32(body, int32(len(topics)))
		for _, t := range topics {
			body = appendString(body, t)
		}
	}
	body = append(body, 0) // allow_auto_topic_creation = false
	rd, err := r.roundTrip(apiMetadata, 4, body)
	if err != nil {
		return nil, err
	}
	md := &Metadata{}
	rd.int32() // throttle
	for i, n := 0, rd.count(); i < n; i++ {
		b := MetadataBroker{ID: rd.int32(), Host: rd.string(), Port: rd.int32()}
		rd.string() // rack
		md.Brokers = append(md.Brokers, b)
	}
	md.ClusterID = rd.string()
	md.ControllerID = rd.int32()
	for i, n := 0, rd.count(); i < n; i++ {
		t := MetadataTopic{Err: rd.int16(), Name: rd.string(), Internal: rd.bool()}
		for j, m := 0, rd.count(); j < m; j++ {
			p := MetadataPartition{Err: rd.int16(), ID: rd.int32(), Leader: rd.int32()}
			p.Replicas = rd.int32s()
			p.ISR = rd.int32s()
			t.Partitions = append(t.Partitions, p)
		}
		md.Topics = append(md.Topics, t)
	}
	return md, rd.err
}

func (r *reader) int32s() []int32 {
	n := r.count()
	out := make([]int32, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, r.int32())
	}
	return out
}

// TopicSpec describes a topic for CreateTopic.
type TopicSpec struct {
	Name              string
	Partitions        int32
	ReplicationFactor int16
	Configs           map[string]string
}

// createTopics sends CreateTopics v2 and returns the per-topic error codes and messages.
func (r *rawConn) createTopics(specs []TopicSpec, timeout time.Duration) error {
	body := appendInt32(nil, int32(len(specs)))
	for _, s := range specs {
		body = appendString(body, s.Name)
		body = appendInt32(body, s.Partitions)
		body = appendInt16(body, s.ReplicationFactor)
		body = appendInt32(body, 0) // no manual assignment
		body = appendInt32(body, int32(len(s.Configs)))
		for k, v := range s.Configs {
			body = appendString(body, k)
			body = appendString(body, v)
		}
	}
	body = appendInt32(body, int32(timeout/time.Millisecond))
	body = append(body, 0) // validate_only = false
	rd, err := r.roundTrip(apiCreateTopics, 2, body)
	if err != nil {
		return err
	}
	rd.int32() // throttle
	var errs []error
	for i, n := 0, rd.count(); i < n; i++ {
		name, code := rd.string(), rd.int16()
		msg := rd.string()
		if code != 0 {
			errs = append(errs, &TopicError{Topic: name, Code: code, Message: msg})
		}
	}
	if rd.err != nil {
		return rd.err
	}
	return errors.Join(errs...)
}

// deleteTopics sends DeleteTopics v1.
func (r *rawConn) deleteTopics(names []string, timeout time.Duration) error {
	body := appendInt32(nil, int32(len(names)))
	for _, n := range names {
		body = appendString(body, n)
	}
	body = appendInt32(body, int32(timeout/time.Millisecond))
	rd, err := r.roundTrip(apiDeleteTopics, 1, body)
	if err != nil {
		return err
	}
	rd.int32()
	var errs []error
	for i, n := 0, rd.count(); i < n; i++ {
		name, code := rd.string(), rd.int16()
		if code != 0 {
			errs = append(errs, &TopicError{Topic: name, Code: code})
		}
	}
	if rd.err != nil {
		return rd.err
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
	return fmt.Sprintf("testcluster: topic %q: Kafka error code %d %s", e.Topic, e.Code, e.Message)
}
