package workload

import (
	"sync"
	"sync/atomic"
)

// Progress tells when consumers have read every partition to its end. Counting messages would not do: a group
// rebalance redelivers some, and a count would then finish early. Safe for concurrent use.
//
// Seen runs once per message in every contender's process, so its cost is part of what each one is measured to
// spend. It indexes partitions in a slice and counts in the partition's own slot (no map lookups, no counter
// shared by all partitions); the map and shared counters it replaced took 15% of a consumer's CPU reading 100 B
// records from 3,000 partitions, which pulled every contender's CPU per record toward the others'. Its atomic
// operations still took 14-20% of a consumer's CPU reading 100 B records (two adds and a compare-and-swap per
// message), so a partition's progress is now one flag set when its end is reached, and the consume workloads count
// through a Tally per delivering goroutine, which costs no atomic operation per message (16 → 11 ns per message
// through Seen, 2.5 ns through a Tally: BenchmarkProgressSeen, BenchmarkProgressTallySeen). Group workloads,
// whose members redeliver each other's messages until the last moment, count through Seen.
type Progress struct {
	slots     []progressSlot // by partition id
	other     progressSlot   // counts for partitions without an end
	remaining atomic.Int64   // partitions not yet at their end
	finished  atomic.Bool
	done      chan struct{}
	once      sync.Once
}

type progressSlot struct {
	end      int64
	tracked  bool
	reached  atomic.Bool // a message at end-1 or beyond was seen
	messages atomic.Int64
	bytes    atomic.Int64
}

// NewProgress tracks the given partition end offsets. Partitions that are already empty count as done.
func NewProgress(ends map[int32]int64) *Progress {
	n := 0
	for id := range ends {
		if id >= 0 {
			n = max(n, int(id)+1)
		}
	}
	p := &Progress{slots: make([]progressSlot, n), done: make(chan struct{})}
	for id, e := range ends {
		if id < 0 {
			continue
		}
		s := &p.slots[id]
		s.end, s.tracked = e, true
		if e > 0 {
			p.remaining.Add(1)
		} else {
			s.reached.Store(true) // empty: done already
		}
	}
	if p.remaining.Load() == 0 {
		p.finish()
	}
	return p
}

func (p *Progress) finish() {
	p.once.Do(func() {
		p.finished.Store(true)
		close(p.done)
	})
}

// Seen records one delivered message. It reports whether every partition has now reached its end.
func (p *Progress) Seen(partition int32, offset int64, valueBytes int) bool {
	s := p.tracked(partition)
	if s == nil {
		p.other.messages.Add(1)
		p.other.bytes.Add(int64(valueBytes))
		return p.finished.Load()
	}
	s.messages.Add(1)
	s.bytes.Add(int64(valueBytes))
	if offset+1 >= s.end {
		p.reach(s)
	}
	return p.finished.Load()
}

// tracked returns partition's slot, or nil when it has no end to reach.
func (p *Progress) tracked(partition int32) *progressSlot {
	if uint64(partition) >= uint64(len(p.slots)) || !p.slots[partition].tracked {
		return nil
	}
	return &p.slots[partition]
}

// reach marks s's partition as read to its end, once.
func (p *Progress) reach(s *progressSlot) {
	if !s.reached.Load() && s.reached.CompareAndSwap(false, true) && p.remaining.Add(-1) == 0 {
		p.finish()
	}
}

// Seer records deliveries: a Progress, or one goroutine's Tally of it.
type Seer interface {
	Seen(partition int32, offset int64, valueBytes int) bool
	Done() bool
}

// Tally counts the messages one goroutine delivers without an atomic operation per message: its counts reach the
// Progress when one of its messages takes a partition to its end (before the Progress can finish, so a Progress
// whose every partition came to its end through tallies holds their counts up to then) and on Flush. A delivery
// loop calls Flush when it stops, for what it saw after.
type Tally struct {
	p               *Progress
	messages, bytes int64
}

// Tally returns a new Tally for p.
func (p *Progress) Tally() *Tally { return &Tally{p: p} }

// Seen is Progress.Seen for the Tally's goroutine.
func (t *Tally) Seen(partition int32, offset int64, valueBytes int) bool {
	t.messages++
	t.bytes += int64(valueBytes)
	p := t.p
	if s := p.tracked(partition); s != nil && offset+1 >= s.end {
		t.Flush()
		p.reach(s)
	}
	return p.finished.Load()
}

// Done is Progress.Done.
func (t *Tally) Done() bool { return t.p.Done() }

// Flush adds what the Tally counted since its last flush to its Progress.
func (t *Tally) Flush() {
	if t.messages == 0 {
		return
	}
	t.p.other.messages.Add(t.messages)
	t.p.other.bytes.Add(t.bytes)
	t.messages, t.bytes = 0, 0
}

// Done reports whether every partition has reached its end.
func (p *Progress) Done() bool { return p.finished.Load() }

// Wait returns a channel closed when every partition has reached its end.
func (p *Progress) Wait() <-chan struct{} { return p.done }

// Messages is how many messages were seen, redeliveries included.
func (p *Progress) Messages() int64 {
	n := p.other.messages.Load()
	for i := range p.slots {
		n += p.slots[i].messages.Load()
	}
	return n
}

// Bytes is how many value bytes were seen, redeliveries included.
func (p *Progress) Bytes() int64 {
	n := p.other.bytes.Load()
	for i := range p.slots {
		n += p.slots[i].bytes.Load()
	}
	return n
}
