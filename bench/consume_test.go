package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gregorkafka/gregor/bench/internal/clients"
	"github.com/gregorkafka/gregor/bench/internal/workload"
	"github.com/gregorkafka/gregor/protocol"
)

// consumeCodecs are the codecs of the consume side by side, by the names the adapters take.
var consumeCodecs = map[string]protocol.Compression{
	"none": protocol.CompressionNone, "lz4": protocol.CompressionLZ4, "zstd": protocol.CompressionZstd,
}

// consumePerBatch is how many records each stored batch holds: 32 KiB of values, at least one.
func consumePerBatch(size int) int { return max(1, (32<<10)/size) }

// consumeEnds spreads n records over partitions as evenly as they go.
func consumeEnds(n, partitions int) []int64 {
	ends := make([]int64, partitions)
	for p := range ends {
		ends[p] = int64(n / partitions)
		if p < n%partitions {
			ends[p]++
		}
	}
	return ends
}

// BenchmarkConsumeInMemory is the consume side by side without a real broker: gregor (SimpleConsumer, on each
// handler) and franz-go (a kgo client consuming the topic from the start, PollFetches) run the very adapters
// the broker benchmark runs (bench/internal/clients), each a whole client, against the fake broker, which
// answers Metadata, ListOffsets and Fetch from the same canned record batches (fakeLog). So what is compared is
// everything a consumer does between the socket and the application — the fetch loop, response and batch
// decoding, decompression, queueing and delivery — not decoding alone. The full kgo client is used rather than
// kgo.ProcessFetchPartition because the fake answers everything kgo asks of a broker, and only the whole
// client includes franz-go's own fetch loop and buffering.
//
// The fake broker runs in a child process (this test binary again, TestFakeFetchBroker), so that its CPU time
// and garbage are not the client's: cpu-ns/op is this process's user+system CPU per record, GC included,
// and nothing else. broker-cpu-ns/op is the fake's, and fetched-B/op the response bytes it wrote per record
// (above the stored size per record, a client fetched bytes it dropped and asked for again).
//
// One op is one record delivered; b.N records are spread over the partitions, stored in batches of 32 KiB of
// values. The fake honours each client's fetch limits as Kafka does (so each gets the batches its requests
// ask for, partial batches included) and answers without fetch sessions. Contenders run one after the other
// within each cell, so one run compares them:
//
//	cd bench && go test -run XXX -bench ConsumeInMemory -benchtime 200000x
func BenchmarkConsumeInMemory(b *testing.B) {
	for _, size := range []int{100, 10 << 10} {
		for _, codec := range []string{"none", "lz4", "zstd"} {
			for _, parts := range []int{10, 100, 1000, 3000} {
				for _, client := range []string{"gregor", "gregor-eventloop", "franz-go"} {
					name := fmt.Sprintf("%s/%s/partitions=%d/%s", sizeName(size), codec, parts, client)
					b.Run(name, func(b *testing.B) { benchConsume(b, client, size, codec, parts) })
				}
			}
		}
	}
}

// benchConsume runs client's consume adapter over b.N records of size bytes in partitions partitions.
func benchConsume(b *testing.B, client string, size int, codec string, parts int) {
	fb := startFetchBroker(b, fmt.Sprintf("%d,%s,%d,%d", size, codec, b.N, parts))
	ends := consumeEnds(b.N, parts)
	s := &workload.Spec{
		Workload: workload.Consume, Bootstrap: []string{fb.addr}, Topic: "bench", Partitions: parts,
		Messages: b.N, Size: size, Compression: codec, Ends: map[int32]int64{}, Timeout: 5 * time.Minute,
	}
	for p, e := range ends {
		s.Ends[int32(p)] = e
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.Timeout)
	defer cancel()
	b.SetBytes(int64(size))
	b.ReportAllocs()
	broker0, sent0 := fb.stats(b)
	cpu0 := cpuNanos()
	b.ResetTimer()
	res, err := clients.Execute(ctx, client, s)
	b.StopTimer()
	cpu := cpuNanos() - cpu0
	broker, sent := fb.stats(b)
	if err != nil {
		b.Fatal(err)
	}
	if res.Messages < int64(b.N) {
		b.Fatalf("%d records delivered, want %d", res.Messages, b.N)
	}
	n := float64(b.N)
	b.ReportMetric(float64(cpu)/n, "cpu-ns/op")
	b.ReportMetric(float64(broker-broker0)/n, "broker-cpu-ns/op")
	b.ReportMetric(float64(sent-sent0)/n, "fetched-B/op")
}

