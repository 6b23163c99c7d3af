package kafka

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/gregorkafka/gregor/conn"
	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/protocol"
)

// A failed fetch is retried after a pause that starts at fetchRetryMin and
// doubles up to fetchRetryMax while failures continue.
const (
	fetchRetryMin = 100 * time.Millisecond
	fetchRetryMax = time.Second
)

// fetchMaxBytes is a Fetch's MaxBytes: what its partitions may bring
// (total), within FetchMaxBytes and the room QueuedMaxBytes leaves,
// and within a quarter of QueuedMaxBytes. A response is one allocation
// that lives until the last of its messages is consumed, so when the
// application drains partitions one after another, responses the size of
// the whole bound keep several bounds of memory alive: reading 1,000
// partitions, 50 MB Fetches held 297 MB resident and spent a fifth more CPU
// (on page faults) than 16 MiB ones.
//
// A partition marked first may ask for more (biggest, its whole share),
// but only while nothing counts against the bound, as fetchRoomLocked lets
// a consumer holding nothing fetch. Partitions a full response left out
// are marked first too, and a Fetch that grew to their share whenever one
// led it could let a balanced consumer of three topics hold three times its
// bound. Brokers since Fetch v3 return the first batch of the first
// partition with records whatever the limits, so a batch larger than the
// room still comes; only older ones need the larger MaxBytes.
func (c *SimpleConsumer) fetchMaxBytes(total, room, biggest int) int {
	n := min(total, c.cfg.FetchMaxBytes, room)
	bound := c.cfg.QueuedMaxBytes
	if bound >= 0 {
		n = min(n, max(bound/4, 1<<20))
	}
	if biggest > n && (bound < 0 || c.usedLocked() <= 0) {
		return biggest
	}
	return n
}

// fetchLoop fetches a consumer's partitions led by one broker. It is two
// on-demand tasks (at most one run of each at a time; between runs nothing
// waits, so a Fetch the broker holds costs no goroutine) joined by a
// one-slot queue:
//
//   - step, kicked by the Fetch response's arrival (a future's OnDone
//     hook), a consumer freeing room, the supervisor, the end of a pause or
//     the decoder taking a result, reads an arrived response's batch
//     headers only (protocol.ScanRecords) to learn where each partition's next
//     fetch starts, hands the records to the decoder, and sends the next
//     Fetch at once, for every partition of the broker that has room;
//   - decode decodes the records of the previous response into messages
//     and queues them for Consume, while the next Fetch is on the wire.
//     The records' checksums were mostly verified before that, as the
//     response arrived (fetchCheck), while its bytes were in the CPU's
//     caches; the decoder checks the rest.
//
// So a response is decoded while the broker prepares the next one, and the
// application drains one while the next is fetched.
type fetchLoop struct {
	c       *SimpleConsumer
	broker  *Broker
	steps   *onDemand
	decoder *onDemand
	results *handler.Queue[*fetchResult]

	// Used by step only.
	rotate  int // first partition considered by the next build
	backoff time.Duration
	sent    []sentPartition // the partitions of the request in flight
	firsts  []sentPartition // build's scratch: the partitions to put first
	index   map[int32]int   // partition id -> position in sent
	f       *conn.ResponseFuture
	check   *fetchCheck  // f's
	pending *fetchResult // taken from a response, waiting for room in results
	resume  time.Time    // paused after a failure until then
	timer   handler.Timer
	ended   bool
	// reserved is the MaxBytes of the Fetch in flight, counted in the
	// consumer's byteBound until its response is taken (guarded by c.mu);
	// waitingRoom marks the loop listed in a waitList, guarded with it
	// (c.mu, or a shared bound's mu).
	reserved    int
	waitingRoom bool
	sess        fetchSession // the broker's incremental fetch session

	dec fetchDecoder // used by decode only
}

// sentPartition is a partition of a Fetch request as it was when sent.
type sentPartition struct {
	op     *ownedPartition
	epoch  uint64
	offset int64
	size   int // PartitionMaxBytes
}

