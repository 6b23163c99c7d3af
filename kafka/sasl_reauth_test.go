package kafka

import (
	"context"
	"fmt"
	"log/slog"
	"path"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/internal/testcluster"
	"github.com/gregorkafka/gregor/sasl"
)

// logCounter is a slog.Handler counting records by message and by the
// "conn" attribute (the purpose of a broker connection).
type logCounter struct {
	mu     *sync.Mutex
	counts map[string]int // "message" and "message/conn"
	conn   string
}

func newLogCounter() *logCounter {
	return &logCounter{mu: &sync.Mutex{}, counts: map[string]int{}}
}

func (l *logCounter) Enabled(context.Context, slog.Level) bool { return true }

func (l *logCounter) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.counts[r.Message]++
	if l.conn != "" {
		l.counts[r.Message+"/"+l.conn]++
	}
	return nil
}

func (l *logCounter) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *l
	for _, a := range attrs {
		if a.Key == "conn" {
			c.conn = a.Value.String()
		}
	}
	return &c
}

func (l *logCounter) WithGroup(string) slog.Handler { return l }

func (l *logCounter) count(key string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.counts[key]
}

const (
	reauthenticated = "kafka connection re-authenticated"
	reauthFailed    = "kafka re-authentication failed"
	connLost        = "kafka connection lost"
)

// TestSASLReauthentication runs a producer and a consumer on a listener
// whose sessions last ReauthMs until the produce and fetch connections
// have re-authenticated several times: every message is acknowledged and
// consumed once, in order, and no connection breaks.
func TestSASLReauthentication(t *testing.T) {
	tc := testcluster.Shared(t, testcluster.KRaftSASL)
	mechs := map[string]sasl.Mechanism{
		"goroutine": &sasl.SCRAM{Hash: sasl.SHA512, Username: testcluster.SASLUser, Password: testcluster.SASLPassword},
		"eventloop": jwtBearer(time.Hour),
	}
	const rounds = 3
	forEachHandlerParallel(t, func(t *testing.T, h handler.Handler) {
		ctx := testCtx(t)
		logs := newLogCounter()
		m := mechs[path.Base(t.Name())]
		cfg := saslConfig(tc, testcluster.ListenerReauth, m)
		cfg.Logger = slog.New(logs)
		cl := newTestClient(t, ctx, h, cfg)
		topic := makeTopic(t, ctx, cl, TopicSpec{Name: uniqueTopic(t, "reauth"), Partitions: 1, ReplicationFactor: 1})

		sc := newConsumer(t, topic, ConsumerConfig{AutoOffsetReset: OffsetEarliest, FetchWaitMax: 500 * time.Millisecond})
		p, err := topic.Producer(ProducerConfig{DeliveryReports: true, RequiredAcks: AcksAll})
		require.NoError(t, err)
		reports := make(chan []DeliveryReport, 1)
		go func() {
			var got []DeliveryReport
			for r := range p.Reports() {
				got = append(got, r)
			}
			reports <- got
		}()

		sent := 0
		var values []string
		for logs.count(reauthenticated+"/produce") < rounds || logs.count(reauthenticated+"/fetch") < rounds {
			require.NoError(t, ctx.Err(), "waiting for re-authentications")
			// A broker closes a connection whose session ran out.
			require.Zero(t, logs.count(connLost), "connections lost")
			require.NoError(t, p.Produce(ctx, Message{Value: fmt.Appendf(nil, "m-%d", sent)}))
			sent++
			if sent%20 == 0 {
				// Consume as we go, so fetches are in flight across
				// re-authentications too.
				values = append(values, valuesOf(consumeMessages(t, ctx, sc, 10))...)
			}
			time.Sleep(5 * time.Millisecond)
		}
		require.NoError(t, p.Close())
		got := <-reports
		require.Len(t, got, sent)
		for _, r := range got {
			require.NoError(t, r.Err)
		}
		values = append(values, valuesOf(consumeMessages(t, ctx, sc, sent-len(values)))...)
		require.Equal(t, seqValues("m", 0, sent), values, "every message once, in order")

		assert.GreaterOrEqual(t, logs.count(reauthenticated+"/produce"), rounds)
		assert.GreaterOrEqual(t, logs.count(reauthenticated+"/fetch"), rounds)
		assert.Zero(t, logs.count(reauthFailed), "failed re-authentications")
		assert.Zero(t, logs.count(connLost), "connections lost")
		t.Logf("%d messages; re-authentications: %d in all, produce %d, fetch %d", sent,
			logs.count(reauthenticated), logs.count(reauthenticated+"/produce"), logs.count(reauthenticated+"/fetch"))
	})
}
