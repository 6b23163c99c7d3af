package kafka

import (
	"math"
	"slices"
	"sync"
	"sync/atomic"
)

// byteBound is a consumer's state for ConsumerConfig.QueuedMaxBytes, the
// bound on bytes fetched ahead across its partitions. SimpleConsumer.mu
// guards it.
type byteBound struct {
	held int // every partition's queuedBytes plus pendingBytes
	// paused is the part of held that paused partitions hold: it does not
	// count against the bound, or pausing partitions with much queued
	// could stop the others; a paused partition fetches nothing more.
	paused   int
	reserved int      // the MaxBytes of the Fetch requests in flight
	waiting  waitList // loops that found too little room, kicked once there is

	// shared, when set, is the bound this consumer shares with others (a
	// balanced consumer's inner consumers, one per topic): what all of
	// them hold counts, plus this consumer's own Fetches in flight, and
	// the shared waiting list replaces the one above. Others' Fetches do
	// not count: a topic at its end keeps a long poll in flight, and its
	// reservation would otherwise hold back a topic with records to fetch
	// for as long as the poll lasts, every time. Instead each Fetch asks
	// for no more than its share of the room, the room over the number of
	// consumers sharing it, so that all of them fetching at once still fit.
	// This consumer's part of shared.held is heldLocked().
	shared *sharedBytes
}

// sharedBytes is one QueuedMaxBytes bound over several consumers. held is
// the sum of their held-paused, kept by each under its own lock and added
// here atomically, so that no consumer reads another's state; mu guards
// the waiting loops and their waitingRoom flags. mu is taken with a
// consumer's mu held, never the other way round.
type sharedBytes struct {
	held     atomic.Int64
	members  atomic.Int32 // consumers sharing the bound
	nwaiting atomic.Int32 // len(waiting), read without mu
	mu       sync.Mutex
	waiting  waitList
}

// waitList is the loops waiting for room. Its owner's lock guards it and
// their waitingRoom flags.
type waitList []*fetchLoop

// add lists l, once.
func (w *waitList) add(l *fetchLoop) {
	if !l.waitingRoom {
		l.waitingRoom = true
		*w = append(*w, l)
	}
}

// take empties the list and returns the loops it held, to be kicked.
func (w *waitList) take() []*fetchLoop {
	kick := *w
	*w = nil
	for _, l := range kick {
		l.waitingRoom = false
	}
	return kick
}

// drop unlists c's loops.
func (w *waitList) drop(c *SimpleConsumer) {
	*w = slices.DeleteFunc(*w, func(l *fetchLoop) bool {
		if l.c == c {
			l.waitingRoom = false
			return true
		}
		return false
	})
}

// addQueuedLocked and addPendingLocked change op's queued (decoded) or
// pending (scanned, not yet decoded) bytes by n, and what the consumer
// holds with them: the only ways those counts change.
func (c *SimpleConsumer) addQueuedLocked(op *ownedPartition, n int) {
	op.queuedBytes += n
	c.addHeldLocked(op, n)
}

func (c *SimpleConsumer) addPendingLocked(op *ownedPartition, n int) {
	op.pendingBytes += n
	c.addHeldLocked(op, n)
}

func (c *SimpleConsumer) addHeldLocked(op *ownedPartition, n int) {
	c.bytes.held += n
	if op.paused {
		c.bytes.paused += n
	} else {
		c.shareHeldLocked(n)
	}
}

// pausedLocked moves what op holds in or out of the paused count as op is
// paused (on) or resumed.
func (c *SimpleConsumer) pausedLocked(op *ownedPartition, on bool) {
	n := op.queuedBytes + op.pendingBytes
	if !on {
		n = -n
	}
	c.bytes.paused += n
	c.shareHeldLocked(-n)
}

// reserveLocked counts loop l's Fetch in flight, which may bring n bytes.
func (c *SimpleConsumer) reserveLocked(l *fetchLoop, n int) {
	l.reserved = n
	c.bytes.reserved += n
}

// unreserveLocked returns what loop l reserved for its Fetch in flight.
func (c *SimpleConsumer) unreserveLocked(l *fetchLoop) {
	c.bytes.reserved -= l.reserved
	l.reserved = 0
}

// heldLocked is what this consumer holds that counts against the bound.
func (c *SimpleConsumer) heldLocked() int {
	return c.bytes.held - c.bytes.paused
}

