package main

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/internal/testcluster"
	"github.com/gregorkafka/gregor/kafka"
)

func TestMain(m *testing.M) { testcluster.Main(m) }

// TestKafkaTools builds the binary once and runs it as a subprocess
// against real clusters, one subtest per command family.
func TestKafkaTools(t *testing.T) {
	if testing.Short() {
		t.Skip("needs real Kafka clusters")
	}
	bin := buildTool(t, t.TempDir())
	t.Run("kraft", func(t *testing.T) {
		c := testcluster.Shared(t, testcluster.KRaftSingle)
		kraftTests(t, tool{bin: bin, brokers: strings.Join(c.Bootstrap(), ",")}, c)
	})
	t.Run("zookeeper", func(t *testing.T) {
		c := testcluster.Shared(t, testcluster.ZooKeeperSingle)
		zooKeeperTests(t, tool{bin: bin, brokers: strings.Join(c.Bootstrap(), ",")}, c)
	})
}

// JSON shapes as scripts see them; decoding disallows unknown fields, so a
// renamed or added field fails here first.
type (
	jsonTopics struct {
		Topics []struct {
			Topic             string `json:"topic"`
			Partitions        int    `json:"partitions"`
			ReplicationFactor int    `json:"replication_factor"`
			Internal          bool   `json:"internal"`
		} `json:"topics"`
	}
	jsonTopic struct {
		Topic             string `json:"topic"`
		PartitionCount    int    `json:"partition_count"`
		ReplicationFactor int    `json:"replication_factor"`
		Internal          bool   `json:"internal"`
		Partitions        []struct {
			Partition       int32   `json:"partition"`
			Leader          int32   `json:"leader"`
			Replicas        []int32 `json:"replicas"`
			ISR             []int32 `json:"isr"`
			OfflineReplicas []int32 `json:"offline_replicas"`
		} `json:"partitions"`
	}
	jsonOffsets struct {
		Topic   string `json:"topic"`
		At      string `json:"at"`
		Offsets []struct {
			Partition int32 `json:"partition"`
			Offset    int64 `json:"offset"`
		} `json:"offsets"`
	}
	jsonLag struct {
		Topic      string `json:"topic"`
		Group      string `json:"group"`
		State      string `json:"state"`
		Partitions []struct {
			Topic         string `json:"topic"`
			Partition     int32  `json:"partition"`
			Lag           *int64 `json:"lag"`
			LatestOffset  *int64 `json:"latest_offset"`
			CurrentOffset *int64 `json:"current_offset"`
			ConsumerID    string `json:"consumer_id"`
			ClientID      string `json:"client_id"`
		} `json:"partitions"`
		TotalLag int64 `json:"total_lag"`
	}
	jsonGroupList struct {
		Groups []struct {
			GroupID      string `json:"group_id"`
			ProtocolType string `json:"protocol_type"`
			State        string `json:"state"`
			Type         string `json:"type"`
			Coordinator  int32  `json:"coordinator"`
		} `json:"groups"`
	}
	jsonTopicPartitions struct {
		Topic      string  `json:"topic"`
		Partitions []int32 `json:"partitions"`
	}
	jsonGroup struct {
		GroupID      string `json:"group_id"`
		Type         string `json:"type"`
		State        string `json:"state"`
		ProtocolType string `json:"protocol_type"`
		Protocol     string `json:"protocol"`
		Coordinator  int32  `json:"coordinator"`
		Members      []struct {
			MemberID        string                `json:"member_id"`
			GroupInstanceID string                `json:"group_instance_id"`
			ClientID        string                `json:"client_id"`
			Host            string                `json:"host"`
			Subscription    []string              `json:"subscription"`
			Assignment      []jsonTopicPartitions `json:"assignment"`
			DecodeError     string                `json:"decode_error"`
		} `json:"members"`
		ZooKeeperMembers []struct {
			ConsumerID   string                `json:"consumer_id"`
			Subscription string                `json:"subscription"`
			Owns         []jsonTopicPartitions `json:"owns"`
		} `json:"zookeeper_members"`
	}
	jsonTopicGroups struct {
		Topic  string `json:"topic"`
		Groups []struct {
			GroupID      string `json:"group_id"`
			State        string `json:"state"`
			Protocol     string `json:"protocol"`
			ProtocolType string `json:"protocol_type"`
			Members      int    `json:"members"`
		} `json:"groups"`
	}
	jsonReset struct {
		Topic      string `json:"topic"`
		Group      string `json:"group"`
		DryRun     bool   `json:"dry_run"`
		Refused    string `json:"refused"`
		Partitions []struct {
			Partition      int32  `json:"partition"`
			PreviousOffset *int64 `json:"previous_offset"`
			NewOffset      int64  `json:"new_offset"`
		} `json:"partitions"`
	}
	jsonConsumed struct {
		Topic    string `json:"topic"`
		Messages []struct {
			Partition   int32   `json:"partition"`
			Offset      int64   `json:"offset"`
			TimestampMs int64   `json:"timestamp_ms"`
			Key         *string `json:"key"`
			Value       *string `json:"value"`
			KeyBase64   []byte  `json:"key_base64"`
			ValueBase64 []byte  `json:"value_base64"`
		} `json:"messages"`
	}
	jsonProduced struct {
		Topic      string `json:"topic"`
		Messages   int    `json:"messages"`
		Partitions []struct {
			Partition   int32 `json:"partition"`
			Messages    int   `json:"messages"`
			FirstOffset int64 `json:"first_offset"`
		} `json:"partitions"`
	}
)

