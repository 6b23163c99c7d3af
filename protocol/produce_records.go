package protocol

import (
	"encoding/binary"
	"fmt"
	"math"
)

// RecordSource gives the records of one uncompressed batch to
// ProduceRecordsRequest, which encodes them as it writes the request.
type RecordSource interface {
	// Len is the number of records.
	Len() int
	// Record returns record i: its timestamp (ms since the epoch), key,
	// value and headers.
	Record(i int) (timestamp int64, key, value []byte, headers []RecordHeader)
}

// ProduceRecordsRequest is a Produce request to one topic whose
// uncompressed record batches are encoded from the producer's records
// straight into the request frame as AppendTo writes it, rather than built
// apart and copied in: a value is copied once on its way to the socket.
// Its encoding is a ProduceRequest's (DecodeFrom reads one), so brokers and
// tools see no difference.
type ProduceRecordsRequest struct {
	TransactionalID *string
	Acks            int16
	TimeoutMs       int32
	Topic           string
	TopicID         UUID // sent from version 13 on, in place of Topic
	Partitions      []ProduceRecordsPartition
}

// ProduceRecordsPartition is one partition's records: encoded already
// (Records: a compressed batch, say, or a message set before version 3),
// or, when Records is nil and Source is set, a record batch (magic 2,
// uncompressed) with Batch's header fields (base offset, leader epoch,
// attributes, producer id, epoch and base sequence) and Source's records,
// numbered from offset delta 0, the first record's timestamp as the base.
type ProduceRecordsPartition struct {
	Index   int32
	Records []byte
	Batch   RecordBatch
	Source  RecordSource
}

// WireSize is the size of the partition's records as encoded.
func (p *ProduceRecordsPartition) WireSize() int {
	if p.Source == nil {
		return len(p.Records)
	}
	size, _ := sourceBatchSize(p.Source)
	return size
}

// APIKey returns 0, the key of the Produce API.
func (*ProduceRecordsRequest) APIKey() int16 { return APIKeyProduce }

// IsFlexible reports whether version uses compact encodings and tagged fields.
func (*ProduceRecordsRequest) IsFlexible(version int16) bool {
	return (*ProduceRequest)(nil).IsFlexible(version)
}

// SupportedVersions returns ProduceRequest's.
func (*ProduceRecordsRequest) SupportedVersions() (minVersion, maxVersion int16) {
	return (*ProduceRequest)(nil).SupportedVersions()
}

// NewResponse returns an empty ProduceResponse.
func (*ProduceRecordsRequest) NewResponse() Message { return NewProduceResponse() }

// EmptyResponse returns an empty ProduceResponse: the request is a
// RequestOf[*ProduceResponse], as ProduceRequest is.
func (*ProduceRecordsRequest) EmptyResponse() *ProduceResponse { return NewProduceResponse() }

// AppendTo appends the request body encoded at version to dst, each
// Source's batch written in place. A Source batch needs version 3 or later.
func (m *ProduceRecordsRequest) AppendTo(dst []byte, version int16) ([]byte, error) {
	return m.appendTo(dst, version, nil)
}

// AppendRefs is AppendTo with the Source batches' values of at least r.Min
// bytes left where they are, as refs (see AppendRequestFrameRefs).
func (m *ProduceRecordsRequest) AppendRefs(dst []byte, version int16, r *FrameRefs) ([]byte, error) {
	return m.appendTo(dst, version, r)
}

func (m *ProduceRecordsRequest) appendTo(dst []byte, version int16, r *FrameRefs) ([]byte, error) {
	lo, hi := m.SupportedVersions()
	if version < lo || version > hi {
		return dst, &VersionError{Message: "ProduceRequest", Version: version, Min: lo, Max: hi}
	}
	flex := version >= 9
	start := len(dst)
	var err error
	if version >= 3 {
		if dst, err = appendNullStr(dst, m.TransactionalID, flex, true); err != nil {
			return dst[:start], err
		}
	}
	dst = AppendInt16(dst, m.Acks)
	dst = AppendInt32(dst, m.TimeoutMs)
	dst = appendArrayLen(dst, 1, flex)
	if version <= 12 {
		if dst, err = appendStr(dst, m.Topic, flex); err != nil {
			return dst[:start], err
		}
	} else {
		dst = AppendUUID(dst, m.TopicID)
	}
	dst = appendArrayLen(dst, len(m.Partitions), flex)
	for i := range m.Partitions {
		p := &m.Partitions[i]
		dst = AppendInt32(dst, p.Index)
		if p.Source == nil {
			dst = appendNullBytesF(dst, p.Records, flex, true)
		} else {
			if version < 3 {
				return dst[:start], fmt.Errorf("protocol: a record batch in Produce v%d: %w", version, ErrUnsupportedVersion)
			}
			if dst, err = appendSourceBatch(dst, &p.Batch, p.Source, flex, r); err != nil {
				if r != nil {
					r.Reset()
				}
				return dst[:start], err
			}
		}
		if flex {
			dst = append(dst, 0) // tagged fields
		}
	}
	if flex {
		dst = append(dst, 0, 0) // the topic's tagged fields, the request's
	}
	return dst, nil
}