// fetchResult is what step hands to decode: each partition's records
// (or error) from one response, in request order.
//
// frame is the answered future whose response frame the items' records
// alias. The frame goes back to the handler's pool (see Message for the
// ownership rule) once deliver has decoded every item and no message it
// queued aliases the frame; otherwise the messages keep it, and the
// garbage collector frees it when the last of them is gone.
type fetchResult struct {
	items []decodeItem
	frame *conn.ResponseFuture
	check *fetchCheck // the batches verified as the frame arrived
}

type decodeItem struct {
	op    *ownedPartition
	epoch uint64
	in    decodeIn
	err   error // reported in the partition's place instead of records
	// What the item added to the partition's pending counts.
	bytes, msgs int
	hw          int64 // the partition's high watermark in the response
}

// startLoopLocked starts a fetch loop for broker b. c.mu is held.
func (c *SimpleConsumer) startLoopLocked(b *Broker) {
	l := &fetchLoop{
		c:       c,
		broker:  b,
		results: handler.NewQueue[*fetchResult](c.h, 1),
		index:   map[int32]int{},
	}
	l.steps = newOnDemand(c.tasks.Go, "kafka-fetch", l.step)
	l.decoder = newOnDemand(c.tasks.Go, "kafka-fetch-decode", l.decode)
	c.loops[b.ID()] = l
	l.kick()
	c.log.Debug("kafka: fetch loop started", "broker", b.ID())
}

// kick has the loop look at what changed. It never blocks.
func (l *fetchLoop) kick() { l.steps.kick() }

// step does what can be done now: take an arrived response, hand its
// records to the decoder, send the next Fetch, until nothing is left to
// do. The next Fetch waits while the decoder has a result queued and one
// in hand.
func (l *fetchLoop) step() {
	ctx := l.c.runCtx
	for {
		if ctx.Err() != nil {
			l.end()
			return
		}
		l.handOver()
		if l.ended {
			return // what was taken still goes to the decoder
		}
		progress := false
		if l.f != nil && l.f.Done() {
			f := l.f
			l.f = nil
			l.answer(ctx, f)
			l.handOver()
			progress = true
		}
		if l.f == nil && l.pending == nil && !l.ended && !l.paused() {
			req, done := l.build()
			switch {
			case done:
				l.end()
			case req != nil:
				l.send(ctx, req)
				progress = true
			}
		}
		if !progress {
			return
		}
	}
}

// handOver queues the records taken for the decoder, if it has room.
func (l *fetchLoop) handOver() {
	if l.pending == nil || l.results.TryPut(l.pending) != nil {
		return
	}
	l.pending = nil
	l.decoder.kick()
}

// decode delivers the results queued, then lets step queue the next.
func (l *fetchLoop) decode() {
	for l.c.runCtx.Err() == nil {
		res, err := l.results.TryGet()
		if err != nil {
			return
		}
		l.c.deliver(l, &l.dec, res)
		res.check.put()
		l.kick()
	}
}

// end stops the loop: no more fetches; the partitions of a Fetch in
// flight are released.
func (l *fetchLoop) end() {
	l.ended = true
	if l.timer != nil {
		l.timer.Stop()
		l.timer = nil
	}
	if l.f != nil {
		l.f = nil
		l.release()
	}
	l.closeSession()
}

// closeSession frees the loop's fetch session on the broker (a Fetch with
// epoch -1, answered at once, whose answer nobody reads) when the fetch
// connection is up; otherwise the broker evicts the session in time.
func (l *fetchLoop) closeSession() {
	b := l.broker
	b.mu.Lock()
	c := b.conns[connFetch]
	b.mu.Unlock()
	if c == nil || !c.Connected() || c.Versions() != l.sess.versions {
		return
	}
	req := l.sess.closeRequest()
	if req == nil {
		return
	}
	// The run context has ended by now; the request's own timeout bounds it.
	if _, err := c.RequestWithTimeout(context.WithoutCancel(l.c.runCtx), req, b.cl.cfg.SocketTimeout); err != nil {
		l.c.log.Debug("kafka: closing the fetch session failed", "broker", b.ID(), "error", err)
	}
}