// lagByPartition indexes a lag report's rows.
func (l *jsonLag) row(t *testing.T, topic string, partition int32) (lag, latest, current *int64, consumer, client string) {
	t.Helper()
	for _, p := range l.Partitions {
		if p.Topic == topic && p.Partition == partition {
			return p.Lag, p.LatestOffset, p.CurrentOffset, p.ConsumerID, p.ClientID
		}
	}
	t.Fatalf("no row for %s/%d in %+v", topic, partition, l.Partitions)
	return
}

func ptr(v int64) *int64 { return &v }

func kraftTests(t *testing.T, tl tool, c *testcluster.Cluster) {
	cl := newClient(t, c.Bootstrap())
	// A topic with known content: partition 0 holds 5 records stamped from
	// base (one per millisecond), partition 1 holds 2 stamped an hour
	// later, partition 2 is empty.
	base := time.Date(2021, 3, 4, 5, 6, 7, 0, time.UTC)
	topic := mkTopic(t, cl, "tools-main", 3)
	produceAt(t, topic, 0, base, "a", "b", "c", "d", "e")
	produceAt(t, topic, 1, base.Add(time.Hour), "f", "g")
	mkTopic(t, cl, "tools-other", 1)

	t.Run("print_topics", func(t *testing.T) {
		out := tl.ok(t, "print_topics")
		assert.Regexp(t, `(?m)^Topic\s+Partitions\s+Replication$`, out)
		assert.Regexp(t, `(?m)^tools-main\s+3\s+1$`, out)
		assert.NotContains(t, out, "__consumer_offsets", "internal topics are hidden by default")

		var js jsonTopics
		tl.json(t, &js, "print-topics")
		found := false
		for _, tp := range js.Topics {
			if tp.Topic == "tools-main" {
				found = true
				assert.Equal(t, 3, tp.Partitions)
				assert.Equal(t, 1, tp.ReplicationFactor)
			}
		}
		assert.True(t, found, "%+v", js)
	})

	t.Run("verbose prints requests", func(t *testing.T) {
		r := tl.run(t, "desc_topic", "tools-main", "-v")
		require.Equal(t, exitOK, r.code, r.stderr)
		assert.Contains(t, r.stdout, "Partitions:")
		// The seed's handshake and lookup, then the broker's own
		// connection, each request with its answer.
		assert.Regexp(t, `(?m)^-> seed \S+ general ApiVersions v\d+ \d+ B$`, r.stderr)
		assert.Regexp(t, `(?m)^<- seed \S+ general ApiVersions v\d+ \d+ B \S+s$`, r.stderr)
		assert.Regexp(t, `(?m)^-> (seed \S+|broker \d+ \S+) general Metadata v\d+ \d+ B$`, r.stderr)
		assert.Regexp(t, `(?m)^<- (seed \S+|broker \d+ \S+) general Metadata v\d+ \d+ B \S+s$`, r.stderr)
		quiet := tl.run(t, "desc_topic", "tools-main")
		assert.NotContains(t, quiet.stderr, "->")
	})

	t.Run("desc_topic", func(t *testing.T) {
		out := tl.ok(t, "desc_topic", "tools-main")
		assert.Regexp(t, `(?m)^Topic:\s+tools-main$`, out)
		assert.Regexp(t, `(?m)^Partitions:\s+3$`, out)
		assert.Regexp(t, `(?m)^Replicas:\s+1$`, out)
		assert.Regexp(t, `(?m)^Partition\s+Leader\s+Replicas\s+ISR$`, out)
		assert.Regexp(t, `(?m)^2\s+1\s+1\s+1$`, out)

		var js jsonTopic
		tl.json(t, &js, "desc-topic", "tools-main")
		assert.Equal(t, "tools-main", js.Topic)
		assert.Equal(t, 3, js.PartitionCount)
		require.Len(t, js.Partitions, 3)
		for i, p := range js.Partitions {
			assert.Equal(t, int32(i), p.Partition)
			assert.Equal(t, int32(1), p.Leader)
			assert.Equal(t, []int32{1}, p.Replicas)
			assert.Equal(t, []int32{1}, p.ISR)
			assert.Empty(t, p.OfflineReplicas)
		}
	})

	t.Run("print_offsets", func(t *testing.T) {
		offsets := func(at string) map[int32]int64 {
			var js jsonOffsets
			tl.json(t, &js, "print_offsets", "tools-main", at)
			assert.Equal(t, at, js.At)
			m := map[int32]int64{}
			for _, o := range js.Offsets {
				m[o.Partition] = o.Offset
			}
			return m
		}
		assert.Equal(t, map[int32]int64{0: 0, 1: 0, 2: 0}, offsets("earliest"))
		assert.Equal(t, map[int32]int64{0: 5, 1: 2, 2: 0}, offsets("latest"))
		// The third record of partition 0 is stamped base+2ms; partition 1
		// starts later; an empty partition answers its latest offset.
		at := base.Add(2 * time.Millisecond).Format(time.RFC3339Nano)
		assert.Equal(t, map[int32]int64{0: 2, 1: 0, 2: 0}, offsets(at))
		assert.Equal(t, map[int32]int64{0: 5, 1: 2, 2: 0}, offsets("2030-01-01T00:00:00Z"))

		out := tl.ok(t, "print_offsets", "tools-main", "latest")
		assert.Regexp(t, `(?m)^Partition\s+Offset\n0\s+5\n1\s+2\n2\s+0\n$`, out)
	})

	t.Run("lag", func(t *testing.T) {
		commit(t, cl, "lag-group", "tools-main", map[int32]int64{0: 2, 1: 2})

		var js jsonLag
		tl.json(t, &js, "print_consumer_lag", "tools-main", "lag-group")
		assert.Equal(t, "lag-group", js.Group)
		assert.Equal(t, "Empty", js.State)
		assert.Equal(t, int64(3), js.TotalLag)
		lag, latest, current, _, _ := js.row(t, "tools-main", 0)
		assert.Equal(t, []*int64{ptr(3), ptr(5), ptr(2)}, []*int64{lag, latest, current})
		lag, latest, current, _, _ = js.row(t, "tools-main", 1)
		assert.Equal(t, []*int64{ptr(0), ptr(2), ptr(2)}, []*int64{lag, latest, current})
		lag, latest, current, _, _ = js.row(t, "tools-main", 2)
		assert.Equal(t, []*int64{nil, ptr(0), nil}, []*int64{lag, latest, current}, "never committed")

		out := tl.ok(t, "print_consumer_lag", "tools-main", "lag-group")
		assert.Regexp(t, `(?m)^Partition\s+Lag\s+Latest Offset\s+Current Offset\s+Consumer ID\s+Client ID$`, out)
		assert.Regexp(t, `(?m)^0\s+3\s+5\s+2\s+-\s+-$`, out)
		assert.Regexp(t, `(?m)^2\s+-\s+0\s+-\s+-\s+-$`, out)
		assert.Contains(t, out, "Total lag: 3")

		// group_lag covers every topic the group has offsets for.
		commit(t, cl, "lag-group", "tools-other", map[int32]int64{0: 0})
		produceAt(t, mustTopic(t, cl, "tools-other"), 0, base, "x", "y")
		var all jsonLag
		tl.json(t, &all, "group_lag", "lag-group")
		assert.Equal(t, int64(5), all.TotalLag)
		assert.Len(t, all.Partitions, 3, "partitions with commits only: %+v", all.Partitions)
		lag, _, _, _, _ = all.row(t, "tools-other", 0)
		assert.Equal(t, ptr(2), lag)
		out = tl.ok(t, "group-lag", "lag-group")
		assert.Regexp(t, `(?m)^Topic\s+Partition\s+Lag`, out)
		assert.Regexp(t, `(?m)^tools-other\s+0\s+2\s+2\s+0\s`, out)
		assert.Contains(t, out, "Total lag: 5")
	})

	t.Run("groups", func(t *testing.T) {
		commit(t, cl, "offsets-only", "tools-main", map[int32]int64{0: 1})
		commit(t, cl, "elsewhere", "tools-other", map[int32]int64{0: 1})
		m := join(t, cl, "live-group", "tools-main", []int32{0, 1, 2})

		var list jsonGroupList
		tl.json(t, &list, "list_groups")
		states := map[string]string{}
		for _, g := range list.Groups {
			states[g.GroupID] = g.State
			assert.Equal(t, int32(1), g.Coordinator)
		}
		assert.Equal(t, "Stable", states["live-group"])
		assert.Equal(t, "Empty", states["offsets-only"])
		assert.Regexp(t, `(?m)^live-group\s+consumer\s+Stable\s+classic\s+1$`, tl.ok(t, "list-groups"))

		var d jsonGroup
		tl.json(t, &d, "describe_group", "live-group")
		assert.Equal(t, "Stable", d.State)
		assert.Equal(t, "classic", d.Type)
		assert.Equal(t, "consumer", d.ProtocolType)
		assert.Equal(t, "range", d.Protocol)
		require.Len(t, d.Members, 1)
		assert.Equal(t, m.id, d.Members[0].MemberID)
		assert.Equal(t, "kafka-tools-test", d.Members[0].ClientID)
		assert.NotEmpty(t, d.Members[0].Host)
		assert.Equal(t, []string{"tools-main"}, d.Members[0].Subscription)
		assert.Equal(t, []jsonTopicPartitions{{Topic: "tools-main", Partitions: []int32{0, 1, 2}}}, d.Members[0].Assignment)
		out := tl.ok(t, "describe_group", "live-group")
		assert.Regexp(t, `(?m)^State:\s+Stable$`, out)
		assert.Regexp(t, `(?m)^Type:\s+classic$`, out)
		assert.Regexp(t, `(?m)^`+m.id+`\s+kafka-tools-test\s+\S+\s+tools-main:0,1,2$`, out)

		var tg jsonTopicGroups
		tl.json(t, &tg, "print_managed_consumer_groups", "tools-main")
		byID := map[string]string{}
		for _, g := range tg.Groups {
			byID[g.GroupID] = g.State + "/" + g.Protocol + "/" + g.ProtocolType + "/" + strconv.Itoa(g.Members)
		}
		assert.Equal(t, "Stable/range/consumer/1", byID["live-group"])
		assert.Equal(t, "Empty///0", byID["offsets-only"])
		assert.NotContains(t, byID, "elsewhere")
		assert.Regexp(t, `(?m)^GroupId\s+State\s+Protocol\s+ProtocolType\s+Members$`,
			tl.ok(t, "print-managed-consumer-groups", "tools-main"))

		// The lag report names the member each partition is assigned to.
		var js jsonLag
		tl.json(t, &js, "print_consumer_lag", "tools-main", "live-group")
		_, _, _, consumer, client := js.row(t, "tools-main", 1)
		assert.Equal(t, m.id, consumer)
		assert.Equal(t, "kafka-tools-test", client)
		assert.Equal(t, "Stable", js.State)

		tl.fails(t, exitError, `group "no-such-group" does not exist`, "describe_group", "no-such-group")
		tl.fails(t, exitError, `group "no-such-group" does not exist`, "print_consumer_lag", "tools-main", "no-such-group")
		tl.fails(t, exitError, `group "no-such-group" does not exist`, "group_lag", "no-such-group")
	})

	t.Run("reset_offsets", func(t *testing.T) {
		const g = "reset-group"
		commit(t, cl, g, "tools-main", map[int32]int64{0: 4, 1: 1, 2: 0})
		reset := func(args ...string) jsonReset {
			var js jsonReset
			tl.json(t, &js, append([]string{"reset_offsets", "tools-main", g}, args...)...)
			return js
		}

		js := reset("earliest")
		assert.Equal(t, map[int32]int64{0: 0, 1: 0, 2: 0}, committed(t, cl, g, "tools-main"))
		assert.False(t, js.DryRun)
		require.Len(t, js.Partitions, 3)
		assert.Equal(t, ptr(4), js.Partitions[0].PreviousOffset)
		assert.Equal(t, int64(0), js.Partitions[0].NewOffset)

		reset("latest")
		assert.Equal(t, map[int32]int64{0: 5, 1: 2, 2: 0}, committed(t, cl, g, "tools-main"))

		reset(base.Add(3 * time.Millisecond).Format(time.RFC3339Nano))
		assert.Equal(t, map[int32]int64{0: 3, 1: 0, 2: 0}, committed(t, cl, g, "tools-main"))

		out := tl.ok(t, "reset-offsets", "tools-main", g, "1", "--partitions", "0,1")
		assert.Regexp(t, `(?m)^0\s+3\s+1$`, out)
		assert.Equal(t, map[int32]int64{0: 1, 1: 1, 2: 0}, committed(t, cl, g, "tools-main"))

		dry := reset("latest", "--dry-run")
		assert.True(t, dry.DryRun)
		assert.Equal(t, int64(5), dry.Partitions[0].NewOffset)
		assert.Equal(t, map[int32]int64{0: 1, 1: 1, 2: 0}, committed(t, cl, g, "tools-main"), "a dry run writes nothing")

		// Invalid arguments change nothing.
		tl.fails(t, exitError, "offset 3 is outside partition 1's range 0..2", "reset_offsets", "tools-main", g, "3")
		tl.fails(t, exitUsage, "bad offset or timestamp", "reset_offsets", "tools-main", g, "last-tuesday")
		tl.fails(t, exitError, "has no partition 7", "reset_offsets", "tools-main", g, "earliest", "--partitions", "7")
		tl.fails(t, exitError, `topic "nope" does not exist`, "reset_offsets", "nope", g, "earliest")
		assert.Equal(t, map[int32]int64{0: 1, 1: 1, 2: 0}, committed(t, cl, g, "tools-main"))

		// A group with a live member is refused; --force tries, and Kafka's
		// coordinator refuses commits from outside the group.
		const live = "reset-live"
		commit(t, cl, live, "tools-main", map[int32]int64{0: 2})
		join(t, cl, live, "tools-main", []int32{0, 1, 2})
		tl.fails(t, exitError, `group "reset-live" has 1 live member(s) (state Stable)`,
			"reset_offsets", "tools-main", live, "earliest")
		tl.fails(t, exitError, "refused the commit", "reset_offsets", "tools-main", live, "earliest", "--force")
		assert.Equal(t, map[int32]int64{0: 2}, committed(t, cl, live, "tools-main"))
		// A dry run changes nothing: it shows the plan, and what a real
		// run would meet.
		out = tl.ok(t, "reset_offsets", "tools-main", live, "earliest", "--dry-run")
		assert.Regexp(t, `(?m)^0\s+2\s+0$`, out)
		assert.Contains(t, out, `A real run would be refused: group "reset-live" has 1 live member(s) (state Stable)`)
		var liveDry jsonReset
		tl.json(t, &liveDry, "reset_offsets", "tools-main", live, "earliest", "--dry-run")
		assert.True(t, liveDry.DryRun)
		assert.Contains(t, liveDry.Refused, "live member")
		assert.Equal(t, map[int32]int64{0: 2}, committed(t, cl, live, "tools-main"))
		tl.fails(t, exitError, `group "reset-live" has 1 live member(s)`, "consume_topic", "tools-main", "--group", live)
	})

	t.Run("create_delete_topic", func(t *testing.T) {
		out := tl.ok(t, "create_topic", "tools-created", "-p", "2", "-r", "1", "-c", "retention.ms=3600000", "-c", "cleanup.policy=compact")
		assert.Equal(t, "Created topic tools-created (2 partitions, replication factor 1)\n", out)
		var js jsonTopic
		tl.json(t, &js, "desc_topic", "tools-created")
		assert.Equal(t, 2, js.PartitionCount)
		assert.Contains(t, tl.ok(t, "print_topics"), "tools-created")
		tl.fails(t, exitError, `topic "tools-created" already exists`, "create_topic", "tools-created")

		// pykafka's command line, replicas placed by hand.
		id := js.Partitions[0].Leader
		out = tl.ok(t, "--broker_version", "0.10.1", "create_topic", "tools-placed", "-t", "20000",
			"--replica_assignment", fmt.Sprintf(`{"0": [%d], "1": [%d], "2": [%d]}`, id, id, id),
			"--config_entries", `{"retention.ms": 3600000}`)
		assert.Equal(t, "Created topic tools-placed (3 partitions, replication factor 1)\n", out)
		var placed jsonTopic
		tl.json(t, &placed, "desc_topic", "tools-placed")
		require.Len(t, placed.Partitions, 3)
		for _, p := range placed.Partitions {
			assert.Equal(t, []int32{id}, p.Replicas)
		}
		tl.ok(t, "delete_topic", "tools-placed")

		assert.Equal(t, "Deleted topic tools-created\n", tl.ok(t, "delete_topic", "tools-created"))
		tl.fails(t, exitError, `topic "tools-created" does not exist`, "desc_topic", "tools-created")
		tl.fails(t, exitError, `topic "tools-created" does not exist`, "delete-topic", "tools-created")
		assert.NotContains(t, tl.ok(t, "print_topics"), "tools-created")

		var created map[string]any
		tl.json(t, &created, "create-topic", "tools-created-json", "-c", `{"retention.ms": 3600000}`)
		assert.Equal(t, map[string]any{"topic": "tools-created-json", "partitions": float64(1), "replication_factor": float64(1),
			"configs": map[string]any{"retention.ms": "3600000"}}, created)
		var deleted map[string]any
		tl.json(t, &deleted, "delete_topic", "tools-created-json")
		assert.Equal(t, map[string]any{"topic": "tools-created-json", "deleted": true}, deleted)
	})

	t.Run("produce_consume", func(t *testing.T) {
		pc := mkTopic(t, cl, "tools-pc", 2)
		var prod jsonProduced
		out := tl.runInput(t, "k1:v1\nk2:v2\nplain\r\nk1:v3\n", "produce", "tools-pc", "--key-separator", ":", "-o", "json")
		require.Equal(t, exitOK, out.code, out.stderr)
		require.NoError(t, decodeStrict(out.stdout, &prod))
		assert.Equal(t, 4, prod.Messages)

		// Keys land where Java's partitioner puts them.
		p1 := int32(kafka.Murmur2([]byte("k1"))&0x7fffffff) % 2
		var msgs jsonConsumed
		tl.json(t, &msgs, "consume_topic", "tools-pc", "--from", "earliest", "--limit", "4")
		require.Len(t, msgs.Messages, 4)
		byValue := map[string]int32{}
		for _, m := range msgs.Messages {
			require.NotNil(t, m.Value)
			byValue[*m.Value] = m.Partition
			if *m.Value == "plain" {
				assert.Nil(t, m.Key, "a line without the separator has no key")
			}
		}
		assert.Equal(t, p1, byValue["v1"])
		assert.Equal(t, p1, byValue["v3"])
		assert.Contains(t, byValue, "plain", "the \\r\\n ending is stripped")

		// Text output: values one per line; a group reads from its commits
		// and commits after what it printed.
		text := tl.ok(t, "consume-topic", "tools-pc", "--from", "earliest", "-l", "4", "--group", "pc-group")
		lines := strings.Split(strings.TrimSpace(text), "\n")
		assert.ElementsMatch(t, []string{"v1", "v2", "plain", "v3"}, lines)
		latest, err := pc.LatestOffsets(testCtx(t))
		require.NoError(t, err)
		assert.Equal(t, latest, committed(t, cl, "pc-group", "tools-pc"))

		// From the group's offsets, only what came after.
		produceAt(t, pc, 0, time.Now(), "later")
		r := tl.run(t, "consume_topic", "tools-pc", "--group", "pc-group", "--timeout", "1s", "--from", "earliest")
		require.Equal(t, exitOK, r.code, r.stderr)
		assert.Equal(t, "later\n", r.stdout)
		assert.Contains(t, r.stderr, "stopped at --timeout (1s) after 1 message(s)")

		// --outfile and --partition.
		file := t.TempDir() + "/out.txt"
		res := tl.runInput(t, "only-one\n", "produce", "tools-pc", "--partition", "1")
		require.Equal(t, exitOK, res.code, res.stderr)
		assert.Contains(t, res.stdout, "Produced 1 message(s) to tools-pc")
		tl.ok(t, "consume_topic", "tools-pc", "--from", "earliest", "--limit", "6", "--outfile", file)
		data := readFile(t, file)
		assert.Contains(t, data, "only-one\n")
		assert.Len(t, strings.Split(strings.TrimSpace(data), "\n"), 6)

		tl.fails(t, exitError, `topic "nope" does not exist`, "produce", "nope")
		tl.fails(t, exitError, "has no partition 5", "produce", "tools-pc", "--partition", "5")
	})

	t.Run("errors", func(t *testing.T) {
		tl.fails(t, exitError, `topic "nope" does not exist`, "desc_topic", "nope")
		tl.fails(t, exitError, `topic "nope" does not exist`, "print_offsets", "nope", "latest")
		tl.fails(t, exitError, `topic "nope" does not exist`, "print_consumer_lag", "nope", "g")
		tl.fails(t, exitError, `topic "nope" does not exist`, "consume_topic", "nope")
		tl.fails(t, exitUsage, `bad offset or timestamp "2021-02-30"`, "print_offsets", "tools-main", "2021-02-30")
		tl.fails(t, exitUsage, `bad offset "12"`, "print_offsets", "tools-main", "12")
		tl.fails(t, exitUsage, `unknown command "desc_topics"`, "desc_topics", "tools-main")

		r := tl.fails(t, exitError, "cannot reach the cluster: 127.0.0.1:1: dial tcp 127.0.0.1:1", "--brokers", "127.0.0.1:1", "print_topics")
		assert.Equal(t, 1, strings.Count(r.stderr, "\n"), "one line: %q", r.stderr)
		tl.fails(t, exitError, "cannot reach the cluster", "desc_topic", "tools-main", "--brokers", "127.0.0.1:1")
		// A deadline already past when the command starts.
		tl.fails(t, exitError, "timed out after 1ns (raise --timeout)", "print_topics", "--timeout", "1ns")
	})
}

