package protocol

// Layout of a record batch (magic 2) header. Offsets are from the start of
// the batch; the CRC (CRC-32C) covers everything from the attributes to the
// end of the batch, and the length counts everything after itself.
const (
	RecordBatchMagic      = 2
	RecordBatchHeaderSize = 61

	batchOffLength          = 8
	batchOffLeaderEpoch     = 12
	batchOffMagic           = 16
	batchOffCRC             = 17
	batchOffAttributes      = 21
	batchOffLastOffsetDelta = 23
	batchOffBaseTimestamp   = 27
	batchOffMaxTimestamp    = 35
	batchOffProducerID      = 43
	batchOffProducerEpoch   = 51
	batchOffBaseSequence    = 53
	batchOffRecordCount     = 57

	// batchLogOverhead is the offset and length fields that precede every
	// batch and legacy message alike; the magic byte follows 4 bytes later.
	batchLogOverhead = 12
)

// Bits of RecordBatch.Attributes.
const (
	BatchAttrCompression   int16 = 0x07 // codec, see Compression
	BatchAttrLogAppendTime int16 = 0x08 // timestamps are the broker's append time
	BatchAttrTransactional int16 = 0x10
	BatchAttrControl       int16 = 0x20 // records are transaction markers, not data
	BatchAttrDeleteHorizon int16 = 0x40 // base timestamp is the delete horizon
)

// RecordBatch is a record batch (magic 2): the unit a producer sends and a
// broker stores. The decoder also reports each legacy message set entry
// (magic 0 or 1, a single message or a compressed wrapper) as a RecordBatch,
// with Magic set accordingly, -1 producer fields and leader epoch, and the
// legacy attributes (compression and timestamp type bits).
type RecordBatch struct {
	BaseOffset           int64
	PartitionLeaderEpoch int32
	Magic                int8
	Attributes           int16
	LastOffsetDelta      int32
	BaseTimestamp        int64
	MaxTimestamp         int64
	ProducerID           int64
	ProducerEpoch        int16
	BaseSequence         int32
	Records              []Record
}

// Compression returns the codec from the attributes.
func (b *RecordBatch) Compression() Compression {
	return Compression(b.Attributes & BatchAttrCompression)
}

// LogAppendTime reports whether the broker stamped the records: every
// record's timestamp is then MaxTimestamp.
func (b *RecordBatch) LogAppendTime() bool { return b.Attributes&BatchAttrLogAppendTime != 0 }

// Transactional reports whether the batch belongs to a transaction.
func (b *RecordBatch) Transactional() bool { return b.Attributes&BatchAttrTransactional != 0 }

// Control reports whether the batch holds transaction markers, which a
// consumer must not deliver as data.
func (b *RecordBatch) Control() bool { return b.Attributes&BatchAttrControl != 0 }

// LastOffset is the offset of the batch's last record when it was written.
// Compaction may have removed records, even all of them, so a consumer
// resumes at LastOffset()+1 rather than after the last record it saw.
func (b *RecordBatch) LastOffset() int64 { return b.BaseOffset + int64(b.LastOffsetDelta) }
