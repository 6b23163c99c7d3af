package workload

import (
	"math"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPayloadRoundTrip(t *testing.T) {
	for _, size := range []int{3, 100, 10 << 10} {
		path := filepath.Join(t.TempDir(), "values.txt")
		require.NoError(t, WritePayload(path, size))
		got, err := LoadPayload(path, size)
		require.NoError(t, err)
		want := GeneratePayload(size, PoolSize(size))
		require.Equal(t, want, got, "size %d", size)
		for _, v := range got {
			assert.NotContains(t, string(v), "\n")
		}
	}
	_, err := LoadPayload(filepath.Join(t.TempDir(), "missing"), 100)
	assert.Error(t, err)
}

func TestPayloadWrongSize(t *testing.T) {
	path := filepath.Join(t.TempDir(), "values.txt")
	require.NoError(t, WritePayload(path, 100))
	_, err := LoadPayload(path, 99)
	assert.ErrorContains(t, err, "want 99")
}

func TestPayloadIsDeterministicText(t *testing.T) {
	a, b := GeneratePayload(100, 10), GeneratePayload(100, 10)
	assert.Equal(t, a, b)
	assert.NotEqual(t, a[0], a[1])
	for _, c := range a[0] {
		assert.True(t, c == ' ' || c >= 'a' && c <= 'z', "byte %q", c)
	}
}

func TestEndsRoundTrip(t *testing.T) {
	ends := map[int32]int64{0: 10, 1: 0, 5: 7}
	got, err := ParseEnds(FormatEnds(ends))
	require.NoError(t, err)
	assert.Equal(t, ends, got)
	assert.EqualValues(t, 17, TotalEnds(got))
	for _, bad := range []string{"x", "1:", ":2", "-1:3", "1:-3"} {
		_, err := ParseEnds(bad)
		assert.Error(t, err, bad)
	}
}

func TestFirstOfEnds(t *testing.T) {
	ends := map[int32]int64{0: 1000, 1: 500, 2: 3, 3: 0}
	got := FirstOfEnds(ends, 150)
	assert.Equal(t, map[int32]int64{0: 99, 1: 49, 2: 1, 3: 0}, got, "the same fraction of each (rounded down), a partition with messages keeps one")
	assert.EqualValues(t, 1000, ends[0], "the caller's ends are not changed")
	assert.Equal(t, ends, FirstOfEnds(ends, 1503), "asking for all of them")
	assert.Equal(t, ends, FirstOfEnds(ends, 5000), "asking for more")
	assert.Empty(t, FirstOfEnds(map[int32]int64{}, 10))
}

func TestProgressFinishesOnEndsNotCounts(t *testing.T) {
	p := NewProgress(map[int32]int64{0: 2, 1: 1, 2: 0})
	assert.False(t, p.Seen(0, 0, 10))
	assert.False(t, p.Seen(0, 0, 10)) // a redelivery does not move the partition on
	assert.False(t, p.Seen(1, 0, 10))
	assert.True(t, p.Seen(0, 1, 10))
	assert.EqualValues(t, 4, p.Messages())
	assert.EqualValues(t, 40, p.Bytes())
	select {
	case <-p.Wait():
	default:
		t.Fatal("Wait not closed")
	}
	assert.True(t, NewProgress(map[int32]int64{0: 0}).Done())
}

// A message on a partition that was empty at the start (end 0) does not count it as reaching its end again.
func TestProgressEmptyPartitionDoneOnce(t *testing.T) {
	p := NewProgress(map[int32]int64{0: 0, 1: 2})
	assert.False(t, p.Seen(0, 0, 1), "partition 1 is not at its end")
	assert.False(t, p.Seen(0, 5, 1))
	assert.True(t, p.Seen(1, 1, 1))
}

// Tallies count on their own goroutines, finish on ends as Seen does, and reach the Progress's counts on Flush.
func TestProgressTallies(t *testing.T) {
	p := NewProgress(map[int32]int64{0: 2, 1: 1, 2: 0})
	a, b := p.Tally(), p.Tally()
	assert.False(t, a.Seen(0, 0, 10))
	assert.False(t, a.Seen(0, 0, 10), "a redelivery does not move the partition on")
	assert.False(t, b.Seen(1, 0, 10))
	assert.False(t, b.Seen(2, 0, 5), "an empty partition was done already")
	assert.False(t, a.Seen(7, 3, 1), "a partition without an end")
	assert.False(t, b.Done())
	assert.EqualValues(t, 2, p.Messages(), "b's counts reached the Progress at its partitions' ends, a's wait")
	assert.True(t, a.Seen(0, 1, 10))
	assert.True(t, b.Done())
	assert.EqualValues(t, 6, p.Messages(), "a flushed before partition 0's end finished the Progress")
	assert.True(t, a.Seen(7, 4, 1), "a message after the end")
	assert.EqualValues(t, 6, p.Messages(), "not flushed yet")
	a.Flush()
	b.Flush()
	b.Flush()
	assert.EqualValues(t, 7, p.Messages())
	assert.EqualValues(t, 47, p.Bytes())

	q := NewProgress(map[int32]int64{0: 3})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			tl := q.Tally()
			for off := range int64(3) {
				tl.Seen(0, off, 2)
			}
		})
	}
	<-q.Wait()
	assert.GreaterOrEqual(t, q.Messages(), int64(3), "the tally that finished had flushed first")
	wg.Wait()
	assert.EqualValues(t, 12, q.Messages(), "each tally's last message reached the end and flushed")
}