// shareHeldLocked adds a change of heldLocked() to the shared bound's sum.
func (c *SimpleConsumer) shareHeldLocked(n int) {
	if s := c.bytes.shared; s != nil && n != 0 {
		s.held.Add(int64(n))
	}
}

// fetchRoomLocked returns how many bytes the next Fetch may ask for, and
// whether it may be sent now: while less than a quarter of the bound is
// free, a fetch would bring little for its cost, so it waits for the
// application to make room (unless nothing is held at all: a single batch
// larger than the bound must still come).
func (c *SimpleConsumer) fetchRoomLocked() (room int, ok bool) {
	bound := c.cfg.QueuedMaxBytes
	if bound < 0 {
		return math.MaxInt32, true
	}
	room, ok = roomIn(bound, c.usedLocked())
	if s := c.bytes.shared; s != nil {
		room /= max(int(s.members.Load()), 1)
	}
	return room, ok
}

// usedLocked is what counts against the bound for this consumer's next
// Fetch: what is held, by this consumer or by all sharing the bound, plus
// this consumer's Fetches in flight.
func (c *SimpleConsumer) usedLocked() int {
	if s := c.bytes.shared; s != nil {
		return int(s.held.Load()) + c.bytes.reserved
	}
	return c.heldLocked() + c.bytes.reserved
}

func roomIn(bound, used int) (room int, ok bool) {
	room = max(bound-used, 0)
	return room, used <= 0 || 4*room >= bound
}

// waitRoomLocked has l kicked once fetchRoomLocked allows a fetch.
func (c *SimpleConsumer) waitRoomLocked(l *fetchLoop) {
	s := c.bytes.shared
	if s == nil {
		c.bytes.waiting.add(l)
		return
	}
	s.mu.Lock()
	s.waiting.add(l)
	s.nwaiting.Store(int32(len(s.waiting)))
	// Another consumer may have freed room after fetchRoomLocked looked
	// and before nwaiting said a loop waits: look again, or l could wait
	// for a kick that never comes.
	var kick []*fetchLoop
	if _, ok := c.fetchRoomLocked(); ok {
		kick = s.takeWaitingLocked()
	}
	s.mu.Unlock()
	kickAll(kick)
}

// roomFreedLocked returns the loops to kick now that bytes were freed, if
// enough were.
func (c *SimpleConsumer) roomFreedLocked() []*fetchLoop {
	if s := c.bytes.shared; s != nil {
		// What the consumers hold decides: this consumer's Fetches in
		// flight are not the waiter's, and a kicked loop that still finds
		// too little room (its own consumer's Fetches) waits again.
		if s.nwaiting.Load() == 0 {
			return nil
		}
		if _, ok := roomIn(c.cfg.QueuedMaxBytes, int(s.held.Load())); !ok {
			return nil
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.takeWaitingLocked()
	}
	if len(c.bytes.waiting) == 0 {
		return nil
	}
	if _, ok := c.fetchRoomLocked(); !ok {
		return nil
	}
	return c.bytes.waiting.take()
}

// takeWaitingLocked empties the waiting list. Called with s.mu held.
func (s *sharedBytes) takeWaitingLocked() []*fetchLoop {
	s.nwaiting.Store(0)
	return s.waiting.take()
}

// leaveSharedLocked takes a stopping consumer out of its shared bound: what
// it holds stops counting (its queued messages go with it), its loops stop
// waiting, and the loops of the others that the room freed are returned,
// to be kicked.
func (c *SimpleConsumer) leaveSharedLocked() []*fetchLoop {
	s := c.bytes.shared
	if s == nil {
		return nil
	}
	c.shareHeldLocked(-c.heldLocked())
	s.members.Add(-1)
	c.bytes.shared = nil
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waiting.drop(c)
	s.nwaiting.Store(int32(len(s.waiting)))
	if _, ok := roomIn(c.cfg.QueuedMaxBytes, int(s.held.Load())); !ok {
		return nil
	}
	return s.takeWaitingLocked()
}

// shareBytes makes c one of the consumers sharing s. Called before c starts.
func (c *SimpleConsumer) shareBytes(s *sharedBytes) {
	c.bytes.shared = s
	s.members.Add(1)
	c.shareHeldLocked(c.heldLocked())
}

func kickAll(loops []*fetchLoop) {
	for _, l := range loops {
		l.kick()
	}
}