// send sends req on the broker's fetch connection; the response kicks the
// loop. The response timeout is Config.SocketTimeout plus the request's
// MaxWaitMs, since the broker holds the request that long when no data is
// there.
func (l *fetchLoop) send(ctx context.Context, req *protocol.FetchRequest) {
	b := l.broker
	timeout := b.cl.cfg.SocketTimeout + time.Duration(max(req.MaxWaitMs, 0))*time.Millisecond
	c, err := b.conn(ctx, connFetch)
	if err == nil {
		l.sess.prepare(req, c.Versions())
		l.check = newFetchCheck()
		l.f, err = c.RequestWatched(ctx, req, timeout, l.check)
	}
	if err != nil {
		l.f = nil
		l.failed(ctx, fmt.Errorf("kafka: Fetch request to %v: %w", b, err))
		return
	}
	l.f.OnDone(func(*conn.ResponseFuture) { l.kick() })
}

// answer handles the Fetch response (or error) f brought.
func (l *fetchLoop) answer(ctx context.Context, f *conn.ResponseFuture) {
	c := l.c
	m, err := f.Get(ctx) // done: decodes without waiting
	resp, ok := m.(*protocol.FetchResponse)
	if err == nil && !ok {
		err = fmt.Errorf("unexpected response type %T", m)
	}
	if err != nil {
		l.failed(ctx, fmt.Errorf("kafka: Fetch request to %v: %w", l.broker, err))
		return
	}
	res, o := l.apply(resp)
	res.frame = f
	if len(res.items) > 0 {
		l.pending = res
	} else {
		f.RecycleFrame()
		res.check.put()
	}
	if len(o.outOfRange) > 0 {
		c.resetOutOfRange(ctx, o.outOfRange)
	}
	if o.stale {
		c.requestRefresh()
	}
	if o.failed {
		l.pause()
	} else {
		l.backoff = 0
	}
}

// apply moves the fetch session on by resp and takes its records.
func (l *fetchLoop) apply(resp *protocol.FetchResponse) (*fetchResult, takeOutcome) {
	l.sess.answeredResponse(resp)
	res, o := l.take(resp)
	if o.unexpected {
		// A partition not asked for: the broker's idea of the session
		// differs from ours; start over, as Java's consumer does.
		l.sess.failed()
	}
	return res, o
}

// failed handles a Fetch that failed as a whole.
func (l *fetchLoop) failed(ctx context.Context, err error) {
	c := l.c
	closed := errors.Is(err, ErrClosed) || authFailed(err)
	l.sess.failed()
	l.release()
	if closed {
		c.mu.Lock()
		c.failLocked(err)
		c.mu.Unlock()
	}
	if ctx.Err() != nil {
		l.end()
		return
	}
	if closed {
		c.avail.Set()
		l.end()
		return
	}
	c.log.Debug("kafka: fetch failed", "broker", l.broker.ID(), "error", err)
	c.requestRefresh()
	l.pause()
}

// release gives up the partitions of the request sent.
func (l *fetchLoop) release() {
	c := l.c
	c.mu.Lock()
	for _, s := range l.sent {
		s.op.inflight = false
		c.releaseLocked(s.op, l)
	}
	c.unreserveLocked(l)
	freed := c.roomFreedLocked()
	c.mu.Unlock()
	kickAll(freed)
}

// pause holds the next fetch back after a failure, longer each time.
func (l *fetchLoop) pause() {
	l.backoff = min(max(2*l.backoff, fetchRetryMin), fetchRetryMax)
	l.resume = l.c.h.Now().Add(l.backoff)
	if l.timer != nil {
		l.timer.Stop()
	}
	l.timer = l.c.h.AfterFunc(l.backoff, l.kick)
}

// paused reports whether a pause holds the next fetch back.
func (l *fetchLoop) paused() bool {
	return !l.resume.IsZero() && l.c.h.Now().Before(l.resume)
}

