package kafka

import "math"

// byteBound is a consumer's state for ConsumerConfig.QueuedMaxBytes, the
// bound on bytes fetched ahead across its partitions. SimpleConsumer.mu
// guards it.
type byteBound struct {
	held int // every partition's queuedBytes plus pendingBytes
	// paused is the part of held that paused partitions hold: it does not
	// count against the bound, or pausing partitions with much queued
	// could stop the others; a paused partition fetches nothing more.
	paused   int
	reserved int          // the MaxBytes of the Fetch requests in flight
	waiting  []*fetchLoop // loops that found too little room, kicked once there is
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
	used := c.bytes.held - c.bytes.paused + c.bytes.reserved
	room = max(bound-used, 0)
	return room, used == 0 || 4*room >= bound
}

// waitRoomLocked has l kicked once fetchRoomLocked allows a fetch.
func (c *SimpleConsumer) waitRoomLocked(l *fetchLoop) {
	if !l.waitingRoom {
		l.waitingRoom = true
		c.bytes.waiting = append(c.bytes.waiting, l)
	}
}

// roomFreedLocked returns the loops to kick now that bytes were freed, if
// enough were.
func (c *SimpleConsumer) roomFreedLocked() []*fetchLoop {
	if len(c.bytes.waiting) == 0 {
		return nil
	}
	if _, ok := c.fetchRoomLocked(); !ok {
		return nil
	}
	kick := c.bytes.waiting
	c.bytes.waiting = nil
	for _, l := range kick {
		l.waitingRoom = false
	}
	return kick
}

// unreserveLocked returns what loop l reserved for its Fetch in flight.
func (c *SimpleConsumer) unreserveLocked(l *fetchLoop) {
	c.bytes.reserved -= l.reserved
	l.reserved = 0
}

func kickAll(loops []*fetchLoop) {
	for _, l := range loops {
		l.kick()
	}
}