func TestProgressCountsPartitionsWithoutEnds(t *testing.T) {
	p := NewProgress(map[int32]int64{1: 1, 3: 2})
	assert.False(t, p.Seen(0, 5, 1), "a partition below the highest tracked but without an end")
	assert.False(t, p.Seen(7, 5, 2), "a partition above them")
	assert.False(t, p.Seen(-1, 5, 4))
	assert.False(t, p.Seen(1, 0, 8))
	assert.False(t, p.Seen(3, 0, 16))
	assert.True(t, p.Seen(3, 1, 32))
	assert.True(t, p.Done())
	assert.EqualValues(t, 6, p.Messages())
	assert.EqualValues(t, 63, p.Bytes())
}

func TestProgressConcurrentMembers(t *testing.T) {
	const parts, per = 8, 500
	ends := map[int32]int64{}
	for id := range int32(parts) {
		ends[id] = per
	}
	p := NewProgress(ends)
	var wg sync.WaitGroup
	for range 4 { // every member sees every record: redeliveries all round
		wg.Go(func() {
			for off := range int64(per) {
				for id := range int32(parts) {
					p.Seen(id, off, 3)
				}
			}
		})
	}
	wg.Wait()
	assert.True(t, p.Done())
	assert.EqualValues(t, 4*parts*per, p.Messages())
	assert.EqualValues(t, 3*4*parts*per, p.Bytes())
}

// BenchmarkProgressSeen is the per-message cost every consume run pays in the harness, at 3,000 partitions.
func BenchmarkProgressSeen(b *testing.B) {
	const parts = 3000
	p := endlessProgress(parts)
	off := int64(0)
	for i := 0; b.Loop(); i++ {
		id := int32(i % parts)
		if id == 0 {
			off++
		}
		p.Seen(id, off, 100)
	}
}

// BenchmarkProgressTallySeen is BenchmarkProgressSeen through a Tally, as a contender delivering on one goroutine
// counts.
func BenchmarkProgressTallySeen(b *testing.B) {
	const parts = 3000
	tl := endlessProgress(parts).Tally()
	off := int64(0)
	for i := 0; b.Loop(); i++ {
		id := int32(i % parts)
		if id == 0 {
			off++
		}
		tl.Seen(id, off, 100)
	}
}

// endlessProgress tracks parts partitions that never reach their ends, for the benchmarks.
func endlessProgress(parts int) *Progress {
	ends := map[int32]int64{}
	for id := range int32(parts) {
		ends[id] = math.MaxInt64
	}
	return NewProgress(ends)
}

func TestOwnersCompleteOnlyWhenEveryMemberOwnsAndNoOverlap(t *testing.T) {
	o := NewOwners(2, 3)
	o.Set(0, []int32{0, 1, 2})
	assert.Zero(t, o.Elapsed(), "one member owning everything is not a complete group")
	o.Add(1, []int32{2})
	assert.Zero(t, o.Elapsed(), "partition 2 owned twice")
	o.Remove(1, nil)
	assert.Zero(t, o.Elapsed(), "member 1 owns nothing")
	o.Add(1, []int32{2})
	assert.Zero(t, o.Elapsed(), "partition 2 still owned twice")
	o.Remove(0, []int32{2})
	assert.NotZero(t, o.Elapsed(), "revoking the overlap completes the group")
	select {
	case <-o.Complete():
	default:
		t.Fatal("Complete not closed")
	}
	first := o.Elapsed()
	o.Remove(1, nil)
	o.Set(1, []int32{2})
	assert.Equal(t, first, o.Elapsed(), "the first completion counts")
}

