package workload

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Owners tracks which group member owns which partitions, as the clients' assignment callbacks report it, and
// notes the moment every member owns at least one partition and every partition has exactly one owner. Safe for
// concurrent use.
type Owners struct {
	mu         sync.Mutex
	partitions int
	members    []map[int32]bool
	start      time.Time
	elapsed    time.Duration
	done       chan struct{}
}

// NewOwners starts the clock for a group of members over partitions partitions.
func NewOwners(members, partitions int) *Owners {
	o := &Owners{partitions: partitions, members: make([]map[int32]bool, members), start: time.Now(), done: make(chan struct{})}
	for i := range o.members {
		o.members[i] = map[int32]bool{}
	}
	return o
}

// Set replaces member's assignment.
func (o *Owners) Set(member int, parts []int32) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.members[member] = map[int32]bool{}
	for _, p := range parts {
		o.members[member][p] = true
	}
	o.checkLocked()
}

// Add adds partitions to member's assignment (incremental rebalancing).
func (o *Owners) Add(member int, parts []int32) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, p := range parts {
		o.members[member][p] = true
	}
	o.checkLocked()
}

// Remove takes partitions from member's assignment; nil removes them all.
func (o *Owners) Remove(member int, parts []int32) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if parts == nil {
		o.members[member] = map[int32]bool{}
	}
	for _, p := range parts {
		delete(o.members[member], p)
	}
	// Cooperative rebalancing ends an overlap by revoking: that can complete the group.
	o.checkLocked()
}

func (o *Owners) checkLocked() {
	if o.elapsed > 0 {
		return
	}
	seen := map[int32]bool{}
	for _, m := range o.members {
		if len(m) == 0 {
			return
		}
		for p := range m {
			if seen[p] {
				return
			}
			seen[p] = true
		}
	}
	if len(seen) != o.partitions {
		return
	}
	o.elapsed = max(time.Since(o.start), time.Nanosecond)
	close(o.done)
}

// Complete is closed once the group owned every partition, each member at least one.
func (o *Owners) Complete() <-chan struct{} { return o.done }

// Elapsed is the time from NewOwners until the group was first complete; zero if it has not been.
func (o *Owners) Elapsed() time.Duration {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.elapsed
}

// String lists each member's partitions, for error messages: "[0 1] [2 3] []".
func (o *Owners) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var parts []string
	for _, m := range o.members {
		var ids []int32
		for p := range m {
			ids = append(ids, p)
		}
		slices.Sort(ids)
		parts = append(parts, fmt.Sprint(ids))
	}
	return strings.Join(parts, " ")
}
