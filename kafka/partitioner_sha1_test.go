package kafka

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSHA1PartitionerMatchesPykafka checks every key and partition count
// against what pykafka's own hashing_partitioner chose
// (testdata/pykafka/hashing_partitioner.py wrote the file).
func TestSHA1PartitionerMatchesPykafka(t *testing.T) {
	b, err := os.ReadFile("testdata/pykafka/hashing_partitioner.json")
	require.NoError(t, err)
	var vectors struct {
		Pykafka string `json:"pykafka"`
		Vectors []struct {
			KeyHex     string           `json:"key_hex"`
			Partitions map[string]int32 `json:"partitions"`
		} `json:"vectors"`
	}
	require.NoError(t, json.Unmarshal(b, &vectors))
	require.Equal(t, "2.8.0", vectors.Pykafka)
	require.Greater(t, len(vectors.Vectors), 200)
	p := SHA1Partitioner()
	checked := 0
	for _, v := range vectors.Vectors {
		key, err := hex.DecodeString(v.KeyHex)
		require.NoError(t, err)
		for count, want := range v.Partitions {
			n, err := strconv.Atoi(count)
			require.NoError(t, err)
			got, err := p.Partition(&Message{Key: key}, n)
			require.NoError(t, err)
			require.Equal(t, want, got, "key %q over %d partitions", key, n)
			got, err = p.(builtinPartitioner).pick(key, 0, n)
			require.NoError(t, err)
			require.Equal(t, want, got)
			checked++
		}
	}
	assert.Greater(t, checked, 2000)
}

func TestSHA1PartitionerNilKey(t *testing.T) {
	_, err := SHA1Partitioner().Partition(&Message{}, 3)
	require.ErrorIs(t, err, ErrNilKey)
	got, err := SHA1Partitioner().Partition(&Message{Key: []byte{}}, 3)
	require.NoError(t, err)
	assert.Equal(t, int32(1), got, "an empty key is hashed like any other")
}