// DecodeFrom reads a ProduceRequest to one topic; every partition's
// records come as Records.
func (m *ProduceRecordsRequest) DecodeFrom(src []byte, version int16) error {
	var r ProduceRequest
	if err := r.DecodeFrom(src, version); err != nil {
		return err
	}
	if len(r.TopicData) != 1 {
		return fmt.Errorf("protocol: ProduceRecordsRequest with %d topics: %w", len(r.TopicData), ErrInvalidRequest)
	}
	t := &r.TopicData[0]
	*m = ProduceRecordsRequest{TransactionalID: r.TransactionalID, Acks: r.Acks, TimeoutMs: r.TimeoutMs,
		Topic: t.Name, TopicID: t.TopicID, Partitions: make([]ProduceRecordsPartition, len(t.PartitionData))}
	for i, p := range t.PartitionData {
		m.Partitions[i] = ProduceRecordsPartition{Index: p.Index, Records: p.Records}
	}
	return nil
}

// sourceBatchSize is the encoded size of src's records as a batch, header
// included, and its base timestamp.
func sourceBatchSize(src RecordSource) (size int, baseTS int64) {
	n := src.Len()
	size = RecordBatchHeaderSize
	for i := range n {
		ts, key, value, headers := src.Record(i)
		if i == 0 {
			baseTS = ts
		}
		size += recSize(ts-baseTS, int64(i), key, value, headers)
	}
	return size, baseTS
}

// appendSourceBatch appends src's records as an uncompressed batch with
// hdr's header fields, preceded by its length as a bytes field. With r set,
// values of at least r.Min bytes go to r instead of dst.
func appendSourceBatch(dst []byte, hdr *RecordBatch, src RecordSource, flex bool, r *FrameRefs) ([]byte, error) {
	n := src.Len()
	if n > math.MaxInt32 {
		return dst, fmt.Errorf("protocol: %d records in one batch: %w", n, ErrRecordListTooLarge)
	}
	size, baseTS := sourceBatchSize(src)
	if size > math.MaxInt32-1 {
		return dst, fmt.Errorf("protocol: record batch of %d bytes: %w", size, ErrMessageTooLarge)
	}
	if flex {
		dst = AppendUvarint(dst, uint32(size)+1)
	} else {
		dst = AppendInt32(dst, int32(size))
	}
	// Room for every record at once (recAppendRecord asks for a varint's
	// worth more than a record needs); with refs, values may not need it.
	if r == nil {
		dst = codecGrowCap(dst, size+binary.MaxVarintLen64)
	} else {
		dst = codecGrowCap(dst, RecordBatchHeaderSize)
	}
	h := batchHeader{baseTimestamp: hdr.BaseTimestamp, maxTimestamp: hdr.MaxTimestamp,
		lastOffsetDelta: hdr.LastOffsetDelta, count: int32(n)}
	if n > 0 {
		h.baseTimestamp, h.maxTimestamp, h.lastOffsetDelta = baseTS, baseTS, int32(n-1)
	}
	start := len(dst)
	dst = dst[:start+RecordBatchHeaderSize]
	for i := range n {
		ts, key, value, headers := src.Record(i)
		if r != nil && len(value) >= r.Min && r.Min > 0 {
			dst = recAppendRecordRef(dst, ts-baseTS, int64(i), key, value, headers, r)
		} else {
			dst = recAppendRecord(dst, ts-baseTS, int64(i), key, value, headers)
		}
		h.maxTimestamp = max(h.maxTimestamp, ts)
	}
	if hdr.LogAppendTime() {
		h.maxTimestamp = hdr.MaxTimestamp
	}
	if r == nil || len(r.Refs) == 0 || r.Refs[len(r.Refs)-1].At < start {
		return batchFinish(dst, start, hdr, CompressionNone, &h)
	}
	return batchFinishRefs(dst, start, hdr, &h, r)
}
