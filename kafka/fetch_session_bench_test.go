package kafka

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler/goroutine"
	"github.com/gregorkafka/gregor/handler/handlertest"
	"github.com/gregorkafka/gregor/internal/testcluster"
	"github.com/gregorkafka/gregor/protocol"
)

// BenchmarkFetchSession measures one fetch round of a consumer of 1,000
// partitions, in memory, with and without a fetch session: build the
// request and encode it, decode the broker's answer, take it and deliver
// and consume its records. Each round some partitions (active) have 100
// new records; the rest are idle. Without a session every request names
// all 1,000 partitions and every response lists them all; with one, the
// request names the partitions whose offsets moved and the response only
// those with records. The broker's side (encoding the response) is not
// timed. req-B and resp-B are bytes per round; cpu-ns/msg is the
// process's CPU time in the timed parts (GC included).
func BenchmarkFetchSession(b *testing.B) {
	const parts, perPart = 1000, 100
	for _, active := range []int{10, 100} {
		for _, session := range []bool{false, true} {
			b.Run(fmt.Sprintf("partitions=%d/active=%d/session=%t", parts, active, session), func(b *testing.B) {
				benchFetchSession(b, parts, active, perPart, session)
			})
		}
	}
}

func benchFetchSession(b *testing.B, parts, active, perPart int, session bool) {
	c, l := buildLoop(b, parts)
	topic := c.topic
	var err error
	var d fetchDecoder
	v := fetchVersions(12)
	ctx := context.Background()
	batches := map[int64][]byte{} // by base offset
	batch := func(base int64) []byte {
		if r, ok := batches[base]; ok {
			return r
		}
		r := batchAt(b, protocol.CompressionNone, offsetRange(base, base+int64(perPart))...)
		batches[base] = r
		return r
	}
	var reqBuf, respBuf []byte
	var reqBytes, respBytes int
	next := 0 // first active partition of the round
	var cpu time.Duration
	b.ResetTimer()
	for range b.N {
		cpu0 := handlertest.CPUTime()
		req, _ := l.build()
		if !session {
			l.sess.reset() // every request full, as before sessions
		}
		l.sess.prepare(req, v)
		reqBuf, err = req.AppendTo(reqBuf[:0], 12)
		if err != nil {
			b.Fatal(err)
		}
		reqBytes += len(reqBuf)
		cpu += handlertest.CPUTime() - cpu0

		b.StopTimer()
		hasData := map[int32]bool{}
		for i := range active {
			hasData[int32((next+i)%parts)] = true
		}
		next = (next + active) % parts
		resp := protocol.NewFetchResponse()
		resp.SessionID = 1
		var rps []protocol.FetchResponsePartition
		c.mu.Lock()
		for _, s := range l.sent {
			id := s.op.id
			hw := s.offset
			var records []byte
			if hasData[id] {
				records, hw = batch(s.offset), s.offset+int64(perPart)
			} else if session {
				continue // unchanged: not in an incremental response
			}
			rps = append(rps, protocol.FetchResponsePartition{PartitionIndex: id, HighWatermark: hw,
				LastStableOffset: hw, PreferredReadReplica: -1, Records: records})
		}
		c.mu.Unlock()
		resp.Responses = []protocol.FetchResponseTopic{{TopicID: topic.ID(), Topic: "t", Partitions: rps}}
		respBuf, err = resp.AppendTo(respBuf[:0], 12)
		if err != nil {
			b.Fatal(err)
		}
		respBytes += len(respBuf)
		b.StartTimer()
		cpu0 = handlertest.CPUTime()

		got := protocol.NewFetchResponse()
		if err := got.DecodeFrom(respBuf, 12); err != nil {
			b.Fatal(err)
		}
		res, _ := l.apply(got)
		c.deliver(l, &d, res)
		for range active * perPart {
			if _, err := c.Consume(ctx); err != nil {
				b.Fatal(err)
			}
		}
		cpu += handlertest.CPUTime() - cpu0
	}
	b.StopTimer()
	msgs := float64(b.N * active * perPart)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/msgs, "ns/msg")
	b.ReportMetric(float64(cpu.Nanoseconds())/msgs, "cpu-ns/msg")
	b.ReportMetric(float64(reqBytes)/float64(b.N), "req-B/round")
	b.ReportMetric(float64(respBytes)/float64(b.N), "resp-B/round")
}

// fetchBytesHook adds up the bytes of Fetch requests and responses.
type fetchBytesHook struct{ req, resp, n atomic.Int64 }

func (h *fetchBytesHook) OnBrokerWrite(e BrokerWriteEvent) {
	if e.APIKey == protocol.APIKeyFetch {
		h.req.Add(int64(e.Bytes))
		h.n.Add(1)
	}
}

