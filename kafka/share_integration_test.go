package kafka

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"maps"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/internal/testcluster"
	"github.com/gregorkafka/gregor/protocol"
)

// shareEnv is a topic on the shared KRaft cluster and a share group reading
// it from the earliest offset.
type shareEnv struct {
	tc    *testcluster.Cluster
	h     handler.Handler
	ctx   context.Context
	cl    *Client
	topic *Topic
	group string
}

func newShareEnv(t *testing.T, h handler.Handler, partitions int32, groupConfigs ...ConfigAlteration) *shareEnv {
	t.Helper()
	tc := testcluster.Shared(t, testcluster.KRaftSingle)
	ctx := testCtx(t)
	cl := newTestClient(t, ctx, h, Config{Hosts: tc.Bootstrap()})
	topic := makeTopic(t, ctx, cl, TopicSpec{Name: uniqueTopic(t, "share"), Partitions: partitions, ReplicationFactor: 1})
	env := &shareEnv{tc: tc, h: h, ctx: ctx, cl: cl, topic: topic, group: topic.Name() + "-group"}
	alters := append([]ConfigAlteration{{Name: "share.auto.offset.reset", Value: "earliest"}}, groupConfigs...)
	res, err := cl.Cluster().IncrementalAlterConfigs(ctx, map[ConfigResource][]ConfigAlteration{
		{Type: ConfigGroup, Name: env.group}: alters}, false)
	require.NoError(t, err)
	for _, err := range res {
		require.NoError(t, err)
	}
	return env
}

// produce writes n records, one request each (so each is its own batch and
// members can acquire them separately), round-robin over the partitions,
// and returns their values by partition and offset.
func (env *shareEnv) produce(t *testing.T, n int, tag string) map[msgID]string {
	t.Helper()
	sp, err := env.topic.SyncProducer(ProducerConfig{Partitioner: RoundRobinPartitioner()})
	require.NoError(t, err)
	defer sp.Close()
	out := map[msgID]string{}
	for i := range n {
		v := fmt.Sprintf("%s-%d", tag, i)
		p, off, err := sp.Produce(env.ctx, Message{Value: []byte(v)})
		require.NoError(t, err)
		out[msgID{p, off}] = v
	}
	return out
}

func (env *shareEnv) consumer(t *testing.T, cfg ShareConsumerConfig) *ShareConsumer {
	t.Helper()
	cfg.Group = env.group
	cfg.Topics = []string{env.topic.Name()}
	sc, err := env.cl.ShareConsumer(env.ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = sc.Close(context.Background()) })
	return sc
}

// waitAllDone proves every record so far is finished (accepted or
// rejected, never to be delivered again): it writes a sentinel to each
// partition and has a fresh member accept whatever it gets, failing on
// anything but a sentinel, until the group's start offset of every
// partition has reached its sentinel. (Brokers persist the start offset
// with the next state change, hence the sentinels.)
func (env *shareEnv) waitAllDone(t *testing.T) {
	t.Helper()
	sentinels := map[int32]int64{}
	for _, p := range env.topic.Partitions() {
		sentinels[p.ID()] = produceRecords(t, env.ctx, p, -1, -1)
	}
	checker := env.consumer(t, ShareConsumerConfig{AckMode: AckExplicit, MaxWait: 100 * time.Millisecond})
	var last string
	eventually(t, env.ctx, env.h, "the share group's start offsets to reach the sentinels", func() bool {
		ctx, cancel := context.WithTimeout(env.ctx, 200*time.Millisecond)
		msgs, err := checker.Poll(ctx)
		cancel()
		if err != nil && ctx.Err() == nil {
			t.Errorf("checker Poll: %v", err)
		}
		for _, m := range msgs {
			assert.Equal(t, sentinels[m.Partition], m.Offset, "a record came back: %s/%d at %d, delivery %d",
				m.Topic, m.Partition, m.Offset, m.DeliveryCount)
			require.NoError(t, checker.Acknowledge(m, AckAccept))
		}
		if err := checker.Commit(env.ctx); err != nil {
			t.Errorf("checker Commit: %v", err)
		}
		got, err := env.cl.Cluster().ShareGroupStartOffsets(env.ctx, env.group, env.topic.Name())
		if now := fmt.Sprint(got, err); now != last {
			t.Logf("start offsets %s (sentinels at %v)", now, sentinels)
			last = now
		}
		if err != nil {
			return false
		}
		for p, off := range sentinels {
			if got[env.topic.Name()][p] < off {
				return false
			}
		}
		return true
	})
}