// build makes the next Fetch request, for the partitions this broker leads
// that may be fetched now, and marks them in flight. It returns a nil
// request when there is nothing to fetch, and done when the broker leads
// none of the consumer's partitions any more (the loop then ends; the
// supervisor starts a new one if that changes).
func (l *fetchLoop) build() (req *protocol.FetchRequest, done bool) {
	c := l.c
	reroute := false
	defer func() {
		if reroute {
			c.supervisor.kick()
		}
	}()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return nil, true
	}
	l.sent, l.firsts = l.sent[:0], l.firsts[:0]
	n := len(c.parts)
	start := l.rotate % n
	l.rotate = start + 1
	led := false
	// held: a partition with records left on the broker has no room for
	// them; ready: one with room has records to fetch, or may.
	held, ready := false, false
	room, roomOK := c.fetchRoomLocked()
	// The broker reads every partition a Fetch names, also those past the
	// point where the response is full: at 3,000 partitions that walk,
	// not the bytes, was most of its work. So a Fetch names partitions, in
	// rotation order, until what they are expected to bring fills it; the
	// next one starts where it stopped. Partitions at their end or whose
	// end is unknown are expected to bring nothing: the first Fetch names
	// every partition, and so does one of a consumer that has caught up.
	// The first partition with room is named whatever the budget: with no
	// room at all (others sharing the bound hold it) the loop must still
	// get as far as waiting for room, which is what wakes it.
	budget, expected, cut := c.fetchMaxBytes(math.MaxInt32, room, 0), 0, false
	for i := range n {
		op := c.parts[(start+i)%n]
		if op.position < 0 || op.stalled {
			continue
		}
		leader := op.p.Leader()
		if leader != l.broker {
			if leader == nil || c.loops[leader.ID()] == nil {
				reroute = true
			}
			continue
		}
		led = true // a paused partition keeps its loop, which Resume wakes
		if op.paused || op.inflight || (op.owner != nil && op.owner != l) {
			continue
		}
		if !c.hasRoomLocked(op) {
			held = held || op.behindLocked()
			continue
		}
		ready = ready || op.first || op.behindLocked()
		if expected >= budget && len(l.sent)+len(l.firsts) > 0 {
			if !cut {
				cut, l.rotate = true, start+i
			}
			continue
		}
		size := c.fetchSizeLocked(op)
		expected += c.expectedBytesLocked(op, size)
		s := sentPartition{op: op, epoch: op.epoch, offset: op.fetchAt, size: size}
		if op.first {
			l.firsts = append(l.firsts, s)
		} else {
			l.sent = append(l.sent, s)
		}
	}
	if len(l.firsts) > 0 {
		// Brokers return a whole batch, however large, only for the first
		// partition of a request. Every partition a full response left out
		// is marked first, thousands of them on a large topic: splice them
		// in front once rather than shifting the request per partition.
		l.sent = slices.Insert(l.sent, 0, l.firsts...)
		clear(l.firsts) // drop the scratch's references to partitions
	}
	if !led {
		if c.loops[l.broker.ID()] == l {
			delete(c.loops, l.broker.ID())
		}
		c.log.Debug("kafka: fetch loop ended", "broker", l.broker.ID())
		return nil, true
	}
	if len(l.sent) == 0 || held && !ready {
		// Only partitions at their end have room: the broker would hold
		// their Fetch for FetchWaitMax, and partitions with records left
		// would wait behind it for as long once the application makes
		// room in them (then popLocked kicks the loop). Wait for that
		// instead.
		l.sent = l.sent[:0]
		return nil, false
	}
	if !roomOK {
		c.waitRoomLocked(l)
		l.sent = l.sent[:0]
		return nil, false
	}

	req = protocol.NewFetchRequest()
	req.MaxWaitMs = int32(c.cfg.FetchWaitMax / time.Millisecond)
	req.MinBytes = int32(c.cfg.FetchMinBytes)
	req.IsolationLevel = int8(c.cfg.IsolationLevel)
	parts := make([]protocol.FetchRequestPartition, len(l.sent))
	total, biggest := 0, 0
	for i, s := range l.sent {
		op := s.op
		op.inflight = true
		op.owner = l
		parts[i] = protocol.FetchRequestPartition{
			Partition:          op.id,
			CurrentLeaderEpoch: op.p.LeaderEpoch(),
			FetchOffset:        s.offset,
			LastFetchedEpoch:   -1,
			LogStartOffset:     -1,
			PartitionMaxBytes:  int32(s.size),
		}
		total += s.size
		if op.first {
			biggest = max(biggest, s.size)
		}
	}
	req.MaxBytes = int32(c.fetchMaxBytes(total, room, biggest))
	c.reserveLocked(l, int(req.MaxBytes))
	// Fetch v13+ names topics by id, older versions by name; the encoder
	// writes whichever the negotiated version has.
	req.Topics = []protocol.FetchRequestTopic{{Topic: c.topic.name, TopicID: c.topic.ID(), Partitions: parts}}
	return req, false
}