func (h *fetchBytesHook) OnBrokerRead(e BrokerReadEvent) {
	if e.APIKey == protocol.APIKeyFetch {
		h.resp.Add(int64(e.Bytes))
	}
}

// BenchmarkFetchSessionBroker reads a 1,000-partition topic from a real
// broker with and without fetch sessions, alternating the two in each op
// so that both see the same machine. Without is a broker with no session
// slots (max.incremental.fetch.session.cache.slots 0), where every Fetch
// is full, as before sessions. Each run reads 10 records from every
// partition, then 20 rounds of 50 records on 5 partitions as they come
// (trickle), then idles for 2 s. It reports, per mode: Fetch request and
// response bytes per record, the process's CPU per record in the trickle
// rounds (producing excluded) and its CPU per second while idle. Run it
// with -benchtime=1x -count=N.
func BenchmarkFetchSessionBroker(b *testing.B) {
	if testing.Short() {
		b.Skip("needs a real Kafka cluster; skipped with -short")
	}
	clusters := map[bool]*testcluster.Cluster{
		true: testcluster.Shared(b, testcluster.KRaftSingle),
		false: testcluster.Shared(b, testcluster.Config{Mode: testcluster.KRaft, Brokers: 1,
			BrokerProps: map[string]string{"max.incremental.fetch.session.cache.slots": "0"}}),
	}
	totals := map[bool]*fetchSessionRun{true: {}, false: {}}
	b.ResetTimer()
	for i := range b.N {
		for _, session := range []bool{i%2 == 0, i%2 != 0} {
			runFetchSessionBroker(b, clusters[session], totals[session])
		}
	}
	b.StopTimer()
	for session, r := range totals {
		suffix := "/nosession"
		if session {
			suffix = "/session"
		}
		b.ReportMetric(float64(r.req)/float64(r.records), "req-B/msg"+suffix)
		b.ReportMetric(float64(r.resp)/float64(r.records), "resp-B/msg"+suffix)
		b.ReportMetric(float64(r.trickleCPU.Nanoseconds())/float64(r.trickle), "trickle-cpu-ns/msg"+suffix)
		b.ReportMetric(float64(r.idleCPU.Microseconds())/r.idle.Seconds()/1000, "idle-cpu-ms/s"+suffix)
	}
}

type fetchSessionRun struct {
	req, resp                 int64
	records, trickle          int
	trickleCPU, idleCPU, idle time.Duration
}

func runFetchSessionBroker(b *testing.B, tc *testcluster.Cluster, r *fetchSessionRun) {
	const parts = 1000
	h := goroutine.New()
	defer h.Close()
	ctx := context.Background()
	admin, err := NewClient(ctx, Config{Hosts: tc.Bootstrap(), Handler: h, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(b, err)
	defer admin.Close()
	name := fmt.Sprintf("fetch-session-bench-%d", time.Now().UnixNano())
	require.NoError(b, admin.Cluster().CreateTopics(ctx, TopicSpec{Name: name, Partitions: parts, ReplicationFactor: 1}))
	defer admin.Cluster().DeleteTopics(ctx, name)
	topic, err := admin.Topic(ctx, name)
	require.NoError(b, err)
	total := produceEachTB(b, ctx, topic, allPartitionIDs(parts), 10, "a")

	hook := &fetchBytesHook{}
	cl, err := NewClient(ctx, Config{Hosts: tc.Bootstrap(), Handler: h, Logger: slog.New(slog.DiscardHandler), Hooks: []Hook{hook}})
	require.NoError(b, err)
	defer cl.Close()
	ct, err := cl.Topic(ctx, name)
	require.NoError(b, err)
	c, err := ct.SimpleConsumer(ConsumerConfig{AutoOffsetReset: OffsetEarliest})
	require.NoError(b, err)
	defer c.Stop(ctx)
	consumeMessages(b, ctx, c, total)
	var cpu time.Duration
	trickle := 0
	for round := range 20 {
		ids := []int32{}
		for i := range int32(5) {
			ids = append(ids, (int32(round)*37+i*191)%parts)
		}
		n := produceEachTB(b, ctx, topic, ids, 50, "b")
		cpu0 := handlertest.CPUTime()
		consumeMessages(b, ctx, c, n)
		cpu += handlertest.CPUTime() - cpu0
		trickle += n
	}
	total += trickle
	const idle = 2 * time.Second
	cpu0 := handlertest.CPUTime()
	time.Sleep(idle)
	r.idleCPU += handlertest.CPUTime() - cpu0
	r.idle += idle
	r.trickleCPU += cpu
	r.trickle += trickle
	r.records += total
	r.req += hook.req.Load()
	r.resp += hook.resp.Load()
}
