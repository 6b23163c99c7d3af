package protocol

import (
	"fmt"
	"math/rand"
	"testing"
)

const benchRecords = 1000

// benchBatch is 1000 records with 100-byte JSON-like values: repeated field
// names, varying numbers and ids, as typical event payloads compress.
func benchBatch() *RecordBatch {
	rng := rand.New(rand.NewSource(7))
	events := []string{"click", "view", "purchase", "signup", "logout"}
	recs := make([]Record, benchRecords)
	for i := range recs {
		v := fmt.Appendf(nil, `{"id":%d,"user":"u%06d","event":"%s","amount":%d.%02d,"session":"%016x"`,
			i, rng.Intn(1000000), events[rng.Intn(len(events))], rng.Intn(1000), rng.Intn(100), rng.Uint64())
		for len(v) < 99 {
			v = append(v, ' ')
		}
		v = append(v[:99], '}')
		recs[i] = Record{Offset: int64(i), Timestamp: goldenTS + int64(i), Value: v}
	}
	return &RecordBatch{PartitionLeaderEpoch: -1, ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1, Records: recs}
}

func reportPerRecord(b *testing.B) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchRecords, "ns/record")
}

func BenchmarkRecordBatchEncode(b *testing.B) {
	batch := benchBatch()
	for _, codec := range allCodecs {
		b.Run(codec.String(), func(b *testing.B) {
			dst, err := AppendRecordBatch(nil, batch, codec)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(benchRecords * 100))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				dst, _ = AppendRecordBatch(dst[:0], batch, codec)
			}
			reportPerRecord(b)
			b.ReportMetric(float64(len(dst)), "batch-bytes")
		})
	}
}

func BenchmarkRecordBatchBuilder(b *testing.B) {
	batch := benchBatch()
	for _, codec := range []Compression{CompressionNone, CompressionLZ4} {
		b.Run(codec.String(), func(b *testing.B) {
			var bb RecordBatchBuilder
			var dst []byte
			b.SetBytes(int64(benchRecords * 100))
			b.ReportAllocs()
			for range b.N {
				bb.Reset(batch)
				for i := range batch.Records {
					r := &batch.Records[i]
					bb.Add(r.Timestamp, r.Key, r.Value, r.Headers)
				}
				dst, _ = bb.Build(dst[:0], codec)
			}
			reportPerRecord(b)
		})
	}
}

// BenchmarkRecordBatchDecode materialises every record into a reused slice,
// as a consumer does.
func BenchmarkRecordBatchDecode(b *testing.B) {
	batch := benchBatch()
	for _, codec := range allCodecs {
		b.Run(codec.String(), func(b *testing.B) {
			data, err := AppendRecordBatch(nil, batch, codec)
			if err != nil {
				b.Fatal(err)
			}
			var d RecordDecoder
			var recs []Record
			b.SetBytes(int64(benchRecords * 100))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				recs, _, err = d.AppendRecords(recs[:0], data)
				if err != nil || len(recs) != benchRecords {
					b.Fatal(err, len(recs))
				}
			}
			reportPerRecord(b)
		})
	}
}

// BenchmarkRecordBatchDecodeLarge decodes one 256 KiB batch of 10 KiB
// values about 2x compressible, as a consumer of large records sees them:
// what decompression allocates and zeroes per batch shows in B/op.
func BenchmarkRecordBatchDecodeLarge(b *testing.B) {
	const n, size = 25, 10 << 10
	rng := rand.New(rand.NewSource(7))
	recs := make([]Record, n)
	for i := range recs {
		v := make([]byte, size)
		for j := 0; j < size; j += 2 { // every other byte random: about 2x compressible
			v[j] = byte(rng.Intn(256))
			v[j+1] = 'a'
		}
		recs[i] = Record{Offset: int64(i), Timestamp: goldenTS, Value: v}
	}
	batch := &RecordBatch{PartitionLeaderEpoch: -1, ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1, Records: recs}
	for _, codec := range allCodecs {
		b.Run(codec.String(), func(b *testing.B) {
			data, err := AppendRecordBatch(nil, batch, codec)
			if err != nil {
				b.Fatal(err)
			}
			var d RecordDecoder
			var out []Record
			b.SetBytes(n * size)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				out, _, err = d.AppendRecords(out[:0], data)
				if err != nil || len(out) != n {
					b.Fatal(err, len(out))
				}
			}
			b.ReportMetric(float64(len(data)), "batch-bytes")
		})
	}
}

// BenchmarkRecordBatchDecodeReuse walks batches with the callback API and
// ReuseBuffers: the steady state of a consumer that copies what it keeps.
func BenchmarkRecordBatchDecodeReuse(b *testing.B) {
	batch := benchBatch()
	for _, codec := range allCodecs {
		b.Run(codec.String(), func(b *testing.B) {
			data, err := AppendRecordBatch(nil, batch, codec)
			if err != nil {
				b.Fatal(err)
			}
			d := RecordDecoder{ReuseBuffers: true}
			count := 0
			fn := func(rb *RecordBatch) error { count += len(rb.Records); return nil }
			b.SetBytes(int64(benchRecords * 100))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if _, err := d.DecodeBatches(data, fn); err != nil {
					b.Fatal(err)
				}
			}
			reportPerRecord(b)
		})
	}
}
