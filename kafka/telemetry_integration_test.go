package kafka

import (
	"encoding/binary"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/internal/testcluster"
)

// telemetryCluster starts a Kafka 4.3 broker with a metrics reporter that
// receives client telemetry (kafka/testdata/telemetry, compiled here) and
// writes each pushed payload into the returned directory, and a
// client-metrics subscription for metrics (name prefixes) every interval.
func telemetryCluster(t *testing.T, metrics []string, interval time.Duration) (*testcluster.Cluster, string) {
	t.Helper()
	if testing.Short() {
		t.Skip("needs a real Kafka cluster")
	}
	javac, err := exec.LookPath("javac")
	if err != nil {
		t.Skip("javac is needed to build the broker-side telemetry receiver")
	}
	classes, sink := t.TempDir(), t.TempDir()
	cp, err := testcluster.Classpath(testCtx(t), testcluster.KRaftVersion)
	require.NoError(t, err)
	out, err := exec.Command(javac, "-d", classes, "-cp", cp, filepath.Join("testdata", "telemetry", "TelemetrySink.java")).CombinedOutput()
	require.NoError(t, err, "%s", out)

	cfg := testcluster.KRaftSingle
	cfg.ExtraClasspath = []string{classes}
	cfg.BrokerProps = map[string]string{"metric.reporters": "gregortest.TelemetrySink", "gregor.telemetry.dir": sink}
	tc := testcluster.ForTest(t, cfg)
	out, err = exec.Command("java", "-cp", tc.Classpath(), "org.apache.kafka.tools.ClientMetricsCommand",
		"--bootstrap-server", tc.Bootstrap()[0], "--alter", "--name", "gregor-test",
		"--metrics", strings.Join(metrics, ","), "--interval", strconv.Itoa(int(interval.Milliseconds()))).CombinedOutput()
	require.NoError(t, err, "%s", out)
	return tc, sink
}

// TestIntegrationTelemetryPush has a client produce and consume against a
// broker that subscribes to producer metrics and the request count, and
// reads what the broker received.
func TestIntegrationTelemetryPush(t *testing.T) {
	tc, sink := telemetryCluster(t, []string{"org.apache.kafka.producer.", "org.apache.kafka.client.request.total"}, 500*time.Millisecond)
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		ctx := testCtx(t)
		before := pushes(t, sink)
		cl := newTestClient(t, ctx, h, Config{Hosts: tc.Bootstrap(), ClientID: "telemetry-" + t.Name()})
		topic := makeTopic(t, ctx, cl, TopicSpec{Name: uniqueTopic(t, "telemetry"), Partitions: 1, ReplicationFactor: 1})
		sp, err := topic.SyncProducer(ProducerConfig{})
		require.NoError(t, err)
		defer sp.Close()
		for range 7 {
			_, _, err := sp.Produce(ctx, Message{Value: []byte("measured")})
			require.NoError(t, err)
		}
		// Wait for a push that counts the seven records.
		var got map[string]otlpPoint
		eventually(t, ctx, h, "a telemetry push counting 7 records", func() bool {
			for _, p := range pushes(t, sink)[len(before):] {
				m := decodeOTLPForTest(t, p)
				if m["org.apache.kafka.producer.record.send.total"].intValue == 7 {
					got = m
					return true
				}
			}
			return false
		})
		names := make([]string, 0, len(got))
		for n := range got {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			assert.True(t, strings.HasPrefix(n, "org.apache.kafka.producer.") || n == "org.apache.kafka.client.request.total",
				"%s was not asked for", n)
		}
		assert.Contains(t, names, "org.apache.kafka.producer.request.latency.avg")
		assert.Positive(t, got["org.apache.kafka.client.request.total"].intValue)
		assert.Equal(t, int64(7*len("measured")), got["org.apache.kafka.producer.byte.total"].intValue)
	})
}

// TestIntegrationTelemetryOptOut: with DisableMetricsPush nothing is sent,
// and against a broker without a telemetry receiver nothing is attempted.
func TestIntegrationTelemetryOptOut(t *testing.T) {
	plain := testcluster.Shared(t, testcluster.KRaftSingle)
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		ctx := testCtx(t)
		rec := &hookRecorder{}
		cl := newTestClient(t, ctx, h, Config{Hosts: plain.Bootstrap(), Hooks: []Hook{rec}})
		assert.Nil(t, cl.Cluster().telemetryBroker(), "a broker without a receiver does not offer telemetry")
		assert.Len(t, cl.Cluster().hooks.read, 1, "no telemetry hook was added")

		off := newTestClient(t, ctx, h, Config{Hosts: plain.Bootstrap(), DisableMetricsPush: true})
		assert.Empty(t, off.Cluster().hooks.read)
	})
}

// otlpPoint is one decoded metric value.
type otlpPoint struct {
	intValue   int64
	floatValue float64
	sum        bool
}

func pushes(t *testing.T, dir string) [][]byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.bin"))
	require.NoError(t, err)
	sort.Slice(files, func(i, j int) bool {
		return len(files[i]) < len(files[j]) || (len(files[i]) == len(files[j]) && files[i] < files[j])
	})
	out := make([][]byte, 0, len(files))
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		out = append(out, b)
	}
	return out
}

// decodeOTLPForTest walks a MetricsData message and returns each metric's
// single data point by name.
func decodeOTLPForTest(t *testing.T, b []byte) map[string]otlpPoint {
	t.Helper()
	out := map[string]otlpPoint{}
	for _, rm := range pbFields(t, b, 1) {
		for _, sm := range pbFields(t, rm, 2) {
			for _, m := range pbFields(t, sm, 2) {
				name := string(pbFields(t, m, 1)[0])
				var p otlpPoint
				data := pbFields(t, m, 5)
				if sums := pbFields(t, m, 7); len(sums) > 0 {
					data, p.sum = sums, true
				}
				require.Len(t, data, 1, name)
				dps := pbFields(t, data[0], 1)
				require.Len(t, dps, 1, name)
				if v := pbFields(t, dps[0], 6); len(v) > 0 {
					p.intValue = int64(binary.LittleEndian.Uint64(v[0]))
				}
				if v := pbFields(t, dps[0], 4); len(v) > 0 {
					p.floatValue = math.Float64frombits(binary.LittleEndian.Uint64(v[0]))
				}
				out[name] = p
			}
		}
	}
	return out
}

// pbFields returns the values of field in a protobuf message: the bytes
// of length-delimited fields, the 8 bytes of fixed64 ones.
func pbFields(t *testing.T, b []byte, field int) [][]byte {
	t.Helper()
	var out [][]byte
	for len(b) > 0 {
		tag, n := binary.Uvarint(b)
		require.Positive(t, n)
		b = b[n:]
		var v []byte
		switch tag & 7 {
		case 0:
			_, n = binary.Uvarint(b)
			require.Positive(t, n)
			b = b[n:]
		case 1:
			require.GreaterOrEqual(t, len(b), 8)
			v, b = b[:8], b[8:]
		case 2:
			l, n := binary.Uvarint(b)
			require.Positive(t, n)
			require.LessOrEqual(t, l, uint64(len(b)-n))
			v, b = b[n:n+int(l)], b[n+int(l):]
		default:
			t.Fatalf("unexpected wire type %d", tag&7)
		}
		if int(tag>>3) == field && v != nil {
			out = append(out, v)
		}
	}
	return out
}
