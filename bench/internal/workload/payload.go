package workload

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
)

// Payloads are lines of printable ASCII so that Kafka's ProducerPerformance can read the same file
// (--payload-file splits on newlines and needs UTF-8). The text is words drawn from a small vocabulary: it
// compresses with LZ4 roughly as log lines do, neither incompressible (random bytes) nor trivially (one repeated
// byte), so the lz4 cells measure real codec work.

// PoolSize is how many distinct values a payload file holds for values of size bytes: about 1 MiB of text,
// between 64 and 16384 values.
func PoolSize(size int) int {
	return min(max(64, (1<<20)/max(size, 1)), 16384)
}

// GeneratePayload returns count values of exactly size bytes, the same for every call with the same arguments.
func GeneratePayload(size, count int) [][]byte {
	rng := rand.New(rand.NewPCG(uint64(size), 0x6772_6567_6f72))
	words := make([][]byte, 512)
	for i := range words {
		w := make([]byte, 3+rng.IntN(8))
		for j := range w {
			w[j] = byte('a' + rng.IntN(26))
		}
		words[i] = w
	}
	out := make([][]byte, count)
	for i := range out {
		v := make([]byte, 0, size+16)
		for len(v) < size {
			v = append(v, words[rng.IntN(len(words))]...)
			v = append(v, ' ')
		}
		out[i] = v[:size]
	}
	return out
}

// WritePayload writes GeneratePayload(size, PoolSize(size)) to path, one value a line.
func WritePayload(path string, size int) error {
	if size <= 0 {
		return fmt.Errorf("workload: value size %d", size)
	}
	var b bytes.Buffer
	for _, v := range GeneratePayload(size, PoolSize(size)) {
		b.Write(v)
		b.WriteByte('\n')
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

// LoadPayload reads a payload file and checks that every value is size bytes long.
func LoadPayload(path string, size int) ([][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, size+2), size+2)
	var out [][]byte
	for sc.Scan() {
		if len(sc.Bytes()) != size {
			return nil, fmt.Errorf("workload: %s: value %d has %d bytes, want %d", path, len(out), len(sc.Bytes()), size)
		}
		out = append(out, bytes.Clone(sc.Bytes()))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("workload: %s: %w", path, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("workload: %s holds no values", path)
	}
	return out, nil
}
