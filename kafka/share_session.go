package kafka

import (
	"errors"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/protocol"
)

// The share session epochs with a meaning of their own: 0 opens a session
// (replacing any the member had on the broker), -1 closes it.
const (
	shareSessionOpen  = 0
	shareSessionClose = -1
)

var (
	errShareNoSession = errors.New("kafka: no share session with the partition's leader to carry the acknowledgement; the records return to the group when their lock expires")
	errShareNoAnswer  = errors.New("kafka: the broker's answer left the partition out")
)

// shareSession is the member's share session with one broker (ShareFetch
// and ShareAcknowledge are incremental, like Fetch sessions): the
// partitions in it and the epoch the next request carries. One request per
// broker is in flight at a time, so the epoch stays in step.
type shareSession struct {
	epoch    int32
	parts    map[sharePartition]bool
	inFlight bool
}

func (s *shareSession) reset() {
	s.epoch = shareSessionOpen
	clear(s.parts)
}

func (s *shareSession) advance() {
	if s.epoch == math.MaxInt32 {
		s.epoch = 1
	} else {
		s.epoch++
	}
}

func (c *ShareConsumer) session(id int32) *shareSession {
	s := c.sessions[id]
	if s == nil {
		s = &shareSession{parts: map[sharePartition]bool{}}
		c.sessions[id] = s
	}
	return s
}

// kickLocked starts, for every broker without a request in flight, the
// request it needs: a ShareAcknowledge for acknowledgements of partitions
// the member no longer fetches there, else a ShareFetch for its assigned
// partitions carrying the acknowledgements of theirs.
func (c *ShareConsumer) kickLocked() {
	wanted := map[int32][]sharePartition{}
	for _, p := range c.assigned {
		t := c.topics[p.topic]
		var leader *Broker
		if t != nil {
			if part := t.Partition(p.partition); part != nil {
				leader = part.Leader()
			}
		}
		if leader == nil {
			c.refreshTopicsLocked()
			continue
		}
		wanted[leader.ID()] = append(wanted[leader.ID()], p)
	}
	ids := map[int32]bool{}
	for id := range wanted {
		ids[id] = true
	}
	for id := range c.pending {
		ids[id] = true
	}
	for id, s := range c.sessions {
		if len(s.parts) > 0 {
			ids[id] = true
		}
	}
	for id := range ids {
		s := c.session(id)
		if s.inFlight {
			continue
		}
		b := c.cl.Broker(id)
		if b == nil {
			c.failAcksLocked(id, nil, ErrNoLeader)
			s.reset()
			continue
		}
		acks := c.pending[id]
		ackOnly := false
		for p := range acks {
			if !slices.Contains(wanted[id], p) {
				ackOnly = true
				break
			}
		}
		if ackOnly {
			if s.epoch > 0 {
				c.startAcknowledge(b, s, false)
				continue
			}
			c.failAcksLocked(id, func(p sharePartition) bool { return !slices.Contains(wanted[id], p) }, errShareNoSession)
		}
		if len(wanted[id]) == 0 && len(s.parts) == 0 {
			continue
		}
		if s.epoch == shareSessionOpen {
			// A session's first ShareFetch may not carry acknowledgements
			// (brokers refuse them, as the Java client knows).
			c.failAcksLocked(id, nil, errShareNoSession)
		}
		c.startFetch(b, s, wanted[id])
	}
}

// kickAcksLocked starts a ShareAcknowledge for every broker with
// acknowledgements pending and no request in flight (with final, for every
// open session too, closing it) and reports whether all is sent and
// answered.
func (c *ShareConsumer) kickAcksLocked(final bool) bool {
	done := true
	ids := map[int32]bool{}
	for id := range c.pending {
		ids[id] = true
	}
	for id, s := range c.sessions {
		if s.inFlight || (final && s.epoch > 0) {
			ids[id] = true
		}
	}
	for id := range ids {
		s := c.session(id)
		if s.inFlight {
			done = false
			continue
		}
		if len(c.pending[id]) == 0 && !(final && s.epoch > 0) {
			continue
		}
		b := c.cl.Broker(id)
		if b == nil || s.epoch <= 0 {
			c.failAcksLocked(id, nil, errShareNoSession)
			continue
		}
		c.startAcknowledge(b, s, final)
		done = false
	}
	return done
}

