package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/internal/testcluster"
)

// TestKafkaToolsAdmin runs the cluster-administration commands as a
// subprocess against a real KRaft broker; acls against one running
// StandardAuthorizer.
func TestKafkaToolsAdmin(t *testing.T) {
	if testing.Short() {
		t.Skip("needs real Kafka clusters")
	}
	bin := buildTool(t, t.TempDir())
	c := testcluster.Shared(t, testcluster.KRaftSingle)
	tl := tool{bin: bin, brokers: strings.Join(c.Bootstrap(), ",")}
	cl := newClient(t, c.Bootstrap())
	suffix := fmt.Sprint(time.Now().UnixNano())
	name := "tools-admin-" + suffix
	topic := mkTopic(t, cl, name, 2)
	produceAt(t, topic, 0, time.Now(), "a", "b", "c", "d")

	t.Run("configs", func(t *testing.T) {
		out := tl.ok(t, "describe_configs", name)
		assert.Regexp(t, `(?m)^Config\s+Value\s+Source$`, out)
		assert.NotContains(t, out, "retention.ms", "defaults are left out")
		var js struct {
			Type    string `json:"type"`
			Name    string `json:"name"`
			Configs []struct {
				Name      string  `json:"name"`
				Value     *string `json:"value"`
				Source    string  `json:"source"`
				ReadOnly  bool    `json:"read_only"`
				Sensitive bool    `json:"sensitive"`
				Default   bool    `json:"default"`
			} `json:"configs"`
		}
		tl.json(t, &js, "describe-configs", name, "--all")
		assert.Greater(t, len(js.Configs), 10)

		out = tl.ok(t, "alter_configs", name, "--set", "retention.ms=7654321")
		assert.Regexp(t, `(?m)^retention\.ms\s+set\s+7654321$`, out)
		require.Eventually(t, func() bool { // the broker applies the controller's record asynchronously
			return strings.Contains(tl.ok(t, "describe_configs", name), "7654321")
		}, 30*time.Second, 100*time.Millisecond)
		assert.Regexp(t, `(?m)^retention\.ms\s+7654321\s+DYNAMIC_TOPIC_CONFIG$`, tl.ok(t, "describe_configs", name))
		tl.ok(t, "alter_configs", name, "--delete", "retention.ms")

		tl.fails(t, exitError, `topic "`+name+`-missing" does not exist`, "describe_configs", name+"-missing")
		tl.fails(t, exitUsage, "nothing to change", "alter_configs", name)
		tl.fails(t, exitUsage, "bad --type", "describe_configs", "--type", "planet", "x")
		tl.fails(t, exitError, "INVALID_CONFIG", "alter_configs", name, "--set", "retention.ms=soon")
		assert.Regexp(t, `(?m)^log\.dirs\s+\S+\s+STATIC_BROKER_CONFIG$`, tl.ok(t, "describe_configs", "--type", "broker", fmt.Sprint(cl.Cluster().Brokers()[0].ID())))
	})

	t.Run("add_partitions", func(t *testing.T) {
		var js struct {
			Topic      string `json:"topic"`
			Before     int    `json:"before"`
			Partitions int    `json:"partitions"`
		}
		tl.json(t, &js, "add_partitions", name, "-p", "3")
		assert.Equal(t, 2, js.Before)
		assert.Equal(t, 3, js.Partitions)
		tl.fails(t, exitError, "has 3 partitions", "add_partitions", name, "-p", "2")
		tl.fails(t, exitUsage, "--partitions", "add_partitions", name)
	})

	t.Run("delete_records", func(t *testing.T) {
		out := tl.ok(t, "delete_records", name, "--partition", "0", "--offset", "2")
		assert.Regexp(t, `(?m)^0\s+2$`, out)
		var js struct {
			Topic      string `json:"topic"`
			Partitions []struct {
				Partition    int32 `json:"partition"`
				LowWatermark int64 `json:"low_watermark"`
			} `json:"partitions"`
		}
		tl.json(t, &js, "delete-records", name)
		require.Len(t, js.Partitions, 3)
		assert.Equal(t, int64(4), js.Partitions[0].LowWatermark, "everything in partition 0")
		tl.fails(t, exitError, "OFFSET_OUT_OF_RANGE", "delete_records", name, "--partition", "0", "--offset", "99")
		tl.fails(t, exitError, "partition 7 of topic", "delete_records", name, "--partition", "7")
	})

	t.Run("elect_and_reassign", func(t *testing.T) {
		assert.Regexp(t, `(?m)^`+name+`\s+0\s+not needed$`, tl.ok(t, "elect_leaders", name, "--partition", "0"))
		assert.Contains(t, tl.ok(t, "reassign"), "No reassignments in progress")
		broker := fmt.Sprint(cl.Cluster().Brokers()[0].ID())
		assert.Regexp(t, `(?m)^0\s+`+broker+`$`, tl.ok(t, "reassign", name, "0="+broker))
		tl.fails(t, exitError, "NO_REASSIGNMENT_IN_PROGRESS", "reassign", name, "--cancel", "0")
		tl.fails(t, exitUsage, "want PARTITION=BROKER", "reassign", name, "0")
	})

	t.Run("log_dirs", func(t *testing.T) {
		var js struct {
			Dirs []struct {
				Broker      int32  `json:"broker"`
				Path        string `json:"path"`
				TotalBytes  int64  `json:"total_bytes"`
				UsableBytes int64  `json:"usable_bytes"`
				Replicas    []struct {
					Topic     string `json:"topic"`
					Partition int32  `json:"partition"`
					Size      int64  `json:"size"`
					OffsetLag int64  `json:"offset_lag"`
					Future    bool   `json:"future"`
				} `json:"replicas"`
			} `json:"dirs"`
		}
		tl.json(t, &js, "log_dirs", name)
		require.NotEmpty(t, js.Dirs)
		n := 0
		for _, d := range js.Dirs {
			for _, r := range d.Replicas {
				assert.Equal(t, name, r.Topic)
				n++
			}
		}
		assert.Equal(t, 3, n, "the topic's three replicas")
		assert.Regexp(t, `(?m)^\d+\s+\S+\s+`+name+`\s+0\s+\d+\s+0$`, tl.ok(t, "log_dirs", name))
	})

	t.Run("delete_group", func(t *testing.T) {
		group := "tools-admin-group-" + suffix
		commit(t, cl, group, name, map[int32]int64{0: 3, 1: 0})
		assert.Contains(t, tl.ok(t, "delete_group", group, "--topic", name, "--partition", "1"), "partitions 1")
		assert.Equal(t, map[int32]int64{0: 3}, committed(t, cl, group, name))
		assert.Contains(t, tl.ok(t, "delete_group", group), "Deleted group "+group)
		tl.fails(t, exitError, fmt.Sprintf("group %q does not exist", group), "delete_group", group)
	})

	t.Run("quotas", func(t *testing.T) {
		user := "tools-user-" + suffix
		assert.Regexp(t, `(?m)^`+user+`\s+-\s+producer_byte_rate\s+2048$`, tl.ok(t, "quotas", "--user", user, "--set", "producer_byte_rate=2048"))
		require.Eventually(t, func() bool {
			return strings.Contains(tl.ok(t, "quotas", "--user", user), "2048")
		}, 30*time.Second, 100*time.Millisecond)
		tl.ok(t, "quotas", "--user", user, "--remove", "producer_byte_rate")
		tl.fails(t, exitUsage, "needs --user", "quotas", "--set", "producer_byte_rate=1")
		tl.fails(t, exitUsage, "not a number", "quotas", "--user", user, "--set", "producer_byte_rate=lots")
	})

	t.Run("acls", func(t *testing.T) {
		tl.fails(t, exitError, "no authorizer", "acls", "list")
		tl.fails(t, exitUsage, "acls create needs", "acls", "create", "--resource-type", "topic")
		tl.fails(t, exitUsage, "bad --operation", "acls", "list", "--operation", "juggle")

		ac := testcluster.ForTest(t, testcluster.Config{Mode: testcluster.KRaft, Brokers: 1, BrokerProps: map[string]string{
			"authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
			"super.users":           "User:ANONYMOUS",
		}})
		atl := tool{bin: bin, brokers: strings.Join(ac.Bootstrap(), ",")}
		out := atl.ok(t, "acls", "create", "--resource-type", "topic", "--resource", "orders", "--principal", "User:alice",
			"--operation", "read", "--permission", "allow")
		assert.Regexp(t, `(?m)^topic\s+orders\s+literal\s+User:alice\s+\*\s+read\s+allow$`, out)
		type jsonACLs struct {
			Action string `json:"action"`
			ACLs   []struct {
				ResourceType string `json:"resource_type"`
				Resource     string `json:"resource"`
				Pattern      string `json:"pattern"`
				Principal    string `json:"principal"`
				Host         string `json:"host"`
				Operation    string `json:"operation"`
				Permission   string `json:"permission"`
			} `json:"acls"`
		}
		require.Eventually(t, func() bool {
			var js jsonACLs
			atl.json(t, &js, "acls", "list", "--principal", "User:alice")
			return len(js.ACLs) == 1 && js.ACLs[0].Resource == "orders"
		}, 30*time.Second, 100*time.Millisecond)
		var js jsonACLs
		atl.json(t, &js, "acls", "delete", "--resource-type", "topic")
		require.Len(t, js.ACLs, 1)
		assert.Equal(t, "User:alice", js.ACLs[0].Principal)
	})
}
