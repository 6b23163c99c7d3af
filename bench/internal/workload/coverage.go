package workload

import (
	"sync"
	"time"
)

// Coverage measures how long partitions go without an owner while a group rebalances: members report what they
// gain and give up (their assignment callbacks), and once every partition has had an owner, each stretch of time
// during which some partition has none adds to Unowned. Safe for concurrent use.
type Coverage struct {
	mu         sync.Mutex
	partitions int
	owners     map[int32]int // partition -> members claiming it
	full       bool          // every partition has had an owner
	gapStart   time.Time     // when the current gap began; zero when none is open
	unowned    time.Duration
	gained     map[int]bool // members that have owned something
}

// NewCoverage tracks partitions partitions.
func NewCoverage(partitions int) *Coverage {
	return &Coverage{partitions: partitions, owners: map[int32]int{}, gained: map[int]bool{}}
}

// Gain records member taking parts.
func (c *Coverage) Gain(member int, parts []int32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gained[member] = c.gained[member] || len(parts) > 0
	for _, p := range parts {
		c.owners[p]++
	}
	c.checkLocked()
}

// Lose records member giving parts up.
func (c *Coverage) Lose(member int, parts []int32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range parts {
		if c.owners[p] > 0 {
			c.owners[p]--
		}
	}
	c.checkLocked()
}

func (c *Coverage) checkLocked() {
	covered := 0
	for _, n := range c.owners {
		if n > 0 {
			covered++
		}
	}
	whole := covered == c.partitions
	switch {
	case whole && !c.full:
		c.full = true
	case whole && !c.gapStart.IsZero():
		c.unowned += time.Since(c.gapStart)
		c.gapStart = time.Time{}
	case !whole && c.full && c.gapStart.IsZero():
		c.gapStart = time.Now()
	}
}

// Unowned is the time some partition had no owner since the group first owned them all, a gap still open
// included.
func (c *Coverage) Unowned() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	d := c.unowned
	if !c.gapStart.IsZero() {
		d += time.Since(c.gapStart)
	}
	return d
}

// Settled reports whether member has owned partitions and every partition has an owner now.
func (c *Coverage) Settled(member int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gained[member] && c.full && c.gapStart.IsZero()
}
