package kafka

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler/fakeclock"
	"github.com/gregorkafka/gregor/handler/goroutine"
	"github.com/gregorkafka/gregor/protocol"
)

// shareBatches encodes batches of values at the given base offsets; a nil
// values slice makes a control batch (a transaction marker) of one record.
func shareBatches(t testing.TB, batches map[int64][]string) []byte {
	var out []byte
	bases := make([]int64, 0, len(batches))
	for b := range batches {
		bases = append(bases, b)
	}
	for i := range bases { // ascending
		for j := i + 1; j < len(bases); j++ {
			if bases[j] < bases[i] {
				bases[i], bases[j] = bases[j], bases[i]
			}
		}
	}
	for _, base := range bases {
		vals := batches[base]
		b := &protocol.RecordBatch{BaseOffset: base, ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1}
		if vals == nil {
			b.Attributes = protocol.BatchAttrControl | protocol.BatchAttrTransactional
			b.Records = []protocol.Record{{Offset: base, Key: []byte{0, 0, 0, 1}, Value: []byte{0, 0, 0, 0, 0, 0}}}
		}
		for i, v := range vals {
			b.Records = append(b.Records, protocol.Record{Offset: base + int64(i), Value: []byte(v)})
		}
		var err error
		out, err = protocol.AppendRecordBatch(out, b, protocol.CompressionNone)
		require.NoError(t, err)
	}
	return out
}

func TestDecodeShareRecords(t *testing.T) {
	// Offsets 0-2 and 4-5 hold records, 3 is a transaction marker, 6-7 are
	// missing (compacted away).
	records := shareBatches(t, map[int64][]string{0: {"a", "b", "c"}, 3: nil, 4: {"e", "f"}})
	tp := sharePartition{topic: "t", partition: 2}
	expires := time.Unix(100, 0)
	var rd protocol.RecordDecoder
	d := decodeShareRecords(&rd, tp, records, []protocol.ShareFetchResponseAcquiredRecords{
		{FirstOffset: 4, LastOffset: 7, DeliveryCount: 3}, // out of order on purpose
		{FirstOffset: 1, LastOffset: 3, DeliveryCount: 1},
	}, expires, 9)
	require.NoError(t, d.err)
	var got []string
	for _, m := range d.msgs {
		got = append(got, string(m.Value))
		assert.Equal(t, expires, m.LockExpires)
		assert.Equal(t, int32(9), m.broker)
		assert.Equal(t, "t", m.Topic)
		assert.Equal(t, int32(2), m.Partition)
	}
	assert.Equal(t, []string{"b", "c", "e", "f"}, got, "only acquired records, offset 0 is another member's")
	assert.Equal(t, []int{1, 1, 3, 3}, []int{d.msgs[0].DeliveryCount, d.msgs[1].DeliveryCount, d.msgs[2].DeliveryCount, d.msgs[3].DeliveryCount})
	assert.Equal(t, []int64{3, 6, 7}, d.gaps, "the marker and the missing offsets are gaps")
	assert.Empty(t, d.rejects)
}

func TestDecodeShareRecordsBadRanges(t *testing.T) {
	var rd protocol.RecordDecoder
	for _, ranges := range [][]protocol.ShareFetchResponseAcquiredRecords{
		{{FirstOffset: 5, LastOffset: 4}},
		{{FirstOffset: 0, LastOffset: 4}, {FirstOffset: 4, LastOffset: 6}},
		{{FirstOffset: 0, LastOffset: 1 << 40}},
		{{FirstOffset: -1, LastOffset: 0}},
	} {
		d := decodeShareRecords(&rd, sharePartition{}, nil, ranges, time.Time{}, 0)
		assert.ErrorIs(t, d.err, errShareAcquiredRanges, "%+v", ranges)
		assert.Empty(t, d.msgs)
		assert.Empty(t, d.gaps)
	}
}

