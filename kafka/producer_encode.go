package kafka

import (
	"time"

	"github.com/gregorkafka/gregor/conn"
	"github.com/gregorkafka/gregor/protocol"
)

// produceVersion is the Produce version negotiated on c, the highest both
// sides support. (Kafka 4 lists versions 0-2 but refuses them; the highest
// is never among those against a broker that knows 3 or later.)
func produceVersion(c *conn.BrokerConnection) (int16, error) {
	v := c.Versions()
	if v == nil { // replaced by a reconnect under way
		return -1, &conn.DisconnectedError{Address: c.Address(), Err: conn.ErrNotConnected}
	}
	return v.Pick(protocol.APIKeyProduce)
}

// produceVersion is the Produce version p sends on c: a transactional
// producer on the classic protocol stays below 12, which the broker reads
// as a transaction that adds its partitions explicitly.
func (p *Producer) produceVersion(c *conn.BrokerConnection) (int16, error) {
	version, err := produceVersion(c)
	if err == nil && p.txn != nil && !p.txn.s.v2.Load() {
		version = min(version, lastClassicProduceVersion)
	}
	return version, err
}

// Size accounting for MaxRequestSize and MaxBatchSize. The bounds are
// generous: a request or batch must never exceed its limit, and a few
// bytes of slack cost nothing.
const (
	// recordOverhead bounds what a record adds besides its key, value and
	// headers: length, attributes, timestamp and offset deltas, the key
	// and value lengths and the header count, each varint at its widest. A
	// legacy message (offset, size, CRC, magic, attributes, timestamp, key
	// and value lengths: 34 bytes) fits within it too.
	recordOverhead = 5 + 1 + 10 + 5 + 5 + 5 + 5
	// headerOverhead bounds a header's key and value lengths.
	headerOverhead = 5 + 5
	// partitionOverhead bounds a partition's entry in a request besides
	// its records: index, records length, tagged fields, and the batch
	// header (61 bytes; a legacy wrapper message takes 34).
	partitionOverhead = 4 + 5 + 1 + protocol.RecordBatchHeaderSize
)

// requestOverhead bounds a Produce request to one topic without its
// partitions: frame size, request header, transactional id, acks,
// timeout, topic array and name, partition array, tagged fields.
func requestOverhead(topic, clientID string) int {
	return 4 + (2 + 2 + 4 + 2 + len(clientID) + 1) + 2 + 2 + 4 + 5 + (5 + len(topic)) + 5 + 3
}

// recordSizeBound is an upper bound of m's encoded size as a record (or a
// legacy message), used to fill batches and requests up to their limits.
func recordSizeBound(m *Message) int {
	n := recordOverhead + len(m.Key) + len(m.Value)
	for i := range m.Headers {
		n += headerOverhead + len(m.Headers[i].Key) + len(m.Headers[i].Value)
	}
	return n
}

// producerBatch is the header of the batches a producer writes without
// idempotence: no producer id. Idempotent producers fill in theirs.
var producerBatch = protocol.RecordBatch{
	PartitionLeaderEpoch: -1,
	Magic:                protocol.RecordBatchMagic,
	ProducerID:           -1,
	ProducerEpoch:        -1,
	BaseSequence:         -1,
}

// appendRecords appends recs encoded for a Produce request of the given
// version: a record batch with header hdr (v3 and later), or a legacy
// message set of magic 1 (v2) or 0 (v0, v1), compressed with codec. legacy
// is scratch space for the legacy path, returned for reuse.
func appendRecords(dst []byte, bb *protocol.RecordBatchBuilder, legacy []protocol.Record, hdr *protocol.RecordBatch,
	recs []record, version int16, codec Compression) ([]byte, []protocol.Record, error) {
	if version >= 3 {
		bb.Reset(hdr)
		for i := range recs {
			m := &recs[i].msg
			bb.Add(m.Timestamp.UnixMilli(), m.Key, m.Value, m.Headers)
		}
		out, err := bb.Build(dst, codec)
		return out, legacy, err
	}
	magic := int8(0)
	if version == 2 {
		magic = 1
	}
	legacy = legacy[:0]
	for i := range recs {
		m := &recs[i].msg
		legacy = append(legacy, protocol.Record{
			Offset: int64(i), Timestamp: m.Timestamp.UnixMilli(), Key: m.Key, Value: m.Value, Headers: m.Headers,
		})
	}
	out, err := protocol.AppendMessageSet(dst, legacy, magic, codec)
	clear(legacy) // drop references to the caller's slices
	return out, legacy, err
}

// stampBatch gives the records of a batch just cut that have no timestamp
// the time of the cut, read once for the batch. Reading the clock costs as
// much as the rest of queueing a small message, and the cut follows Produce
// by no more than the Linger and the request in flight ahead of it. A
// record keeps its stamp across retries. Called with p.mu held.
func (p *Producer) stampBatch(recs []record) {
	var now time.Time
	for i := range recs {
		if m := &recs[i].msg; m.Timestamp.IsZero() {
			if now.IsZero() {
				now = p.h.Now()
			}
			m.Timestamp = now
		}
	}
}