// fetchBroker is the fake broker in its child process: its address, and a line protocol on its stdin and
// stdout ("stats" → "CPU-NANOS SENT-BYTES"; closing stdin ends it).
type fetchBroker struct {
	addr string
	in   io.WriteCloser
	out  *bufio.Reader
}

const fakeFetchEnv = "GREGOR_BENCH_FAKE_FETCH"

// startFetchBroker starts the child serving spec ("SIZE,CODEC,RECORDS,PARTITIONS"); it ends with b.
func startFetchBroker(b *testing.B, spec string) *fetchBroker {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestFakeFetchBroker$", "-test.count=1")
	cmd.Env = append(os.Environ(), fakeFetchEnv+"="+spec)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { in.Close(); _ = cmd.Wait() })
	fb := &fetchBroker{in: in, out: bufio.NewReader(out)}
	line, err := fb.out.ReadString('\n')
	if err != nil {
		b.Fatalf("fake broker: %v", err)
	}
	fb.addr = strings.TrimSpace(line)
	return fb
}

func (fb *fetchBroker) stats(b *testing.B) (cpu, sent int64) {
	if _, err := io.WriteString(fb.in, "stats\n"); err != nil {
		b.Fatal(err)
	}
	line, err := fb.out.ReadString('\n')
	if err == nil {
		_, err = fmt.Sscan(line, &cpu, &sent)
	}
	if err != nil {
		b.Fatalf("fake broker stats: %q: %v", line, err)
	}
	return cpu, sent
}

// TestFakeFetchBroker is the fake broker's child process for BenchmarkConsumeInMemory; run by itself it checks
// that the canned log reads back as the records it holds.
func TestFakeFetchBroker(t *testing.T) {
	spec := os.Getenv(fakeFetchEnv)
	if spec == "" {
		testFakeLog(t)
		return
	}
	var size, n, parts int
	var codec string
	if _, err := fmt.Sscanf(strings.ReplaceAll(spec, ",", " "), "%d %s %d %d", &size, &codec, &n, &parts); err != nil {
		t.Fatalf("%s=%q: %v", fakeFetchEnv, spec, err)
	}
	log, err := newFakeLog(workload.GeneratePayload(size, workload.PoolSize(size)), consumePerBatch(size),
		consumeCodecs[codec], consumeEnds(n, parts))
	if err != nil {
		t.Fatal(err)
	}
	fb := newFakeBroker(t, "bench", int32(parts))
	fb.log = log
	fmt.Println(fb.addr())
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		fmt.Println(cpuNanos(), fb.sent.Load())
	}
}

// testFakeLog reads a log's partitions back with gregor's decoder: every offset once, in order, and partial
// batches only where a limit cut them.
func testFakeLog(t *testing.T) {
	values := workload.GeneratePayload(100, 64)
	ends := consumeEnds(1005, 4) // 252, 251, 251, 251: tails of 2 and 1 records at 10 per batch
	log, err := newFakeLog(values, 10, protocol.CompressionLZ4, ends)
	if err != nil {
		t.Fatal(err)
	}
	for p, end := range ends {
		var d protocol.RecordDecoder
		next := int64(0)
		for next < end {
			data := log.records(nil, int32(p), next, 1<<20, dropFirst)
			recs, _, err := d.AppendRecords(nil, data)
			if err != nil {
				t.Fatalf("partition %d at %d: %v", p, next, err)
			}
			for _, r := range recs {
				if r.Offset != next || string(r.Value) != string(values[int(r.Offset)%10%len(values)]) {
					t.Fatalf("partition %d: record at %d: offset %d", p, next, r.Offset)
				}
				next++
			}
		}
		if next != end {
			t.Fatalf("partition %d: read to %d, want %d", p, next, end)
		}
		if rest := log.records(nil, int32(p), end, 1<<20, dropFirst); len(rest) != 0 {
			t.Fatalf("partition %d: %d bytes past the end", p, len(rest))
		}
		// A limit cuts the second batch short; a first batch over it comes whole, cut or not at all by rule.
		first := len(log.records(nil, int32(p), 0, 1, wholeFirst))
		if got := log.records(nil, int32(p), 0, first+5, dropFirst); len(got) != first+5 {
			t.Fatalf("partition %d: %d bytes under a limit of %d", p, len(got), first+5)
		}
		if got := log.records(nil, int32(p), 3, 1, cutFirst); len(got) != 1 {
			t.Fatalf("partition %d: %d bytes under a limit of 1, cut", p, len(got))
		}
		if got := log.records(nil, int32(p), 3, first-1, dropFirst); len(got) != 0 {
			t.Fatalf("partition %d: %d bytes of a first batch over the limit", p, len(got))
		}
	}
}