func TestDecodeShareRecordsCorrupt(t *testing.T) {
	records := shareBatches(t, map[int64][]string{0: {"a", "b"}, 2: {"c", "d"}})
	records[len(records)-1] ^= 0xff // breaks the second batch's checksum
	var rd protocol.RecordDecoder
	d := decodeShareRecords(&rd, sharePartition{}, records, []protocol.ShareFetchResponseAcquiredRecords{
		{FirstOffset: 0, LastOffset: 3, DeliveryCount: 1}}, time.Time{}, 0)
	require.Error(t, d.err)
	assert.Len(t, d.msgs, 2)
	assert.Equal(t, []int64{2, 3}, d.rejects, "records nobody can read are rejected, not left to time out")
}

func TestAckBatches(t *testing.T) {
	got := ackBatches([]shareAck{
		{offset: 7, typ: AckAccept}, {offset: 5, typ: AckAccept}, {offset: 6, typ: AckAccept},
		{offset: 10, typ: AckAccept}, {offset: 11, typ: AckRelease}, {offset: 12, typ: ackGap},
		{offset: 20, typ: AckReject},
	})
	assert.Equal(t, []ackBatch{
		{first: 5, last: 7, types: []int8{1}},
		{first: 10, last: 12, types: []int8{1, 2, 0}},
		{first: 20, last: 20, types: []int8{3}},
	}, got)
	assert.Nil(t, ackBatches(nil))
	assert.Equal(t, []ackBatch{{first: 1, last: 1, types: []int8{2}}},
		ackBatches([]shareAck{{offset: 1, typ: AckRelease}, {offset: 1, typ: AckAccept}}), "the first acknowledgement of an offset stands")
}

// FuzzDecodeShareRecords: whatever the records and ranges, decoding neither
// panics nor returns a record outside the acquired ranges, and accounts for
// every acquired offset at most once.
func FuzzDecodeShareRecords(f *testing.F) {
	f.Add(shareBatches(f, map[int64][]string{0: {"a", "b", "c"}, 3: nil, 4: {"e"}}), int64(1), int64(6), int64(0), int64(0))
	f.Add([]byte{}, int64(0), int64(3), int64(5), int64(9))
	f.Fuzz(func(t *testing.T, records []byte, first1, last1, first2, last2 int64) {
		ranges := []protocol.ShareFetchResponseAcquiredRecords{
			{FirstOffset: first1, LastOffset: last1, DeliveryCount: 1},
			{FirstOffset: first2, LastOffset: last2, DeliveryCount: 2},
		}
		var rd protocol.RecordDecoder
		d := decodeShareRecords(&rd, sharePartition{}, records, ranges, time.Time{}, 0)
		if d.err == errShareAcquiredRanges {
			return
		}
		seen := map[int64]bool{}
		in := func(o int64) bool {
			return (o >= first1 && o <= last1) || (o >= first2 && o <= last2)
		}
		for _, m := range d.msgs {
			if !in(m.Offset) || seen[m.Offset] {
				t.Fatalf("record at %d outside the ranges or twice", m.Offset)
			}
			seen[m.Offset] = true
		}
		for _, o := range append(d.gaps, d.rejects...) {
			if !in(o) || seen[o] {
				t.Fatalf("offset %d settled outside the ranges or twice", o)
			}
			seen[o] = true
		}
	})
}

// TestShareDropExpired: records whose lock ran out while buffered are not
// delivered, the others are.
func TestShareDropExpired(t *testing.T) {
	fc := fakeclock.New(goroutine.New())
	now := fc.Now()
	c := &ShareConsumer{h: fc, log: testLogger(), buffered: []ShareMessage{
		{Message: Message{Offset: 1}, LockExpires: now.Add(time.Second)},
		{Message: Message{Offset: 2}, LockExpires: now.Add(3 * time.Second)},
		{Message: Message{Offset: 3}}, // the broker named no lock
	}}
	c.dropExpiredLocked()
	assert.Len(t, c.buffered, 3)
	fc.Advance(2 * time.Second)
	c.dropExpiredLocked()
	var offs []int64
	for _, m := range c.buffered {
		offs = append(offs, m.Offset)
	}
	assert.Equal(t, []int64{2, 3}, offs)
}