// failAcksLocked drops broker id's pending acknowledgements of the
// partitions match accepts (all with nil), reporting them failed with err.
func (c *ShareConsumer) failAcksLocked(id int32, match func(sharePartition) bool, err error) {
	for p, acks := range c.pending[id] {
		if match == nil || match(p) {
			c.results = append(c.results, ShareAckResult{Topic: p.topic, Partition: p.partition, Offsets: ackOffsets(acks), Err: err})
			delete(c.pending[id], p)
		}
	}
	if len(c.pending[id]) == 0 {
		delete(c.pending, id)
	}
}

// takeAcksLocked removes broker id's pending acknowledgements of the
// partitions match accepts (all with nil).
func (c *ShareConsumer) takeAcksLocked(id int32, match func(sharePartition) bool) map[sharePartition][]shareAck {
	out := map[sharePartition][]shareAck{}
	for p, acks := range c.pending[id] {
		if match == nil || match(p) {
			out[p] = acks
			delete(c.pending[id], p)
		}
	}
	if len(c.pending[id]) == 0 {
		delete(c.pending, id)
	}
	return out
}

// startFetch sends a ShareFetch to b for the partitions wanted there, with
// the acknowledgements pending for them, and handles the answer on a task.
func (c *ShareConsumer) startFetch(b *Broker, s *shareSession, wanted []sharePartition) {
	id := b.ID()
	want := map[sharePartition]bool{}
	for _, p := range wanted {
		want[p] = true
	}
	acks := c.takeAcksLocked(id, func(p sharePartition) bool { return want[p] })

	req := protocol.NewShareFetchRequest()
	req.GroupID, req.MemberID = &c.cfg.Group, &c.memberID
	req.ShareSessionEpoch = s.epoch
	req.MaxWaitMs = int32(c.cfg.MaxWait / time.Millisecond)
	req.MinBytes = 1
	req.MaxBytes = c.cfg.MaxBytes
	req.MaxRecords = int32(c.cfg.MaxRecords)
	req.BatchSize = int32(c.cfg.MaxRecords)
	if len(wanted) == 0 {
		req.MaxWaitMs, req.MinBytes, req.MaxRecords, req.BatchSize = 0, 0, 0, 0 // only forgetting
	}
	topics := map[protocol.UUID]int{}
	addPart := func(p sharePartition) *protocol.ShareFetchRequestFetchPartition {
		i, ok := topics[p.topicID]
		if !ok {
			i = len(req.Topics)
			topics[p.topicID] = i
			req.Topics = append(req.Topics, protocol.ShareFetchRequestFetchTopic{TopicID: p.topicID})
		}
		t := &req.Topics[i]
		for j := range t.Partitions {
			if t.Partitions[j].PartitionIndex == p.partition {
				return &t.Partitions[j]
			}
		}
		t.Partitions = append(t.Partitions, protocol.ShareFetchRequestFetchPartition{PartitionIndex: p.partition})
		return &t.Partitions[len(t.Partitions)-1]
	}
	if s.epoch == shareSessionOpen {
		clear(s.parts)
	}
	for _, p := range wanted {
		if !s.parts[p] {
			addPart(p)
		}
	}
	forgotten := map[protocol.UUID]int{}
	for p := range s.parts {
		if want[p] {
			continue
		}
		i, ok := forgotten[p.topicID]
		if !ok {
			i = len(req.ForgottenTopicsData)
			forgotten[p.topicID] = i
			req.ForgottenTopicsData = append(req.ForgottenTopicsData, protocol.ShareFetchRequestForgottenTopic{TopicID: p.topicID})
		}
		req.ForgottenTopicsData[i].Partitions = append(req.ForgottenTopicsData[i].Partitions, p.partition)
	}
	for p, a := range acks {
		fp := addPart(p)
		for _, ab := range ackBatches(a) {
			fp.AcknowledgementBatches = append(fp.AcknowledgementBatches, protocol.ShareFetchRequestAcknowledgementBatch{
				FirstOffset: ab.first, LastOffset: ab.last, AcknowledgeTypes: ab.types})
		}
	}
	clear(s.parts)
	for p := range want {
		s.parts[p] = true
	}
	s.inFlight = true
	c.log.Debug("kafka: ShareFetch", "broker", id, "epoch", req.ShareSessionEpoch, "partitions", len(wanted), "acks", len(acks))
	sent := c.h.Now()
	timeout := c.cl.cfg.SocketTimeout + c.cfg.MaxWait
	c.h.Go(handler.TaskName("kafka-share-fetch", "broker", strconv.Itoa(int(id))), func() {
		resp, err := call[*protocol.ShareFetchResponse](c.ctx, b, c.fetchKey, req, timeout)
		c.onFetch(b, s, acks, sent, resp, err)
	})
}

