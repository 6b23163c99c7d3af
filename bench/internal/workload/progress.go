package workload

import (
	"sync"
	"sync/atomic"
)

// Progress tells when consumers have read every partition to its end. Counting messages would not do: a group
// rebalance redelivers some, and a count would then finish early. Safe for concurrent use.
type Progress struct {
	ends      map[int32]int64
	next      map[int32]*atomic.Int64 // the offset after the highest seen
	remaining atomic.Int64            // partitions not yet at their end
	messages  atomic.Int64
	bytes     atomic.Int64
	done      chan struct{}
	once      sync.Once
}

// NewProgress tracks the given partition end offsets. Partitions that are already empty count as done.
func NewProgress(ends map[int32]int64) *Progress {
	p := &Progress{ends: ends, next: map[int32]*atomic.Int64{}, done: make(chan struct{})}
	for id, e := range ends {
		p.next[id] = new(atomic.Int64)
		if e > 0 {
			p.remaining.Add(1)
		}
	}
	if p.remaining.Load() == 0 {
		p.once.Do(func() { close(p.done) })
	}
	return p
}

// Seen records one delivered message. It reports whether every partition has now reached its end.
func (p *Progress) Seen(partition int32, offset int64, valueBytes int) bool {
	p.messages.Add(1)
	p.bytes.Add(int64(valueBytes))
	n, ok := p.next[partition]
	if !ok {
		return p.Done()
	}
	end := p.ends[partition]
	for {
		cur := n.Load()
		if offset+1 <= cur {
			break
		}
		if n.CompareAndSwap(cur, offset+1) {
			if cur < end && offset+1 >= end && p.remaining.Add(-1) == 0 {
				p.once.Do(func() { close(p.done) })
			}
			break
		}
	}
	return p.Done()
}

// Done reports whether every partition has reached its end.
func (p *Progress) Done() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Wait returns a channel closed when every partition has reached its end.
func (p *Progress) Wait() <-chan struct{} { return p.done }

// Messages and Bytes are the totals delivered so far, redeliveries included.
func (p *Progress) Messages() int64 { return p.messages.Load() }

// Bytes is the value bytes delivered so far.
func (p *Progress) Bytes() int64 { return p.bytes.Load() }