// pollUntil polls sc, handing each batch to fn, until fn says stop.
func pollUntil(t *testing.T, ctx context.Context, sc *ShareConsumer, fn func([]ShareMessage) bool) {
	t.Helper()
	for {
		msgs, err := sc.Poll(ctx)
		require.NoError(t, err)
		if fn(msgs) {
			return
		}
	}
}

func TestShareConsumerImplicit(t *testing.T) {
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		env := newShareEnv(t, h, 2)
		want := env.produce(t, 20, "implicit")
		var mu sync.Mutex
		var ackErrs []error
		sc := env.consumer(t, ShareConsumerConfig{OnAcknowledged: func(r ShareAckResult) {
			mu.Lock()
			defer mu.Unlock()
			if r.Err != nil {
				ackErrs = append(ackErrs, r.Err)
			}
		}})
		got := map[msgID]string{}
		pollUntil(t, env.ctx, sc, func(msgs []ShareMessage) bool {
			for _, m := range msgs {
				id := msgID{m.Partition, m.Offset}
				assert.NotContains(t, got, id, "delivered twice")
				assert.Equal(t, 1, m.DeliveryCount)
				assert.False(t, m.LockExpires.IsZero())
				got[id] = string(m.Value)
			}
			return len(got) >= len(want)
		})
		assert.Equal(t, want, got)
		require.NoError(t, sc.Commit(env.ctx)) // accepts the last Poll's records
		require.NoError(t, sc.Close(env.ctx))
		env.waitAllDone(t)
		mu.Lock()
		assert.Empty(t, ackErrs)
		mu.Unlock()
		_, err := sc.Poll(env.ctx)
		assert.ErrorIs(t, err, ErrShareConsumerClosed)
	})
}

// TestShareConsumerReleaseReject: a released record comes back with
// delivery count 2, a rejected one never does.
func TestShareConsumerReleaseReject(t *testing.T) {
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		env := newShareEnv(t, h, 1)
		want := env.produce(t, 12, "rr")
		sc := env.consumer(t, ShareConsumerConfig{AckMode: AckExplicit})
		first := map[msgID]bool{}
		redelivered := map[msgID]int{}
		const rejectAt, releaseEvery = 5, 3
		pollUntil(t, env.ctx, sc, func(msgs []ShareMessage) bool {
			for _, m := range msgs {
				id := msgID{m.Partition, m.Offset}
				switch {
				case !first[id]:
					first[id] = true
					assert.Equal(t, 1, m.DeliveryCount, "first delivery of %v", id)
					switch {
					case m.Offset == rejectAt:
						require.NoError(t, sc.Acknowledge(m, AckReject))
					case m.Offset%releaseEvery == 0:
						require.NoError(t, sc.Acknowledge(m, AckRelease))
					default:
						require.NoError(t, sc.Acknowledge(m, AckAccept))
					}
				default:
					redelivered[id] = m.DeliveryCount
					require.NoError(t, sc.Acknowledge(m, AckAccept))
				}
				// A second acknowledgement of the same delivery is refused.
				require.ErrorIs(t, sc.Acknowledge(m, AckAccept), ErrShareNotDelivered)
			}
			return len(first) == len(want) && len(redelivered) == 4 // offsets 0, 3, 6, 9
		})
		require.NoError(t, sc.Commit(env.ctx))
		require.NoError(t, sc.Close(env.ctx))
		env.waitAllDone(t)
		assert.Equal(t, map[msgID]int{{0, 0}: 2, {0, 3}: 2, {0, 6}: 2, {0, 9}: 2}, redelivered)
		assert.NotContains(t, redelivered, msgID{0, rejectAt})
	})
}

