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

	queue       entryRing // fetched and decoded, not yet delivered
	queuedBytes int       // keys and values of the queued messages
	inReady     bool      // listed in SimpleConsumer.ready

	// A fetch loop owns the partition while it has a fetch for it in flight
	// or results for it waiting to be decoded; only the owner may fetch it
	// then, which keeps deliveries in offset order when the leader moves.
	owner     *fetchLoop
	inflight  bool
	undecoded int // results scanned but not yet decoded
	// Scanned results not yet decoded count against the queue limits too.
	pendingMsgs  int
	pendingBytes int

	maxBytes  int   // this partition's fetch size; grows for an oversized batch
	first     bool  // put first in the next request, where brokers return a whole batch however large
	stalled   bool  // reported an error it cannot get past; fetched again after a reset
	committed int64 // the position last committed, -1 when none
	gapLogged bool  // warned once about an unexplained gap in offsets
}

func newOwnedPartition(p *Partition, maxBytes int) *ownedPartition {
	return &ownedPartition{id: p.ID(), p: p, position: -1, fetchAt: -1, maxBytes: maxBytes, committed: -1}
}

// entry is one item of a partition's queue: a message, or an error to
// report in its place in the stream.
type entry struct {
	msg *Message
	err error
}

// entryRing is a FIFO of entries that reuses its buffer, whose length is
// always a power of two.
type entryRing struct {
	buf  []entry
	head int
	n    int
}

func (r *entryRing) len() int { return r.n }

func (r *entryRing) push(e entry) {
	if r.n == len(r.buf) {
		r.grow(r.n + 1)
	}
	r.buf[(r.head+r.n)&(len(r.buf)-1)] = e
	r.n++
}

// pushMessages appends a pointer to each of msgs.
func (r *entryRing) pushMessages(msgs []Message) {
	if r.n+len(msgs) > len(r.buf) {
		r.grow(r.n + len(msgs))
	}
	mask := len(r.buf) - 1
	for i := range msgs {
		r.buf[(r.head+r.n)&mask] = entry{msg: &msgs[i]}
		r.n++
	}
}

func (r *entryRing) grow(need int) {
	size := max(2*len(r.buf), 64)
	for size < need {
		size *= 2
	}
	buf := make([]entry, size)
	for i := 0; i < r.n; i++ {
		buf[i] = r.buf[(r.head+i)&(len(r.buf)-1)]
	}
	r.buf, r.head = buf, 0
}

func (r *entryRing) pop() entry {
	e := r.buf[r.head]
	r.buf[r.head] = entry{} // let the message's memory go once delivered
	r.head = (r.head + 1) & (len(r.buf) - 1)
	r.n--
	return e
}

// clear drops every entry. A large buffer is released rather than kept.
func (r *entryRing) clear() {
	if len(r.buf) > 4096 {
		*r = entryRing{}
		return
	}
	clear(r.buf)
	r.head, r.n = 0, 0
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
