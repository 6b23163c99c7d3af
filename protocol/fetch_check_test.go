package protocol

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// checkBatch encodes a batch of n records based at base.
func checkBatch(t testing.TB, base int64, n int, codec Compression) []byte {
	t.Helper()
	b := &RecordBatch{BaseOffset: base}
	for i := range n {
		b.Records = append(b.Records, Record{Offset: base + int64(i), Timestamp: 1700000000000,
			Key: []byte(fmt.Sprint("k", i)), Value: []byte(fmt.Sprintf("value %d of batch %d", i, base))})
	}
	out, err := AppendRecordBatch(nil, b, codec)
	require.NoError(t, err)
	return out
}

// checkResponse is a Fetch response whose partitions hold, in order: three
// good batches; a good batch, a corrupt one and a partial tail; nothing
// (null records); legacy messages then a good batch; one good batch.
// corrupt is the partition ordinal and offset of the corrupt batch.
func checkResponse(t testing.TB) (resp *FetchResponse, good [][]CheckedBatch) {
	t.Helper()
	var p0 []byte
	var c0 []CheckedBatch
	for i := range 3 {
		b := checkBatch(t, int64(10*i), 5, CompressionNone)
		c0 = append(c0, checked(b, len(p0)))
		p0 = append(p0, b...)
	}
	b1 := checkBatch(t, 0, 3, CompressionLZ4)
	p1 := append([]byte(nil), b1...)
	bad := checkBatch(t, 3, 4, CompressionNone)
	bad[len(bad)-1] ^= 1 // a value byte: the checksum no longer matches
	p1 = append(p1, bad...)
	p1 = append(p1, checkBatch(t, 7, 4, CompressionNone)[:40]...) // cut short
	legacy, err := AppendMessageSet(nil, legacyRecords(2, 0), 1, CompressionNone)
	require.NoError(t, err)
	b3 := checkBatch(t, 2, 2, CompressionZstd)
	p3 := append(append([]byte(nil), legacy...), b3...)
	b4 := checkBatch(t, 100, 1, CompressionNone)

	resp = NewFetchResponse()
	resp.Responses = []FetchResponseTopic{
		{Topic: "a", TopicID: UUID{1}, Partitions: []FetchResponsePartition{
			{PartitionIndex: 0, Records: p0, AbortedTransactions: []FetchResponseAbortedTransaction{{ProducerID: 7, FirstOffset: 3}}},
			{PartitionIndex: 1, Records: p1},
		}},
		{Topic: "b", TopicID: UUID{2}, Partitions: []FetchResponsePartition{
			{PartitionIndex: 0, Records: nil},
			{PartitionIndex: 1, Records: p3, PreferredReadReplica: 2},
		}},
		{Topic: "c", TopicID: UUID{3}},
		{Topic: "d", TopicID: UUID{4}, Partitions: []FetchResponsePartition{{PartitionIndex: 9, Records: b4}}},
	}
	good = [][]CheckedBatch{c0, {checked(b1, 0)}, nil, {checked(b3, len(legacy))}, {checked(b4, 0)}}
	return resp, good
}

func checked(b []byte, at int) CheckedBatch {
	return CheckedBatch{At: int32(at), Len: int32(len(b)), CRC: binary.BigEndian.Uint32(b[batchOffCRC:])}
}

// checkFrame encodes resp at version as its frame body (correlation id
// first, no size prefix).
func checkFrame(t testing.TB, resp *FetchResponse, version int16) []byte {
	t.Helper()
	f, err := AppendResponseFrame(nil, resp, version, 42)
	require.NoError(t, err)
	return f[4:]
}

func checkedAll(c *FetchChecker, n int) [][]CheckedBatch {
	var out [][]CheckedBatch
	for i := range n {
		out = append(out, c.Checked(i))
	}
	return out
}

func TestFetchCheckerFindsEveryGoodBatch(t *testing.T) {
	resp, good := checkResponse(t)
	for v := int16(4); v <= 18; v++ {
		t.Run(fmt.Sprint("v", v), func(t *testing.T) {
			frame := checkFrame(t, resp, v)
			var c FetchChecker
			c.Reset(v)
			c.Scan(frame)
			require.Equal(t, normalise(good), normalise(checkedAll(&c, 5)))
			require.Nil(t, c.Checked(5), "only five partitions")

			// Fed in pieces of every size from one byte up, the scan
			// finds the same batches, each hashed once.
			rng := rand.New(rand.NewPCG(uint64(v), 1))
			for range 20 {
				c.Reset(v)
				for n := 0; n < len(frame); {
					n = min(len(frame), n+1+rng.IntN(200))
					c.Scan(frame[:n])
				}
				require.Equal(t, normalise(good), normalise(checkedAll(&c, 5)))
			}
		})
	}
}

