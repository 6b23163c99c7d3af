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
// records from 3,000 partitions, which pulled every contender's CPU per record toward the others'.
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
	next     atomic.Int64 // the offset after the highest seen
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
	if uint64(partition) >= uint64(len(p.slots)) || !p.slots[partition].tracked {
		p.other.messages.Add(1)
		p.other.bytes.Add(int64(valueBytes))
		return p.finished.Load()
	}
	s := &p.slots[partition]
	s.messages.Add(1)
	s.bytes.Add(int64(valueBytes))
	for {
		cur := s.next.Load()
		if offset+1 <= cur {
			break
		}
		if s.next.CompareAndSwap(cur, offset+1) {
			if cur < s.end && offset+1 >= s.end && p.remaining.Add(-1) == 0 {
				p.finish()
			}
			break
		}
	}
	return p.finished.Load()
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