func zooKeeperTests(t *testing.T, tl tool, c *testcluster.Cluster) {
	cl := newClient(t, c.Bootstrap())
	zkOnly := tool{bin: tl.bin} // no --brokers: bootstraps from ZooKeeper
	topic := mkTopic(t, cl, "zk-topic", 2)
	produceAt(t, topic, 0, time.Now(), "a", "b", "c", "d")
	produceAt(t, topic, 1, time.Now(), "e", "f")

	t.Run("bootstrap", func(t *testing.T) {
		out := zkOnly.ok(t, "print_topics", "--zookeeper", c.ZooKeeperConnect())
		assert.Regexp(t, `(?m)^zk-topic\s+2\s+1$`, out)
	})

	t.Run("zookeeper_group", func(t *testing.T) {
		// A pykafka BalancedConsumer group: offsets in Kafka, members and
		// owners in ZooKeeper (pykafka names owner nodes LEADER-PARTITION,
		// the Java consumer PARTITION).
		const g = "zk-group"
		commit(t, cl, g, "zk-topic", map[int32]int64{0: 1, 1: 2})
		zk := zkConn(t, c.ZooKeeperConnect())
		zkCreate(t, zk, "/consumers/"+g+"/ids/host-a:1111", "zk-topic")
		zkCreate(t, zk, "/consumers/"+g+"/ids/host-b:2222", `{"version":1,"subscription":{"zk-topic":1},"pattern":"static"}`)
		zkCreate(t, zk, "/consumers/"+g+"/owners/zk-topic/1-0", "host-a:1111")
		zkCreate(t, zk, "/consumers/"+g+"/owners/zk-topic/1", "host-b:2222")

		var js jsonLag
		zkOnly.json(t, &js, "print_consumer_lag", "zk-topic", g, "--zookeeper", c.ZooKeeperConnect())
		assert.Equal(t, int64(3), js.TotalLag)
		lag, _, _, consumer, _ := js.row(t, "zk-topic", 0)
		assert.Equal(t, ptr(3), lag)
		assert.Equal(t, "host-a:1111", consumer)
		_, _, _, consumer, _ = js.row(t, "zk-topic", 1)
		assert.Equal(t, "host-b:2222", consumer)
		out := tl.ok(t, "print_consumer_lag", "zk-topic", g, "--zookeeper", c.ZooKeeperConnect())
		assert.Regexp(t, `(?m)^0\s+3\s+4\s+1\s+host-a:1111\s+-$`, out)

		var d jsonGroup
		tl.json(t, &d, "describe_group", g, "--zookeeper", c.ZooKeeperConnect())
		require.Len(t, d.ZooKeeperMembers, 2)
		assert.Equal(t, "host-a:1111", d.ZooKeeperMembers[0].ConsumerID)
		assert.Equal(t, "zk-topic", d.ZooKeeperMembers[0].Subscription)
		assert.Equal(t, []jsonTopicPartitions{{Topic: "zk-topic", Partitions: []int32{0}}}, d.ZooKeeperMembers[0].Owns)
		assert.Equal(t, "zk-topic", d.ZooKeeperMembers[1].Subscription, "the Java registration's subscription")

		// Registered consumers block a reset; --force goes ahead, and Kafka
		// accepts it since it manages no members of this group.
		tl.fails(t, exitError, "2 consumer(s) registered in ZooKeeper",
			"reset_offsets", "zk-topic", g, "earliest", "--zookeeper", c.ZooKeeperConnect())
		assert.Equal(t, map[int32]int64{0: 1, 1: 2}, committed(t, cl, g, "zk-topic"))
		tl.ok(t, "reset_offsets", "zk-topic", g, "latest", "--zookeeper", c.ZooKeeperConnect(), "--force")
		assert.Equal(t, map[int32]int64{0: 4, 1: 2}, committed(t, cl, g, "zk-topic"))

		// A group known only to ZooKeeper exists for describe_group.
		zkCreate(t, zk, "/consumers/zk-only/ids/host-c:3333", "zk-topic")
		tl.ok(t, "describe_group", "zk-only", "--zookeeper", c.ZooKeeperConnect())
		tl.fails(t, exitError, `group "zk-only" does not exist`, "describe_group", "zk-only")
	})

	t.Run("python3_owner_paths", func(t *testing.T) {
		// pykafka 2.8 on Python 3 claims under owners/b'TOPIC'; gregor
		// claims under both spellings.
		const g = "zk-py3"
		commit(t, cl, g, "zk-topic", map[int32]int64{0: 1, 1: 1})
		zk := zkConn(t, c.ZooKeeperConnect())
		zkCreate(t, zk, "/consumers/"+g+"/ids/py-host:1", "zk-topic")
		zkCreate(t, zk, "/consumers/"+g+"/ids/go-host:2", "zk-topic")
		zkCreate(t, zk, "/consumers/"+g+"/owners/b'zk-topic'/1-0", "py-host:1")
		zkCreate(t, zk, "/consumers/"+g+"/owners/zk-topic/1-1", "go-host:2")
		zkCreate(t, zk, "/consumers/"+g+"/owners/b'zk-topic'/1-1", "go-host:2")

		out := tl.ok(t, "print_consumer_lag", "zk-topic", g, "--zookeeper", c.ZooKeeperConnect())
		assert.Regexp(t, `(?m)^0\s+3\s+4\s+1\s+py-host:1\s+-$`, out)
		assert.Regexp(t, `(?m)^1\s+1\s+2\s+1\s+go-host:2\s+-$`, out)

		var d jsonGroup
		tl.json(t, &d, "describe_group", g, "--zookeeper", c.ZooKeeperConnect())
		require.Len(t, d.ZooKeeperMembers, 2)
		assert.Equal(t, "go-host:2", d.ZooKeeperMembers[0].ConsumerID)
		assert.Equal(t, []jsonTopicPartitions{{Topic: "zk-topic", Partitions: []int32{1}}}, d.ZooKeeperMembers[0].Owns)
		assert.Equal(t, []jsonTopicPartitions{{Topic: "zk-topic", Partitions: []int32{0}}}, d.ZooKeeperMembers[1].Owns)
		assert.NotContains(t, tl.ok(t, "describe_group", g, "--zookeeper", c.ZooKeeperConnect()), "b'")

		// The brokers know the group by its offsets only; ZooKeeper has
		// its members.
		var tg jsonTopicGroups
		tl.json(t, &tg, "print_managed_consumer_groups", "zk-topic", "--zookeeper", c.ZooKeeperConnect())
		byID := map[string]string{}
		for _, e := range tg.Groups {
			byID[e.GroupID] = e.State + "/" + e.ProtocolType + "/" + strconv.Itoa(e.Members)
		}
		assert.Equal(t, "Stable/zookeeper/2", byID[g])
		out = tl.ok(t, "print_managed_consumer_groups", "zk-topic")
		assert.Regexp(t, `(?m)^zk-py3\s+Empty\s`, out)
		assert.Contains(t, out, "under /consumers/GROUP/ids. Give --zookeeper")
	})

	t.Run("bad_zookeeper", func(t *testing.T) {
		zkOnly.fails(t, exitUsage, "bad --zookeeper connect string", "print_topics", "--zookeeper", "host:notaport")
	})
}