// takeOutcome is what take found that needs action outside the lock.
type takeOutcome struct {
	outOfRange []sentPartition
	stale      bool // refresh metadata
	unexpected bool // a partition the request did not name
	failed     bool // pause before the next fetch
}

// take applies a Fetch response to the partitions sent: it moves their
// fetch offsets past the complete batches received and collects the
// records (or errors) to decode, in request order.
func (l *fetchLoop) take(resp *protocol.FetchResponse) (*fetchResult, takeOutcome) {
	c := l.c
	var o takeOutcome
	res := &fetchResult{check: l.check}
	l.check = nil
	clear(l.index)
	for i, s := range l.sent {
		l.index[s.op.id] = i
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.unreserveLocked(l)
	if err := protocol.ErrorForCode(resp.ErrorCode); err != nil {
		c.log.Debug("kafka: fetch refused", "broker", l.broker.ID(), "error", err)
		switch {
		case isFetchSessionError(err):
			// The next request is a full one, sent at once, as Java's.
			o.stale = errors.Is(err, protocol.ErrFetchSessionTopicIDError)
		default:
			o.failed = true
		}
	} else {
		id := c.topic.ID()
		next := 0 // the place in the response of the topic's first partition, for res.check
		for ti := range resp.Responses {
			rt := &resp.Responses[ti]
			first := next
			next += len(rt.Partitions)
			if rt.Topic != c.topic.name && (rt.TopicID.IsZero() || rt.TopicID != id) {
				continue
			}
			for pi := range rt.Partitions {
				rp := &rt.Partitions[pi]
				i, ok := l.index[rp.PartitionIndex]
				if !ok {
					o.unexpected = true
					continue
				}
				delete(l.index, rp.PartitionIndex)
				l.takePartitionLocked(l.sent[i], rp, res.check.checked(first+pi), res, &o)
			}
		}
	}
	for _, i := range l.index { // not in the response
		op := l.sent[i].op
		op.inflight = false
		c.releaseLocked(op, l)
	}
	return res, o
}

// checked lists the partition's batches verified as the response arrived.
func (l *fetchLoop) takePartitionLocked(s sentPartition, rp *protocol.FetchResponsePartition, checked []protocol.CheckedBatch, res *fetchResult, o *takeOutcome) {
	c := l.c
	op := s.op
	op.inflight = false
	defer c.releaseLocked(op, l)
	if op.epoch != s.epoch {
		return // moved while the fetch was in flight
	}
	err := protocol.ErrorForCode(rp.ErrorCode)
	switch {
	case err == nil:
		op.highWatermark = rp.HighWatermark
		if c.cfg.IsolationLevel == ReadCommitted && rp.LastStableOffset >= 0 {
			// What such a consumer can reach, as Java measures its lag.
			op.highWatermark = rp.LastStableOffset
		}
		l.takeRecordsLocked(s, rp, checked, res)
	case errors.Is(err, protocol.ErrOffsetOutOfRange):
		o.outOfRange = append(o.outOfRange, s)
	case isStaleMetadata(err) || errors.Is(err, protocol.ErrUnknownTopicID) || errors.Is(err, protocol.ErrInconsistentTopicID):
		c.log.Debug("kafka: fetch partition failed, refreshing metadata", "broker", l.broker.ID(), "partition", op.id, "error", err)
		o.stale, o.failed = true, true
	case isRetriable(err):
		c.log.Debug("kafka: fetch partition failed, retrying", "broker", l.broker.ID(), "partition", op.id, "error", err)
		o.failed = true
	default:
		c.log.Warn("kafka: fetch partition failed; the partition stops until its offset is reset",
			"broker", l.broker.ID(), "partition", op.id, "offset", s.offset, "error", err)
		l.reportLocked(s, res, err)
	}
}

func (l *fetchLoop) takeRecordsLocked(s sentPartition, rp *protocol.FetchResponsePartition, checked []protocol.CheckedBatch, res *fetchResult) {
	c := l.c
	op := s.op
	sc := protocol.ScanRecords(rp.Records)
	switch {
	case sc.End > 0:
		op.fetchAt = max(op.fetchAt, sc.Next)
		op.maxBytes = c.cfg.FetchMessageMaxBytes
		op.first = false
		if sc.Count > 0 {
			op.recordBytes = (sc.End + sc.Count - 1) / sc.Count
			c.recordBytes = op.recordBytes
			op.batchBytes = sc.Largest
		}
		if sc.Cut <= c.cfg.FetchMessageMaxBytes {
			// The batch cut short is the next to come: ask for it whole.
			op.batchBytes = max(op.batchBytes, sc.Cut)
		}
		it := decodeItem{op: op, epoch: s.epoch, bytes: sc.End, msgs: sc.Count, hw: rp.HighWatermark, in: decodeIn{
			topic:         c.topic.name,
			partition:     op.id,
			records:       rp.Records[:sc.End],
			checked:       checked,
			fetchOffset:   s.offset,
			count:         sc.Count,
			maxCount:      c.cfg.QueuedMaxMessages,
			readCommitted: c.cfg.IsolationLevel == ReadCommitted,
			aborted:       rp.AbortedTransactions,
		}}
		op.undecoded++
		c.addPendingLocked(op, it.bytes)
		op.pendingMsgs += it.msgs
		res.items = append(res.items, it)
	case sc.Corrupt:
		l.reportLocked(s, res, fmt.Errorf("%w: bad entry header at offset %d", protocol.ErrCorruptMessage, s.offset))
	case sc.Need > MaxFetchMessageBytes:
		l.reportLocked(s, res, &MessageTooLargeError{Offset: s.offset, Size: sc.Need, MaxBytes: MaxFetchMessageBytes})
	case sc.Need > 0 && sc.Need <= op.maxBytes:
		// Older Fetch versions return the start of a batch larger than
		// the partition's share; the next share covers it, and being
		// within the partition's fetch size it need not come first.
		op.batchBytes = sc.Need
	case sc.Need > 0:
		// A batch larger than the fetch size: ask for all of it, first.
		c.log.Debug("kafka: record batch larger than the fetch size, growing it", "partition", op.id,
			"offset", s.offset, "size", sc.Need, "was", op.maxBytes)
		op.maxBytes = sc.Need
		op.first = true
	case len(rp.Records) > 0:
		op.first = true // cut before its header: the request ran out of room
	case rp.HighWatermark > s.offset && (c.cfg.IsolationLevel == ReadUncommitted || rp.LastStableOffset > s.offset):
		// Records are there but none came: newer brokers send nothing
		// rather than part of a batch too large for the partition's share,
		// and the whole batch when the partition comes first.
		op.first = true
	}
}

// reportLocked queues err in the partition's place in the stream (through
// the decode queue, so it follows what was fetched before) and stops
// fetching the partition until it is reset.
func (l *fetchLoop) reportLocked(s sentPartition, res *fetchResult, err error) {
	op := s.op
	op.stalled = true
	op.undecoded++
	res.items = append(res.items, decodeItem{op: op, epoch: s.epoch,
		err: &PartitionError{Topic: l.c.topic.name, Partition: op.id, Err: err}})
}

// releaseLocked gives up loop l's claim on a partition once it has nothing
// in flight and nothing left to decode. When the partition's leader is now
// another broker, the supervisor is woken so that broker's loop takes it.
func (c *SimpleConsumer) releaseLocked(op *ownedPartition, l *fetchLoop) {
	if op.owner != l || op.inflight || op.undecoded > 0 {
		return
	}
	op.owner = nil
	if op.p.Leader() != l.broker {
		c.supervisor.kick()
	}
}

func isRetriable(err error) bool {
	var kerr *Error
	return errors.As(err, &kerr) && kerr.Retriable
}

// deliver decodes a fetch result and queues its messages for Consume.
func (c *SimpleConsumer) deliver(l *fetchLoop, d *fetchDecoder, res *fetchResult) {
	queued, aliased := false, false
	var freed []*fetchLoop
	for i := range res.items {
		it := &res.items[i]
		var out decodeOut
		if it.err == nil {
			out = d.decode(&it.in)
		}

		c.mu.Lock()
		op := it.op
		op.undecoded--
		c.addPendingLocked(op, -it.bytes)
		op.pendingMsgs -= it.msgs
		warnGap := false
		if op.epoch == it.epoch {
			op.queue.pushMessages(out.msgs)
			c.addQueuedLocked(op, out.bytes)
			if it.err != nil {
				op.queue.pushError(it.err)
			}
			if out.err != nil {
				op.queue.pushError(&PartitionError{Topic: c.topic.name, Partition: op.id, Err: out.err})
				// Skip the bad batch; what was fetched after it is
				// fetched again.
				op.epoch++
				op.fetchAt = out.skipTo
			}
			if op.queue.len() > 0 && !op.inReady && !op.paused {
				c.ready.push(op)
				op.inReady = true
			}
			queued = queued || op.queue.len() > 0
			if it.err == nil && out.err == nil {
				op.catchUpLocked()
			}
			if out.gapAt >= 0 && !c.cfg.CompactedTopic && !op.gapLogged {
				op.gapLogged, warnGap = true, true
			}
		}
		c.releaseLocked(op, l)
		// Decoding shrinks what is held (records become keys and values),
		// which may let other loops fetch.
		freed = append(freed, c.roomFreedLocked()...)
		c.mu.Unlock()

		if it.err == nil && len(c.topic.cl.hooks.fetch) > 0 {
			c.observeFetch(l, it, &out)
		}
		aliased = aliased || out.aliasesInput
		if out.err != nil {
			c.log.Warn("kafka: undecodable record batch skipped", "partition", op.id, "next", out.skipTo, "error", out.err)
		}
		if warnGap {
			c.log.Warn("kafka: gap in offsets of a topic not marked compacted; records may have been lost",
				"partition", op.id, "missing", out.gapAt)
		}
	}
	if !aliased {
		res.frame.RecycleFrame()
	}
	if queued {
		c.avail.Set()
	}
	kickAll(freed)
}

// resetOutOfRange moves partitions whose fetch offset the broker no
// longer has to AutoOffsetReset, unless they moved meanwhile.
func (c *SimpleConsumer) resetOutOfRange(ctx context.Context, list []sentPartition) {
	ids := make([]int32, len(list))
	for i, s := range list {
		ids[i] = s.op.id
	}
	got, err := c.resolveTargets(ctx, targetsFor(ids, c.cfg.AutoOffsetReset))
	if err != nil {
		c.log.Debug("kafka: looking up offsets to reset to failed", "error", err)
	}
	c.mu.Lock()
	for _, s := range list {
		off, ok := got[s.op.id]
		if !ok || s.op.epoch != s.epoch {
			continue
		}
		c.log.Warn("kafka: offset out of range, resetting", "partition", s.op.id, "offset", s.offset,
			"reset", c.cfg.AutoOffsetReset.String(), "next", off)
		c.moveLocked(s.op, off)
	}
	freed := c.roomFreedLocked() // what the partitions held is dropped
	c.mu.Unlock()
	kickAll(freed)
}
