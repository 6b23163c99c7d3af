package bench

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/gregorkafka/gregor/protocol"
)

var codecs = []protocol.Compression{
	protocol.CompressionNone, protocol.CompressionGzip, protocol.CompressionSnappy,
	protocol.CompressionLZ4, protocol.CompressionZstd,
}

// batch1000 builds the standard workload: 1000 records of 100-byte values.
func batch1000(b testing.TB, codec protocol.Compression) []byte {
	var bb protocol.RecordBatchBuilder
	bb.Reset(&protocol.RecordBatch{ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1})
	value := bytes.Repeat([]byte("gregor-"), 15)[:100]
	for i := 0; i < 1000; i++ {
		bb.Add(1_700_000_000_000+int64(i), nil, value, nil)
	}
	out, err := bb.Build(nil, codec)
	if err != nil {
		b.Fatal(err)
	}
	return out
}

// TestBatchRoundTrip keeps the benchmark workload honest: what is encoded decodes back to the same records.
func TestBatchRoundTrip(t *testing.T) {
	for _, codec := range codecs {
		data := batch1000(t, codec)
		var d protocol.RecordDecoder
		recs, n, err := d.AppendRecords(nil, data)
		if err != nil || n != len(data) || len(recs) != 1000 {
			t.Fatalf("%s: decoded %d records from %d/%d bytes: %v", codec, len(recs), n, len(data), err)
		}
		if len(recs[999].Value) != 100 || recs[999].Offset != 999 {
			t.Fatalf("%s: last record %+v", codec, recs[999])
		}
	}
}

func BenchmarkEncodeBatch1000x100B(b *testing.B) {
	for _, codec := range codecs {
		b.Run(fmt.Sprint(codec), func(b *testing.B) {
			var bb protocol.RecordBatchBuilder
			value := bytes.Repeat([]byte("x"), 100)
			buf := make([]byte, 0, 256<<10)
			b.SetBytes(100 * 1000)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				bb.Reset(&protocol.RecordBatch{ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1})
				for j := 0; j < 1000; j++ {
					bb.Add(1_700_000_000_000, nil, value, nil)
				}
				var err error
				if buf, err = bb.Build(buf[:0], codec); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecodeBatch1000x100B(b *testing.B) {
	for _, codec := range codecs {
		b.Run(fmt.Sprint(codec), func(b *testing.B) {
			data := batch1000(b, codec)
			var d protocol.RecordDecoder
			recs := make([]protocol.Record, 0, 1000)
			b.SetBytes(100 * 1000)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				var err error
				if recs, _, err = d.AppendRecords(recs[:0], data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
