package kafka

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/gregorkafka/gregor/protocol"
)

// decodeInput is a partition's records: batches of perBatch records with
// a header each, n records in all, from offset 0.
func decodeInput(t testing.TB, codec protocol.Compression, n, perBatch int) decodeIn {
	var records []byte
	for base := 0; base < n; base += perBatch {
		records = append(records, batchAt(t, codec, offsetRange(int64(base), int64(min(base+perBatch, n)))...)...)
	}
	sc := protocol.ScanRecords(records)
	return decodeIn{topic: "t", records: records[:sc.End], count: sc.Count, maxCount: DefaultQueuedMaxMessages}
}

// Decoding allocates per batch (a decompressed buffer, a header arena) and
// per response (the message slice), never per record: the same records in
// batches ten times as large cost a tenth of the allocations.
func TestFetchDecodeAllocatesPerBatch(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	for _, codec := range []protocol.Compression{protocol.CompressionNone, protocol.CompressionLZ4, protocol.CompressionZstd} {
		t.Run(codec.String(), func(t *testing.T) {
			var d fetchDecoder
			allocs := func(perBatch int) float64 {
				in := decodeInput(t, codec, 1000, perBatch)
				return testing.AllocsPerRun(20, func() {
					out := d.decode(&in)
					if out.err != nil || len(out.msgs) != 1000 {
						t.Fatalf("decoded %d messages: %v", len(out.msgs), out.err)
					}
				})
			}
			small, large := allocs(10), allocs(100)
			// 100 batches of 10 against 10 of 100: per batch at most three
			// allocations (decompressed bytes, header arena, lz4's frame
			// state), plus one message slice per response.
			assert.LessOrEqual(t, small, 3*100+1.0)
			assert.LessOrEqual(t, large, 3*10+1.0)
			assert.Greater(t, small, 4*large, "allocations follow the batches")
		})
	}
}

// BenchmarkFetchDecode decodes one partition's records (2,000 records, what
// a default queue fetches, each with a header, in batches of 100) into
// Messages. With -benchmem: about one allocation per batch uncompressed
// and three compressed, plus one per response.
func BenchmarkFetchDecode(b *testing.B) {
	for _, codec := range []protocol.Compression{protocol.CompressionNone, protocol.CompressionLZ4, protocol.CompressionZstd} {
		b.Run(codec.String(), func(b *testing.B) {
			const n, perBatch = 2000, 100
			in := decodeInput(b, codec, n, perBatch)
			var d fetchDecoder
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if out := d.decode(&in); len(out.msgs) != n {
					b.Fatal(fmt.Sprint("decoded ", len(out.msgs)))
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
		})
	}
}