// onFetch applies a ShareFetch answer: acknowledgement outcomes, records
// for Poll, gaps to acknowledge, the session's next epoch.
func (c *ShareConsumer) onFetch(b *Broker, s *shareSession, acks map[sharePartition][]shareAck, sent time.Time,
	resp *protocol.ShareFetchResponse, err error) {
	if err == nil {
		err = protocol.ErrorForCode(resp.ErrorCode)
	}
	if err != nil {
		c.log.Debug("kafka: ShareFetch failed", "broker", b.ID(), "error", err)
		if _, rerr := c.cl.refreshIfStale(c.ctx, err); rerr != nil {
			c.log.Debug("kafka: metadata refresh failed", "error", rerr)
		}
		_ = c.h.Sleep(c.ctx, shareRetryBackoff)
		c.mu.Lock()
		defer c.mu.Unlock()
		c.requestFailedLocked(s, acks, err)
		return
	}
	var lockExpires time.Time
	if resp.AcquisitionLockTimeoutMs > 0 {
		lockExpires = sent.Add(time.Duration(resp.AcquisitionLockTimeoutMs) * time.Millisecond)
	}
	var rd protocol.RecordDecoder
	stale := false
	c.mu.Lock()
	defer c.mu.Unlock()
	s.inFlight = false
	s.advance()
	answered := map[sharePartition]bool{}
	for _, t := range resp.Responses {
		topic := c.byID[t.TopicID]
		for _, pd := range t.Partitions {
			if topic == nil {
				stale = true
				continue
			}
			p := sharePartition{topicID: t.TopicID, topic: topic.Name(), partition: pd.PartitionIndex}
			if a, ok := acks[p]; ok && !answered[p] {
				answered[p] = true
				c.results = append(c.results, ShareAckResult{Topic: p.topic, Partition: p.partition,
					Offsets: ackOffsets(a), Err: protocol.ErrorForCode(pd.AcknowledgeErrorCode)})
			}
			if perr := protocol.ErrorForCode(pd.ErrorCode); perr != nil {
				c.log.Debug("kafka: ShareFetch partition error", "topic", p.topic, "partition", p.partition, "error", perr)
				if isStaleMetadata(perr) {
					stale = true
					delete(s.parts, p)
				}
				continue
			}
			if len(pd.AcquiredRecords) == 0 {
				continue
			}
			d := decodeShareRecords(&rd, p, pd.Records, pd.AcquiredRecords, lockExpires, b.ID())
			c.buffered = append(c.buffered, d.msgs...)
			for _, off := range d.gaps {
				c.addAckLocked(b.ID(), p, shareAck{offset: off, typ: ackGap})
			}
			for _, off := range d.rejects {
				c.addAckLocked(b.ID(), p, shareAck{offset: off, typ: AckReject})
			}
			if d.err != nil {
				c.log.Warn("kafka: share records undecodable, rejecting them", "topic", p.topic, "partition", p.partition,
					"offsets", len(d.rejects), "error", d.err)
			}
		}
	}
	c.reportUnansweredLocked(acks, answered)
	if stale {
		c.refreshTopicsLocked()
	}
	c.wake.Set()
}