// normalise makes empty and nil lists compare equal.
func normalise(l [][]CheckedBatch) [][]CheckedBatch {
	out := make([][]CheckedBatch, len(l))
	for i, c := range l {
		if len(c) > 0 {
			out[i] = c
		}
	}
	return out
}

func TestFetchCheckerOldVersionsAreLeftToTheDecoder(t *testing.T) {
	resp, _ := checkResponse(t)
	for _, v := range []int16{0, 3, 19, -1} {
		var c FetchChecker
		c.Reset(v)
		if v >= 0 && v <= 3 {
			c.Scan(checkFrame(t, resp, v))
		}
		require.Nil(t, c.Checked(0), "version %d", v)
	}
}

func TestDecoderSkipsCheckedBatchesOnly(t *testing.T) {
	resp, good := checkResponse(t)
	p0 := resp.Responses[0].Partitions[0].Records
	var d RecordDecoder
	count := func(checked []CheckedBatch, data []byte) (int, error) {
		d.Checked = checked
		n := 0
		_, err := d.EachBatch(data, func(_ *RecordBatch, it *RecordIter) error {
			for _, ok := it.Next(); ok; _, ok = it.Next() {
				n++
			}
			return nil
		})
		require.Nil(t, d.Checked, "the walk clears Checked")
		return n, err
	}
	n, err := count(good[0], p0)
	require.NoError(t, err)
	require.Equal(t, 15, n)

	// A batch corrupted after the check is still caught when the check
	// does not describe it: another length or checksum, or another place.
	bad := append([]byte(nil), p0...)
	bad[good[0][1].At+30] ^= 1
	_, err = count(good[0], bad)
	require.NoError(t, err, "the checked batch's bytes are trusted as verified")
	for name, c := range map[string]CheckedBatch{
		"length": {At: good[0][1].At, Len: good[0][1].Len - 1, CRC: good[0][1].CRC},
		"crc":    {At: good[0][1].At, Len: good[0][1].Len, CRC: good[0][1].CRC + 1},
		"place":  {At: good[0][1].At + 1, Len: good[0][1].Len, CRC: good[0][1].CRC},
	} {
		_, err = count([]CheckedBatch{good[0][0], c, good[0][2]}, bad)
		require.True(t, errors.Is(err, ErrCorruptMessage), "%s: %v", name, err)
	}
	_, err = count(nil, bad)
	require.True(t, errors.Is(err, ErrCorruptMessage))
}

func TestFetchCheckerMalformed(t *testing.T) {
	resp, _ := checkResponse(t)
	frame := checkFrame(t, resp, 16)
	rng := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		f := append([]byte(nil), frame...)
		for range 1 + rng.IntN(4) {
			f[rng.IntN(len(f))] = byte(rng.Uint32())
		}
		var c FetchChecker
		c.Reset(16)
		c.Scan(f[:rng.IntN(len(f)+1)])
		c.Scan(f)
		requireTrueChecks(t, &c, f)
	}
}

// requireTrueChecks asserts that every batch c vouches for is where it
// says and hashes to its checksum.
func requireTrueChecks(t testing.TB, c *FetchChecker, frame []byte) {
	t.Helper()
	for i := range c.parts {
		for _, b := range c.Checked(i) {
			require.GreaterOrEqual(t, b.Len, int32(RecordBatchHeaderSize))
			require.Equal(t, b.CRC, crcCastagnoli(frameBatch(frame, c, i, b)[batchOffAttributes:]))
		}
	}
}

// frameBatch returns the bytes of a checked batch of the part-th partition.
func frameBatch(frame []byte, c *FetchChecker, part int, b CheckedBatch) []byte {
	at := c.parts[part].at + int(b.At)
	return frame[at : at+int(b.Len)]
}

func FuzzFetchChecker(f *testing.F) {
	resp, _ := checkResponse(f)
	for _, v := range []int16{4, 11, 12, 13, 16} {
		f.Add(checkFrame(f, resp, v), v, uint16(100))
	}
	f.Fuzz(func(t *testing.T, frame []byte, version int16, step uint16) {
		var c FetchChecker
		c.Reset(version)
		for n := 0; n < len(frame); {
			n = min(len(frame), n+1+int(step))
			c.Scan(frame[:n])
		}
		requireTrueChecks(t, &c, frame)
	})
}