// TestShareConsumerExplicitUnacknowledged: an explicit consumer cannot poll
// past records it has not acknowledged.
func TestShareConsumerExplicitUnacknowledged(t *testing.T) {
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		env := newShareEnv(t, h, 1)
		env.produce(t, 3, "unacked")
		sc := env.consumer(t, ShareConsumerConfig{AckMode: AckExplicit})
		msgs, err := sc.Poll(env.ctx)
		require.NoError(t, err)
		require.NotEmpty(t, msgs)
		_, err = sc.Poll(env.ctx)
		require.ErrorIs(t, err, ErrShareUnacknowledged)
		for _, m := range msgs {
			require.NoError(t, sc.Acknowledge(m, AckAccept))
		}
		require.NoError(t, sc.Commit(env.ctx))
	})
}

// TestShareConsumerCloseWakesPoll: Close from another goroutine ends a Poll
// waiting for records.
func TestShareConsumerCloseWakesPoll(t *testing.T) {
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		env := newShareEnv(t, h, 1)
		sc := env.consumer(t, ShareConsumerConfig{})
		polled := make(chan error, 1)
		go func() {
			_, err := sc.Poll(env.ctx) // nothing to consume: waits
			polled <- err
		}()
		require.NoError(t, sc.Close(env.ctx))
		assert.ErrorIs(t, <-polled, ErrShareConsumerClosed)
		assert.ErrorIs(t, sc.Acknowledge(ShareMessage{}, AckAccept), ErrShareConsumerClosed)
		assert.NoError(t, sc.Close(env.ctx), "a second Close does nothing")
	})
}

// TestShareConsumerLockTimeout: a record held past its acquisition lock
// goes to another member with delivery count 2.
func TestShareConsumerLockTimeout(t *testing.T) {
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		env := newShareEnv(t, h, 1, ConfigAlteration{Name: "share.record.lock.duration.ms", Value: "1000"})
		want := env.produce(t, 3, "lock")
		slow := env.consumer(t, ShareConsumerConfig{AckMode: AckExplicit})
		var held []ShareMessage
		pollUntil(t, env.ctx, slow, func(msgs []ShareMessage) bool {
			held = append(held, msgs...)
			return len(held) == len(want)
		})
		for _, m := range held {
			assert.Equal(t, 1, m.DeliveryCount)
		}
		fast := env.consumer(t, ShareConsumerConfig{})
		got := map[msgID]int{}
		pollUntil(t, env.ctx, fast, func(msgs []ShareMessage) bool {
			for _, m := range msgs {
				got[msgID{m.Partition, m.Offset}] = m.DeliveryCount
			}
			return len(got) == len(want)
		})
		for id := range want {
			assert.Equal(t, 2, got[id], "delivery count of %v", id)
		}
		require.NoError(t, fast.Commit(env.ctx))
		for _, m := range held {
			require.NoError(t, slow.Acknowledge(m, AckAccept))
		}
		// Kafka 4.3 takes an acknowledgement of records whose lock moved on
		// without complaint, or answers INVALID_RECORD_STATE; either way
		// the records stay accepted once, by fast (waitAllDone).
		if err := slow.Commit(env.ctx); err != nil {
			var ackErr *ShareAckError
			require.ErrorAs(t, err, &ackErr)
			assert.ErrorIs(t, err, protocol.ErrInvalidRecordState)
		}
		require.NoError(t, fast.Close(env.ctx))
		require.NoError(t, slow.Close(env.ctx))
		env.waitAllDone(t)
	})
}