// requestFailedLocked ends a request that got no usable answer: its
// acknowledgements failed, and the session starts again where its epoch is
// in doubt.
func (c *ShareConsumer) requestFailedLocked(s *shareSession, acks map[sharePartition][]shareAck, err error) {
	s.inFlight = false
	var kerr *protocol.Error
	if !errors.As(err, &kerr) || errors.Is(err, protocol.ErrShareSessionNotFound) ||
		errors.Is(err, protocol.ErrInvalidShareSessionEpoch) || errors.Is(err, protocol.ErrShareSessionLimitReached) {
		s.reset() // a lost answer leaves the broker's epoch unknown
	} else {
		s.advance()
	}
	for p, a := range acks {
		c.results = append(c.results, ShareAckResult{Topic: p.topic, Partition: p.partition, Offsets: ackOffsets(a), Err: err})
	}
	c.wake.Set()
}

func (c *ShareConsumer) reportUnansweredLocked(acks map[sharePartition][]shareAck, answered map[sharePartition]bool) {
	for p, a := range acks {
		if !answered[p] {
			c.results = append(c.results, ShareAckResult{Topic: p.topic, Partition: p.partition, Offsets: ackOffsets(a), Err: errShareNoAnswer})
		}
	}
}

// startAcknowledge sends b every acknowledgement pending for it in a
// ShareAcknowledge; final closes the session.
func (c *ShareConsumer) startAcknowledge(b *Broker, s *shareSession, final bool) {
	acks := c.takeAcksLocked(b.ID(), nil)
	req := protocol.NewShareAcknowledgeRequest()
	req.GroupID, req.MemberID = &c.cfg.Group, &c.memberID
	req.ShareSessionEpoch = s.epoch
	if final {
		req.ShareSessionEpoch = shareSessionClose
	}
	topics := map[protocol.UUID]int{}
	for p, a := range acks {
		i, ok := topics[p.topicID]
		if !ok {
			i = len(req.Topics)
			topics[p.topicID] = i
			req.Topics = append(req.Topics, protocol.ShareAcknowledgeRequestAcknowledgeTopic{TopicID: p.topicID})
		}
		ap := protocol.ShareAcknowledgeRequestAcknowledgePartition{PartitionIndex: p.partition}
		for _, ab := range ackBatches(a) {
			ap.AcknowledgementBatches = append(ap.AcknowledgementBatches, protocol.ShareAcknowledgeRequestAcknowledgementBatch{
				FirstOffset: ab.first, LastOffset: ab.last, AcknowledgeTypes: ab.types})
		}
		req.Topics[i].Partitions = append(req.Topics[i].Partitions, ap)
	}
	s.inFlight = true
	c.log.Debug("kafka: ShareAcknowledge", "broker", b.ID(), "epoch", req.ShareSessionEpoch, "partitions", len(acks))
	c.h.Go(handler.TaskName("kafka-share-acknowledge", "broker", strconv.Itoa(int(b.ID()))), func() {
		resp, err := call[*protocol.ShareAcknowledgeResponse](c.ctx, b, c.fetchKey, req, 0)
		if err == nil {
			err = protocol.ErrorForCode(resp.ErrorCode)
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		if err != nil {
			c.log.Debug("kafka: ShareAcknowledge failed", "broker", b.ID(), "error", err)
			c.requestFailedLocked(s, acks, err)
			if final {
				s.reset()
			}
			return
		}
		s.inFlight = false
		if final {
			s.reset()
		} else {
			s.advance()
		}
		answered := map[sharePartition]bool{}
		for _, t := range resp.Responses {
			for _, pd := range t.Partitions {
				for p, a := range acks {
					if p.topicID == t.TopicID && p.partition == pd.PartitionIndex && !answered[p] {
						answered[p] = true
						c.results = append(c.results, ShareAckResult{Topic: p.topic, Partition: p.partition,
							Offsets: ackOffsets(a), Err: protocol.ErrorForCode(pd.ErrorCode)})
					}
				}
			}
		}
		c.reportUnansweredLocked(acks, answered)
		c.wake.Set()
	})
}