func TestPercentileNearestRank(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 1000; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	assert.Equal(t, 500*time.Millisecond, Percentile(d, 50))
	assert.Equal(t, 990*time.Millisecond, Percentile(d, 99))
	assert.Equal(t, 999*time.Millisecond, Percentile(d, 99.9))
	assert.Equal(t, 1000*time.Millisecond, Percentile(d, 100))
	assert.Zero(t, Percentile(nil, 50))

	// Three messages sent 3, 1 and 2 ms ago, and one an hour ago, in the warm-up, which Fill leaves out.
	var l Latencies
	now := time.Now()
	l.Acked(now.Add(-time.Hour))
	l.Acked(now.Add(-3 * time.Millisecond))
	l.Acked(now.Add(-time.Millisecond))
	l.Acked(now.Add(-2 * time.Millisecond))
	assert.Equal(t, 4, l.Len())
	var r Result
	l.Fill(&r, now.Add(-time.Minute))
	assert.Len(t, r.Samples, 3)
	assert.InDelta(t, 2.0, r.P50Ms, 0.5)
	assert.InDelta(t, 3.0, r.P999Ms, 0.5)
	l.Fill(&r, time.Time{})
	assert.Len(t, r.Samples, 4, "from the zero time, every message counts")
	assert.Greater(t, r.P999Ms, 3_000_000.0)
}

func TestProcStats(t *testing.T) {
	var r Result
	FillProcStats(&r)
	assert.Positive(t, r.Goroutines)
}

func TestCoverage(t *testing.T) {
	c := NewCoverage(2)
	c.Gain(0, []int32{0})
	c.Lose(0, []int32{0}) // before the group owned everything: no gap
	if c.Unowned() != 0 {
		t.Fatalf("unowned before the first full assignment: %v", c.Unowned())
	}
	c.Gain(0, []int32{0, 1})
	c.Lose(0, []int32{1})
	if c.Settled(1) {
		t.Fatal("member 1 owns nothing yet")
	}
	time.Sleep(5 * time.Millisecond)
	c.Gain(1, []int32{1})
	if !c.Settled(1) {
		t.Fatal("member 1 owns a partition and every partition has an owner")
	}
	got := c.Unowned()
	if got < 5*time.Millisecond {
		t.Fatalf("a gap of at least 5ms, got %v", got)
	}
	c.Gain(0, []int32{1}) // a second owner overlapping
	c.Lose(1, []int32{1}) // one gives it up: still owned
	if c.Unowned() != got {
		t.Fatalf("no gap while another member owns it: %v", c.Unowned())
	}
}

// A pacer sends for its warm-up and counted part together, no faster than its rate, and marks where the counted
// part begins.
func TestPacerRunsWarmupAndDuration(t *testing.T) {
	s := &Spec{Rate: 1000, Warmup: 2 * time.Millisecond, Duration: 3 * time.Millisecond}
	before := time.Now()
	p := NewPacer(s)
	assert.False(t, p.Counted().Before(before.Add(s.Warmup)), "counted from start+warmup")
	sends := 0
	for p.Next() {
		sends++
	}
	assert.GreaterOrEqual(t, time.Since(before), s.Warmup+s.Duration, "sends until warm-up and duration are over")
	// Each send is due 1 ms after the last, and one is started only before the end: at most 5 ms / 1 ms + 1.
	assert.GreaterOrEqual(t, sends, 1)
	assert.LessOrEqual(t, sends, 6)

	assert.False(t, NewPacer(&Spec{Rate: 1000}).Next(), "no time to send in, no send")
}

// A pacer given a start in the future sends its first message then, not before; one given a past start sends at
// once.
func TestPacerStartsAtStart(t *testing.T) {
	start := time.Now().Add(20 * time.Millisecond)
	p := NewPacer(&Spec{Rate: 1000, Duration: time.Millisecond, Start: start})
	assert.Equal(t, start.Add(0), p.Counted(), "counted from the given start (no warm-up)")
	require.True(t, p.Next())
	assert.False(t, time.Now().Before(start), "the first send waits for the start")

	before := time.Now()
	p = NewPacer(&Spec{Rate: 1000, Duration: time.Millisecond, Start: before.Add(-time.Hour)})
	assert.False(t, p.Counted().Before(before), "a past start counts from now")
	require.True(t, p.Next())
}