// TestShareConsumerUnsupported: a broker without share groups gets a clear
// error at construction.
func TestShareConsumerUnsupported(t *testing.T) {
	tc := testcluster.Shared(t, testcluster.ZooKeeperSingle)
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		ctx := testCtx(t)
		cl := newTestClient(t, ctx, h, Config{Hosts: tc.Bootstrap()})
		topic := makeTopic(t, ctx, cl, TopicSpec{Name: uniqueTopic(t, "share-old"), Partitions: 1, ReplicationFactor: 1})
		_, err := cl.ShareConsumer(ctx, ShareConsumerConfig{Group: "g", Topics: []string{topic.Name()}})
		require.ErrorIs(t, err, ErrShareGroupsUnsupported)
		assert.ErrorIs(t, err, protocol.ErrUnsupportedVersion)
		var ge *ShareGroupError
		assert.True(t, errors.As(err, &ge))
	})
}

// TestShareConsumerFeatureOff: a Kafka 4 cluster formatted with
// share.version=0 refuses share groups, and the consumer says so.
func TestShareConsumerFeatureOff(t *testing.T) {
	tc := testcluster.Shared(t, testcluster.Config{Mode: testcluster.KRaft, Brokers: 1,
		Features: map[string]int16{"share.version": 0}})
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		ctx := testCtx(t)
		cl := newTestClient(t, ctx, h, Config{Hosts: tc.Bootstrap()})
		topic := makeTopic(t, ctx, cl, TopicSpec{Name: uniqueTopic(t, "share-off"), Partitions: 1, ReplicationFactor: 1})
		_, err := cl.ShareConsumer(ctx, ShareConsumerConfig{Group: "g", Topics: []string{topic.Name()}})
		require.ErrorIs(t, err, ErrShareGroupsUnsupported)
		var ge *ShareGroupError
		assert.True(t, errors.As(err, &ge))
	})
}

func TestShareConsumerConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		cfg   ShareConsumerConfig
		field string
	}{
		{ShareConsumerConfig{Topics: []string{"a"}}, "ShareConsumerConfig.Group"},
		{ShareConsumerConfig{Group: "g"}, "ShareConsumerConfig.Topics"},
		{ShareConsumerConfig{Group: "g", Topics: []string{"a", ""}}, "ShareConsumerConfig.Topics[1]"},
		{ShareConsumerConfig{Group: "g", Topics: []string{"a", "a"}}, "ShareConsumerConfig.Topics[1]"},
		{ShareConsumerConfig{Group: "g", Topics: []string{"a"}, AckMode: 7}, "ShareConsumerConfig.AckMode"},
		{ShareConsumerConfig{Group: "g", Topics: []string{"a"}, MaxRecords: -1}, "ShareConsumerConfig.MaxRecords"},
		{ShareConsumerConfig{Group: "g", Topics: []string{"a"}, MaxWait: -time.Second}, "ShareConsumerConfig.MaxWait"},
		{ShareConsumerConfig{Group: "g", Topics: []string{"a"}, MaxBytes: -1}, "ShareConsumerConfig.MaxBytes"},
	} {
		_, err := newShareConsumer(context.Background(), nil, nil, tc.cfg)
		var ce *ConfigError
		require.ErrorAs(t, err, &ce, "%+v", tc.cfg)
		assert.Equal(t, tc.field, ce.Field)
	}
	cfg, err := ShareConsumerConfig{Group: "g", Topics: []string{"a"}}.withDefaults()
	require.NoError(t, err)
	assert.Equal(t, DefaultShareMaxRecords, cfg.MaxRecords)
	assert.Equal(t, DefaultShareMaxWait, cfg.MaxWait)
	assert.Equal(t, int32(DefaultShareMaxBytes), cfg.MaxBytes)
}

// deliveries records who got which record, each delivery separately.
type deliveries struct {
	mu  sync.Mutex
	got map[msgID][]string // record -> the members it was delivered to
}

func (d *deliveries) add(member string, id msgID) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.got[id] = append(d.got[id], member)
}

func (d *deliveries) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.got)
}

