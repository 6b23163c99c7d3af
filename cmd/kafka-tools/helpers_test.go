package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/kafka"
	"github.com/gregorkafka/gregor/protocol"
)

// tool runs the built kafka-tools binary against one cluster.
type tool struct {
	bin     string
	brokers string
	env     []string // more KEY=value entries
}

// buildTool compiles the command into dir.
func buildTool(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "kafka-tools")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

type result struct {
	code           int
	stdout, stderr string
}

// run runs the binary with --brokers set (unless args set it or
// --zookeeper) and stdin.
func (tl tool) runInput(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, tl.bin, args...)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, envBrokers+"=") && !strings.HasPrefix(kv, envTLS) && !strings.HasPrefix(kv, "KAFKA_SASL") {
			env = append(env, kv)
		}
	}
	env = append(env, tl.env...)
	if tl.brokers != "" {
		env = append(env, envBrokers+"="+tl.brokers)
	}
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("running %v: %v", args, err)
	}
	return result{code: cmd.ProcessState.ExitCode(), stdout: out.String(), stderr: errb.String()}
}

func (tl tool) run(t *testing.T, args ...string) result {
	t.Helper()
	return tl.runInput(t, "", args...)
}

// ok runs a command that must succeed and returns its stdout.
func (tl tool) ok(t *testing.T, args ...string) string {
	t.Helper()
	r := tl.run(t, args...)
	require.Equal(t, exitOK, r.code, "%v: stderr: %s", args, r.stderr)
	return r.stdout
}

// json runs a command with -o json that must succeed and decodes its
// output into v; the output must be exactly one JSON document.
func (tl tool) json(t *testing.T, v any, args ...string) {
	t.Helper()
	out := tl.ok(t, append(args, "-o", "json")...)
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(v), "output: %s", out)
	require.False(t, dec.More(), "more than one JSON document: %s", out)
}

