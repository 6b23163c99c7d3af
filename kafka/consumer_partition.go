package kafka

// ownedPartition is a consumer's state for one partition. id and p are
// fixed; every other field is guarded by SimpleConsumer.mu.
//
// Offsets: position is the offset of the next message Consume delivers;
// fetchAt is the offset the next fetch asks for, ahead of position by what
// is queued or still being decoded. HeldOffsets reports position-1 and
// commits store position, Kafka's "next offset to consume".
type ownedPartition struct {
	id int32
	p  *Partition

	position int64 // -1 until the consumer starts the partition
	fetchAt  int64
	// epoch changes whenever fetchAt moves other than by a fetch (a reset,
	// a skipped corrupt batch). Fetch results carry the epoch they were
	// requested in and are dropped when it no longer matches.
	epoch uint64

	queue       msgQueue // fetched and decoded, not yet delivered
	queuedBytes int      // keys and values of the queued messages
	inReady     bool     // listed in SimpleConsumer.ready

	// A fetch loop owns the partition while it has a fetch for it in flight
	// or results for it waiting to be decoded; only the owner may fetch it
	// then, which keeps deliveries in offset order when the leader moves.
	owner     *fetchLoop
	inflight  bool
	undecoded int // results scanned but not yet decoded
	// Scanned results not yet decoded count against the queue limits too.
	pendingMsgs  int
	pendingBytes int

	maxBytes int // this partition's fetch size; grows for an oversized batch
	// recordBytes is the wire size per record of the last fetch (0 before
	// one): fetchSizeLocked sizes requests from it.
	recordBytes int
	// batchBytes is the size of the largest batch the last fetch brought,
	// or of the one it cut short when that is larger: fetchSizeLocked asks
	// for whole batches of it, since a share smaller than the next batch
	// brings nothing (but for the first partition of a request) and one
	// ending inside a batch brings bytes that are dropped.
	batchBytes int
	first      bool  // put first in the next request, where brokers return a whole batch however large
	stalled    bool  // reported an error it cannot get past; fetched again after a reset
	paused     bool  // by Pause: neither fetched nor delivered until Resume
	committed  int64 // the position last committed, -1 when none
	gapLogged  bool  // warned once about an unexplained gap in offsets
	// highWatermark is the partition's end in the latest Fetch answer,
	// -1 before one; Lag measures from it.
	highWatermark int64
}

// behindLocked reports whether the broker may have records for op past
// its fetch offset: its end is unknown or beyond it.
func (op *ownedPartition) behindLocked() bool {
	return op.highWatermark < 0 || op.highWatermark > op.fetchAt
}

// catchUpLocked moves position past what fetches skipped (transaction
// markers, aborted records) once nothing fetched is left to deliver, as
// Java's consumer does: after a transaction's last record the position, the
// offset committed from it and the lag it measures are past the marker.
func (op *ownedPartition) catchUpLocked() {
	if op.position >= 0 && op.fetchAt > op.position && op.queue.len() == 0 && op.undecoded == 0 && !op.stalled {
		op.position = op.fetchAt
	}
}

func newOwnedPartition(p *Partition, maxBytes int) *ownedPartition {
	return &ownedPartition{id: p.ID(), p: p, position: -1, fetchAt: -1, maxBytes: maxBytes, committed: -1, highWatermark: -1}
}

// entry is one item of a partition's queue: a message, or an error to
// report in its place in the stream.
type entry struct {
	msg *Message
	err error
}

// msgQueue is a partition's FIFO of entries. It holds the message slices
// that decoding made, so queueing a response's messages costs one slot,
// not one per message. The ring's length is always a power of two.
type msgQueue struct {
	ring []queueChunk
	head int
	used int // chunks in the ring
	n    int // entries queued
}

// queueChunk is a run of decoded messages, or one error.
type queueChunk struct {
	msgs []Message
	next int // the first not yet taken
	err  error
}

func (q *msgQueue) len() int { return q.n }

func (q *msgQueue) pushChunk(ch queueChunk) {
	if q.used == len(q.ring) {
		ring := make([]queueChunk, max(2*len(q.ring), 4))
		for i := 0; i < q.used; i++ {
			ring[i] = q.ring[(q.head+i)&(len(q.ring)-1)]
		}
		q.ring, q.head = ring, 0
	}
	q.ring[(q.head+q.used)&(len(q.ring)-1)] = ch
	q.used++
}

// pushMessages queues msgs, which the queue keeps (the slice is not copied).
func (q *msgQueue) pushMessages(msgs []Message) {
	if len(msgs) > 0 {
		q.pushChunk(queueChunk{msgs: msgs})
		q.n += len(msgs)
	}
}

// pushError queues an error after what is queued.
func (q *msgQueue) pushError(err error) {
	q.pushChunk(queueChunk{err: err})
	q.n++
}

// pop takes the oldest entry; the queue must not be empty.
func (q *msgQueue) pop() entry {
	ch := &q.ring[q.head]
	var e entry
	if ch.err != nil {
		e.err = ch.err
	} else {
		e.msg = &ch.msgs[ch.next]
		ch.next++
	}
	if ch.err != nil || ch.next == len(ch.msgs) {
		*ch = queueChunk{} // the queue lets go of the slice; delivered messages keep it
		q.head = (q.head + 1) & (len(q.ring) - 1)
		q.used--
	}
	q.n--
	return e
}

// clear drops every entry.
func (q *msgQueue) clear() {
	clear(q.ring)
	q.head, q.used, q.n = 0, 0, 0
}

// partRing is the round-robin list of partitions with queued entries; its
// buffer's length is a power of two.
type partRing struct {
	buf  []*ownedPartition
	head int
	n    int
}

func (r *partRing) push(op *ownedPartition) {
	if r.n == len(r.buf) {
		buf := make([]*ownedPartition, max(2*len(r.buf), 8))
		for i := 0; i < r.n; i++ {
			buf[i] = r.buf[(r.head+i)&(len(r.buf)-1)]
		}
		r.buf, r.head = buf, 0
	}
	r.buf[(r.head+r.n)&(len(r.buf)-1)] = op
	r.n++
}

// peek returns the head without taking it.
func (r *partRing) peek() (*ownedPartition, bool) {
	if r.n == 0 {
		return nil, false
	}
	return r.buf[r.head], true
}

func (r *partRing) pop() (*ownedPartition, bool) {
	if r.n == 0 {
		return nil, false
	}
	op := r.buf[r.head]
	r.buf[r.head] = nil
	r.head = (r.head + 1) & (len(r.buf) - 1)
	r.n--
	return op, true
}

func messageBytes(m *Message) int { return len(m.Key) + len(m.Value) }
