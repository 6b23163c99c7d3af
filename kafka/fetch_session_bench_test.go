package kafka

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

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
// timed. req-B and resp-B are bytes per round.
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
	topic := offlineTopic(b, parts)
	cfg, err := ConsumerConfig{}.withDefaults(topic)
	require.NoError(b, err)
	c := newSimpleConsumer(topic, cfg)
	c.started.Store(true)
	defer c.Stop(context.Background())
	c.mu.Lock()
	for id := range int32(parts) {
		c.moveLocked(c.byID[id], 0)
	}
	c.mu.Unlock()
	l := &fetchLoop{c: c, broker: topic.Partition(0).Leader(), index: map[int32]int{}}
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
	b.ResetTimer()
	for range b.N {
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

		got := protocol.NewFetchResponse()
		if err := got.DecodeFrom(respBuf, 12); err != nil {
			b.Fatal(err)
		}
		l.sess.answered(got.SessionID, protocol.ErrorForCode(got.ErrorCode))
		res, _ := l.take(got)
		c.deliver(l, &d, res)
		for range active * perPart {
			if _, err := c.Consume(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	msgs := float64(b.N * active * perPart)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/msgs, "ns/msg")
	b.ReportMetric(float64(reqBytes)/float64(b.N), "req-B/round")
	b.ReportMetric(float64(respBytes)/float64(b.N), "resp-B/round")
}