// fails runs a command that must fail with code and a message containing
// want, on one line.
func (tl tool) fails(t *testing.T, code int, want string, args ...string) result {
	t.Helper()
	r := tl.run(t, args...)
	require.Equal(t, code, r.code, "%v: stdout %q stderr %q", args, r.stdout, r.stderr)
	require.Contains(t, r.stderr, want, args)
	first, _, _ := strings.Cut(r.stderr, "\n")
	require.True(t, strings.HasPrefix(first, progName+": "), "first line %q", first)
	require.Contains(t, first, want, "the message fits on the first line")
	return r
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func newClient(t *testing.T, bootstrap []string) *kafka.Client {
	t.Helper()
	cl, err := kafka.NewClient(testCtx(t), kafka.Config{
		Hosts: bootstrap, ClientID: "kafka-tools-test", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	require.NoError(t, err)
	t.Cleanup(func() { cl.Close() })
	return cl
}

func mkTopic(t *testing.T, cl *kafka.Client, name string, partitions int32) *kafka.Topic {
	t.Helper()
	ctx := testCtx(t)
	require.NoError(t, cl.Cluster().CreateTopics(ctx, kafka.TopicSpec{Name: name, Partitions: partitions, ReplicationFactor: 1}))
	topic, err := cl.Topic(ctx, name)
	require.NoError(t, err)
	return topic
}

// produceAt writes values to one partition with Broker.Produce, the
// records stamped ts, ts+1ms, ...; it returns the first offset.
func produceAt(t *testing.T, topic *kafka.Topic, partition int32, ts time.Time, values ...string) int64 {
	t.Helper()
	batch := protocol.RecordBatch{
		PartitionLeaderEpoch: -1, Magic: protocol.RecordBatchMagic,
		ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1,
	}
	for i, v := range values {
		batch.Records = append(batch.Records, protocol.Record{
			Offset: int64(i), Timestamp: ts.UnixMilli() + int64(i), Key: []byte("k" + v), Value: []byte(v),
		})
	}
	data, err := protocol.AppendRecordBatch(nil, &batch, protocol.CompressionNone)
	require.NoError(t, err)
	req := protocol.NewProduceRequest()
	req.Acks, req.TimeoutMs = -1, 10000
	req.TopicData = []protocol.ProduceRequestTopic{{
		Name: topic.Name(), PartitionData: []protocol.ProduceRequestPartition{{Index: partition, Records: data}},
	}}
	// A partition just created may not know it leads yet.
	for attempt := 1; ; attempt++ {
		leader := topic.Partition(partition).Leader()
		require.NotNil(t, leader)
		resp, err := leader.Produce(testCtx(t), req)
		require.NoError(t, err)
		pr := resp.Responses[0].PartitionResponses[0]
		err = protocol.ErrorForCode(pr.ErrorCode)
		if err == nil {
			return pr.BaseOffset
		}
		require.True(t, protocol.IsRetriable(err) && attempt < 20, "producing: %v", err)
		time.Sleep(100 * time.Millisecond)
	}
}

// commit stores offsets for the group with Broker.OffsetCommit, as an
// administrator (no generation), independently of the code under test.
func commit(t *testing.T, cl *kafka.Client, group, topic string, offsets map[int32]int64) {
	t.Helper()
	ctx := testCtx(t)
	req := protocol.NewOffsetCommitRequest()
	req.GroupID = group
	rt := protocol.OffsetCommitRequestTopic{Name: topic}
	for id, off := range offsets {
		p := protocol.OffsetCommitRequestPartition{}
		p.Default()
		p.PartitionIndex, p.CommittedOffset = id, off
		rt.Partitions = append(rt.Partitions, p)
	}
	req.Topics = []protocol.OffsetCommitRequestTopic{rt}
	retryLoading(t, cl, group, func(coord *kafka.Broker) error {
		resp, err := coord.OffsetCommit(ctx, req)
		if err != nil {
			return err
		}
		var errs []error
		for _, rt := range resp.Topics {
			for _, p := range rt.Partitions {
				errs = append(errs, protocol.ErrorForCode(p.ErrorCode))
			}
		}
		return errors.Join(errs...)
	})
}

// retryLoading runs fn on the group's coordinator until it stops answering
// that it is loading or is not the coordinator. The first group request of
// a cluster creates the offsets topic; for a moment after that, the broker
// FindCoordinator names may still answer NOT_COORDINATOR while it takes
// over the partition.
func retryLoading(t *testing.T, cl *kafka.Client, group string, fn func(*kafka.Broker) error) {
	t.Helper()
	for attempt := 1; ; attempt++ {
		err := fn(findCoordinator(t, cl, group))
		if err == nil {
			return
		}
		require.True(t, coordinatorMoved(err) && attempt < 100, "%v", err)
		time.Sleep(100 * time.Millisecond)
	}
}

// findCoordinator asks a broker afresh, bypassing the client's cache of
// coordinators, which a moved coordinator would leave stale; it waits out
// a coordinator still being elected or loading.
func findCoordinator(t *testing.T, cl *kafka.Client, group string) *kafka.Broker {
	t.Helper()
	for attempt := 1; ; attempt++ {
		resp, err := kafka.Request(testCtx(t), cl.Cluster().Brokers()[0],
			&protocol.FindCoordinatorRequest{Key: group, CoordinatorKeys: []string{group}})
		require.NoError(t, err)
		id, code := resp.NodeID, resp.ErrorCode
		if len(resp.Coordinators) > 0 { // v4+
			id, code = resp.Coordinators[0].NodeID, resp.Coordinators[0].ErrorCode
		}
		err = protocol.ErrorForCode(code)
		if err == nil {
			coord := cl.Cluster().Broker(id)
			require.NotNil(t, coord, "coordinator %d", id)
			return coord
		}
		require.True(t, protocol.IsRetriable(err) && attempt < 100, "%v", err)
		time.Sleep(100 * time.Millisecond)
	}
}

// coordinatorMoved reports the errors after which retryLoading looks the
// coordinator up again.
func coordinatorMoved(err error) bool {
	return errors.Is(err, protocol.ErrNotCoordinator) ||
		errors.Is(err, protocol.ErrCoordinatorNotAvailable) ||
		errors.Is(err, protocol.ErrCoordinatorLoadInProgress)
}

// committed reads the group's offsets of topic with Broker.OffsetFetch;
// partitions without a commit are absent.
func committed(t *testing.T, cl *kafka.Client, group, topic string) map[int32]int64 {
	t.Helper()
	ctx := testCtx(t)
	tp, err := cl.Topic(ctx, topic)
	require.NoError(t, err)
	var ids []int32
	for _, p := range tp.Partitions() {
		ids = append(ids, p.ID())
	}
	req := protocol.NewOffsetFetchRequest()
	req.GroupID = group
	req.Topics = []protocol.OffsetFetchRequestTopic{{Name: topic, PartitionIndexes: ids}}
	req.Groups = []protocol.OffsetFetchRequestGroup{{GroupID: group, MemberEpoch: -1,
		Topics: []protocol.OffsetFetchRequestTopics{{Name: topic, PartitionIndexes: ids}}}}
	var out map[int32]int64
	retryLoading(t, cl, group, func(coord *kafka.Broker) error {
		resp, err := coord.OffsetFetch(ctx, req)
		if err != nil {
			return err
		}
		out = map[int32]int64{}
		var errs []error
		add := func(id int32, off int64, code int16) {
			errs = append(errs, protocol.ErrorForCode(code))
			if off >= 0 {
				out[id] = off
			}
		}
		errs = append(errs, protocol.ErrorForCode(resp.ErrorCode))
		for _, rt := range resp.Topics {
			for _, p := range rt.Partitions {
				add(p.PartitionIndex, p.CommittedOffset, p.ErrorCode)
			}
		}
		for _, g := range resp.Groups {
			errs = append(errs, protocol.ErrorForCode(g.ErrorCode))
			for _, rt := range g.Topics {
				for _, p := range rt.Partitions {
					add(p.PartitionIndex, p.CommittedOffset, p.ErrorCode)
				}
			}
		}
		return errors.Join(errs...)
	})
	return out
}

// member is a live consumer group member held with JoinGroup and
// SyncGroup; its session outlasts the test, which leaves at cleanup.
type member struct {
	id string
}

// join makes a one-member group that subscribes to topic and is assigned
// parts of it.
func join(t *testing.T, cl *kafka.Client, group, topic string, parts []int32) member {
	t.Helper()
	ctx := testCtx(t)
	sub, err := protocol.EncodeConsumerSubscription(&protocol.ConsumerProtocolSubscription{Topics: []string{topic}, GenerationID: -1}, 0)
	require.NoError(t, err)
	req := protocol.NewJoinGroupRequest()
	req.GroupID, req.SessionTimeoutMs, req.RebalanceTimeoutMs = group, 60000, 10000
	req.ProtocolType = "consumer"
	req.Protocols = []protocol.JoinGroupRequestProtocol{{Name: "range", Metadata: sub}}
	var coord *kafka.Broker
	var resp *protocol.JoinGroupResponse
	retryLoading(t, cl, group, func(b *kafka.Broker) error {
		coord, req.MemberID = b, ""
		r, err := b.JoinGroup(ctx, req)
		if err != nil {
			return err
		}
		if errors.Is(protocol.ErrorForCode(r.ErrorCode), protocol.ErrMemberIDRequired) {
			req.MemberID = r.MemberID
			if r, err = b.JoinGroup(ctx, req); err != nil {
				return err
			}
		}
		resp = r
		return protocol.ErrorForCode(r.ErrorCode)
	})
	require.Equal(t, resp.MemberID, resp.Leader, "the only member leads")

	assignment, err := protocol.EncodeConsumerAssignment(&protocol.ConsumerProtocolAssignment{
		AssignedPartitions: []protocol.ConsumerProtocolAssignmentTopicPartition{{Topic: topic, Partitions: parts}},
	}, 0)
	require.NoError(t, err)
	consumer := "consumer"
	sreq := protocol.NewSyncGroupRequest()
	sreq.GroupID, sreq.GenerationID, sreq.MemberID = group, resp.GenerationID, resp.MemberID
	sreq.ProtocolType, sreq.ProtocolName = &consumer, resp.ProtocolName
	sreq.Assignments = []protocol.SyncGroupRequestAssignment{{MemberID: resp.MemberID, Assignment: assignment}}
	sresp, err := coord.SyncGroup(ctx, sreq)
	require.NoError(t, err)
	require.NoError(t, protocol.ErrorForCode(sresp.ErrorCode))

	m := member{id: resp.MemberID}
	t.Cleanup(func() {
		lreq := protocol.NewLeaveGroupRequest()
		lreq.GroupID, lreq.MemberID = group, m.id
		lreq.Members = []protocol.LeaveGroupRequestMemberIdentity{{MemberID: m.id}}
		_, _ = coord.LeaveGroup(context.Background(), lreq)
	})
	return m
}

func mustTopic(t *testing.T, cl *kafka.Client, name string) *kafka.Topic {
	t.Helper()
	topic, err := cl.Topic(testCtx(t), name)
	require.NoError(t, err)
	return topic
}

// decodeStrict decodes exactly one JSON document with no unknown fields.
func decodeStrict(s string, v any) error {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("more than one JSON document")
	}
	return nil
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}

func zkConn(t *testing.T, connect string) *zk.Conn {
	t.Helper()
	conn, _, err := zk.Connect([]string{connect}, 10*time.Second,
		zk.WithLogInfo(false), zk.WithLogger(discardLogger{}), zk.WithEventCallback(func(zk.Event) {}))
	require.NoError(t, err)
	t.Cleanup(conn.Close)
	return conn
}

type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}

// zkCreate creates path, and its missing parents, holding data.
func zkCreate(t *testing.T, conn *zk.Conn, path, data string) {
	t.Helper()
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	for i := range parts {
		p := "/" + strings.Join(parts[:i+1], "/")
		var d []byte
		if i == len(parts)-1 {
			d = []byte(data)
		}
		_, err := conn.Create(p, d, 0, zk.WorldACL(zk.PermAll))
		if errors.Is(err, zk.ErrNodeExists) {
			if i == len(parts)-1 {
				_, err = conn.Set(p, d, -1)
			} else {
				err = nil
			}
		}
		require.NoError(t, err, p)
	}
}
