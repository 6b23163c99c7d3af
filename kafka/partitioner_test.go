package kafka

import (
	"context"
	"encoding/hex"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/internal/testcluster"
)

func TestRoundRobinPartitioner(t *testing.T) {
	p := RoundRobinPartitioner()
	var got []int32
	for range 7 {
		id, err := p.Partition(&Message{}, 3)
		require.NoError(t, err)
		got = append(got, id)
	}
	assert.Equal(t, []int32{0, 1, 2, 0, 1, 2, 0}, got)

	// Each producer gets its own cycle.
	id, err := RoundRobinPartitioner().Partition(&Message{}, 3)
	require.NoError(t, err)
	assert.Equal(t, int32(0), id)

	// Concurrent callers share the cycle evenly.
	p = RoundRobinPartitioner()
	counts := make([]int, 4)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				id, _ := p.Partition(&Message{}, 4)
				mu.Lock()
				counts[id]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, []int{200, 200, 200, 200}, counts)
}

func TestRandomPartitioner(t *testing.T) {
	p := RandomPartitioner()
	seen := map[int32]bool{}
	for range 1000 {
		id, err := p.Partition(&Message{}, 5)
		require.NoError(t, err)
		require.True(t, id >= 0 && id < 5, "partition %d", id)
		seen[id] = true
	}
	assert.Len(t, seen, 5, "1000 draws cover 5 partitions")
}

func TestHashPartitioner(t *testing.T) {
	p := HashPartitioner(nil)
	_, err := p.Partition(&Message{Value: []byte("v")}, 3)
	require.ErrorIs(t, err, ErrNilKey)

	// The same key always lands on the same partition, and the empty key
	// is a key.
	for _, key := range []string{"", "a", "user-42"} {
		first, err := p.Partition(&Message{Key: []byte(key)}, 12)
		require.NoError(t, err)
		for range 3 {
			again, _ := p.Partition(&Message{Key: []byte(key)}, 12)
			assert.Equal(t, first, again)
		}
	}

	// A custom hash, and the sign bit masked off as Java's toPositive does.
	custom := HashPartitioner(func([]byte) uint32 { return 0xffffffff })
	id, err := custom.Partition(&Message{Key: []byte{}}, 10)
	require.NoError(t, err)
	assert.Equal(t, int32(0x7fffffff%10), id)
}

func TestManualPartitioner(t *testing.T) {
	id, err := ManualPartitioner().Partition(&Message{Partition: 7}, 3)
	require.NoError(t, err)
	assert.Equal(t, int32(7), id, "range checks are Produce's")
}

// murmurKeys covers every tail length, bytes with the high bit set (Java's
// bytes are signed) and long keys.
func murmurKeys() [][]byte {
	keys := [][]byte{{}, {0}, {0xff}, {0x80, 0x7f}, {1, 2, 3}, {0xde, 0xad, 0xbe, 0xef}, {0xfe, 0xff, 0xfe, 0xff, 0x01}}
	for _, s := range []string{"21", "foobar", "a-little-bit-long-string", "a-little-bit-longer-string",
		"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", "user-1", "user-2", "order:0001", "ключ", "🔑"} {
		keys = append(keys, []byte(s))
	}
	for n := range 40 {
		k := make([]byte, n)
		for i := range k {
			k[i] = byte(n*31 + i*7)
		}
		keys = append(keys, k)
	}
	return keys
}

// TestMurmur2MatchesJava runs the Java client's own Utils.murmur2 (from the
// jars the test clusters use) over a fixed key set and compares hashes and
// the partitions of the default partitioner.
func TestMurmur2MatchesJava(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Java; skipped with -short")
	}
	java, err := exec.LookPath("java")
	if err != nil {
		t.Skip("java not on PATH")
	}
	ctx := testCtx(t)
	cp, err := testcluster.Classpath(ctx, testcluster.KRaftVersion)
	require.NoError(t, err)

	keys := murmurKeys()
	counts := []int{1, 7, 100}
	want := runJavaMurmur(t, ctx, java, cp, counts, keys)
	p := HashPartitioner(nil)
	for i, key := range keys {
		got := strconv.Itoa(int(int32(Murmur2(key))))
		for _, n := range counts {
			id, err := p.Partition(&Message{Key: key}, n)
			require.NoError(t, err)
			got += " " + strconv.Itoa(int(id))
		}
		assert.Equal(t, want[i], got, "key %x: hash, then partition of %v", key, counts)
	}
}

func runJavaMurmur(t *testing.T, ctx context.Context, java, cp string, counts []int, keys [][]byte) []string {
	ns := make([]string, len(counts))
	for i, n := range counts {
		ns[i] = strconv.Itoa(n)
	}
	args := []string{"-cp", cp, "testdata/java/Murmur.java", strings.Join(ns, ",")}
	for _, k := range keys {
		if len(k) == 0 {
			args = append(args, "-")
		} else {
			args = append(args, hex.EncodeToString(k))
		}
	}
	out, err := exec.CommandContext(ctx, java, args...).CombinedOutput()
	require.NoError(t, err, "%s", out)
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	require.Len(t, lines, len(keys), "%s", out)
	return lines
}