// startJavaShareConsumer runs Kafka's console share consumer in env's group
// until the test ends, adding what it prints to d as member "java".
func startJavaShareConsumer(t *testing.T, env *shareEnv, d *deliveries) {
	t.Helper()
	java, err := exec.LookPath("java")
	if err != nil {
		t.Skip("java not installed")
	}
	cmd := exec.CommandContext(env.ctx, java, "-cp", env.tc.Classpath(), "org.apache.kafka.tools.consumer.ConsoleShareConsumer",
		"--bootstrap-server", env.tc.Bootstrap()[0], "--topic", env.topic.Name(), "--group", env.group,
		"--formatter-property", "print.partition=true", "--formatter-property", "print.offset=true",
		"--consumer-property", "max.poll.records=3")
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			m := consoleLine.FindStringSubmatch(sc.Text())
			if m == nil {
				continue
			}
			p, _ := strconv.Atoi(m[1])
			off, _ := strconv.ParseInt(m[2], 10, 64)
			d.add("java", msgID{int32(p), off})
		}
	}()
}

// TestShareGroupWithJavaConsumer: two gregor members and a Java
// KafkaShareConsumer share a group; every record reaches exactly one of
// them, once, and is acknowledged.
func TestShareGroupWithJavaConsumer(t *testing.T) {
	forEachHandlerParallel(t, func(t *testing.T, h handler.Handler) {
		env := newShareEnv(t, h, 3)
		d := &deliveries{got: map[msgID][]string{}}
		startJavaShareConsumer(t, env, d)
		want := env.produce(t, 15, "before")
		eventually(t, env.ctx, h, "the Java member to consume", func() bool { return d.count() > 0 })

		var ackMu sync.Mutex
		var ackErrs []error
		onAck := func(r ShareAckResult) {
			ackMu.Lock()
			defer ackMu.Unlock()
			if r.Err != nil {
				ackErrs = append(ackErrs, r.Err)
			}
		}
		var values sync.Map // msgID -> value, as gregor members got it
		pollCtx, stop := context.WithCancel(env.ctx)
		var wg sync.WaitGroup
		var members []*ShareConsumer
		for i := range 2 {
			name := fmt.Sprintf("gregor-%d", i)
			sc := env.consumer(t, ShareConsumerConfig{MaxRecords: 3, OnAcknowledged: onAck})
			members = append(members, sc)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					msgs, err := sc.Poll(pollCtx)
					if err != nil {
						if pollCtx.Err() == nil {
							t.Errorf("%s: Poll: %v", name, err)
						}
						return
					}
					for _, m := range msgs {
						d.add(name, msgID{m.Partition, m.Offset})
						values.Store(msgID{m.Partition, m.Offset}, string(m.Value))
					}
				}
			}()
		}
		// The coordinator shares the partitions out on the members' next
		// heartbeats; produce the rest once the gregor members have theirs.
		for _, sc := range members {
			eventually(t, env.ctx, h, "an assignment", func() bool { return len(sc.Assignment()) > 0 })
		}
		for id, v := range env.produce(t, 45, "after") {
			want[id] = v
		}
		eventually(t, env.ctx, h, "every record to be delivered", func() bool { return d.count() >= len(want) })
		stop()
		wg.Wait()
		for _, sc := range members {
			require.NoError(t, sc.Commit(env.ctx))
			require.NoError(t, sc.Close(env.ctx))
		}
		d.mu.Lock()
		got := maps.Clone(d.got)
		d.mu.Unlock()
		env.waitAllDone(t)

		for id, ms := range got {
			assert.Contains(t, want, id)
			assert.Len(t, ms, 1, "record %v delivered to %v", id, ms)
		}
		assert.Equal(t, len(want), len(got))
		values.Range(func(k, v any) bool {
			assert.Equal(t, want[k.(msgID)], v, "value of %v", k)
			return true
		})
		perMember := map[string]int{}
		for _, ms := range got {
			for _, m := range ms {
				perMember[m]++
			}
		}
		t.Logf("deliveries per member: %v", perMember)
		assert.Greater(t, perMember["java"], 0)
		assert.Greater(t, perMember["gregor-0"]+perMember["gregor-1"], 0)
		ackMu.Lock()
		assert.Empty(t, ackErrs)
		ackMu.Unlock()
	})
}
