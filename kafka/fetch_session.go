package kafka

import (
	"errors"
	"math"

	"github.com/gregorkafka/gregor/protocol"
)

// Fetch session epochs with a meaning of their own (KIP-227): 0 asks for a
// new session (closing the one named, if any) with a full request, -1
// closes the one named and asks for none.
const (
	fetchSessionOpen  = 0
	fetchSessionClose = -1
	// fetchSessionMinVersion is the first Fetch version with sessions.
	fetchSessionMinVersion = 7
)

// fetchSession is a fetch loop's incremental fetch session (KIP-227) with
// its broker, kept as Java's FetchSessionHandler keeps it. The broker holds
// each session partition's fetch offset, leader epoch and size as last
// sent and fetches them all for every request of the session; a request
// carries only the partitions that are new or whose parameters changed,
// and names those to drop. A response names only the partitions with
// records or changes: those it leaves out are unchanged, not failed.
//
// The broker moves a session partition's fetch offset only when a request
// sends one, so every partition that received records is sent again with
// its next offset; the saving is the idle partitions, often most of them.
//
// One Fetch per loop is in flight at a time, so epochs stay in order. It is
// used by the loop's step task only.
type fetchSession struct {
	id    int32 // 0: none
	epoch int32 // of the next request: fetchSessionOpen for a full one
	// The partitions the broker holds in the session, as last sent,
	// indexed by partition id (a topic's ids run from 0), and how many.
	parts []sessionPartition
	n     int
	gen   uint32 // stamps the partitions of the request being prepared
	// The socket (its negotiated versions) the session's requests use: a
	// new socket starts over with a full request, as Java's does after a
	// disconnect.
	versions *protocol.Versions
	topicID  protocol.UUID

	// Of the request in flight: its epoch (-2 for a request without a
	// session), so its answer is read the way it was asked.
	sentEpoch int32
}

// sessionPartition is what the broker holds of a session partition.
type sessionPartition struct {
	offset      int64
	maxBytes    int32
	leaderEpoch int32
	in          bool   // in the session
	seen        uint32 // gen of the last request that named it
}

func (p sessionPartition) same(q sessionPartition) bool {
	return p.offset == q.offset && p.maxBytes == q.maxBytes && p.leaderEpoch == q.leaderEpoch
}

// slot returns id's entry, growing the table to hold it.
func (s *fetchSession) slot(id int32) *sessionPartition {
	if int(id) >= len(s.parts) {
		s.parts = append(s.parts, make([]sessionPartition, int(id)+1-len(s.parts))...)
	}
	return &s.parts[id]
}

// put records p as what the broker holds of partition id.
func (s *fetchSession) put(id int32, p sessionPartition) {
	e := s.slot(id)
	if !e.in {
		s.n++
	}
	p.in, p.seen = true, s.gen
	*e = p
}

func (s *fetchSession) clearParts() {
	clear(s.parts)
	s.n = 0
}

const fetchSessionNone = -2 // sentEpoch of a request outside any session

// prepare turns req, a full request for every partition the loop fetches
// now, into the request the session sends: full (epoch 0) when there is no
// session yet or it must start over, else incremental with only the
// partitions that changed and the ones to forget. v is the connection's
// negotiated versions; without sessions (Fetch below v7) req stays a full
// request outside any session.
func (s *fetchSession) prepare(req *protocol.FetchRequest, v *protocol.Versions) {
	ver, ok := int16(-1), false
	if v != nil {
		ver, ok = v.Version(protocol.APIKeyFetch)
	}
	if !ok || ver < fetchSessionMinVersion {
		s.reset()
		req.SessionID, req.SessionEpoch = 0, fetchSessionClose
		s.sentEpoch = fetchSessionNone
		return
	}
	var topic *protocol.FetchRequestTopic
	if len(req.Topics) > 0 {
		topic = &req.Topics[0]
	}
	if v != s.versions || (topic != nil && topic.TopicID != s.topicID) {
		// A new socket, or the topic was recreated: start over, closing
		// the old session on the broker.
		s.versions = v
		s.epoch = fetchSessionOpen
	}
	if topic != nil {
		s.topicID = topic.TopicID
	}
	req.SessionID, req.SessionEpoch = s.id, s.epoch
	s.sentEpoch = s.epoch
	s.gen++
	if s.id == 0 || s.epoch == fetchSessionOpen {
		s.clearParts()
		if topic != nil {
			for i := range topic.Partitions {
				if p := &topic.Partitions[i]; p.Partition >= 0 {
					s.put(p.Partition, sessionPartitionOf(p))
				}
			}
		}
		return
	}

	// Incremental: send what changed, forget what is no longer fetched.
	var parts []protocol.FetchRequestPartition
	if topic != nil {
		parts = topic.Partitions
	}
	// Send what is new or changed, and stamp what is still wanted.
	kept, wanted := parts[:0], 0
	for i := range parts {
		p := parts[i]
		now := sessionPartitionOf(&p)
		if p.Partition < 0 {
			kept = append(kept, p) // not ours to judge; the broker will say
			continue
		}
		if e := s.slot(p.Partition); !e.in || !e.same(now) {
			kept = append(kept, p)
		}
		s.put(p.Partition, now)
		wanted++
	}
	// Forget what the request no longer names.
	var forgotten []int32
	if wanted < s.n {
		for id := range s.parts {
			if e := &s.parts[id]; e.in && e.seen != s.gen {
				forgotten = append(forgotten, int32(id))
				*e = sessionPartition{}
				s.n--
			}
		}
	}
	if topic != nil {
		if len(kept) == 0 {
			req.Topics = req.Topics[:0]
		} else {
			topic.Partitions = kept
		}
	}
	if len(forgotten) > 0 {
		name := ""
		if topic != nil {
			name = topic.Topic
		}
		req.ForgottenTopicsData = []protocol.FetchRequestForgottenTopic{{
			Topic: name, TopicID: s.topicID, Partitions: forgotten}}
	}
}

func sessionPartitionOf(p *protocol.FetchRequestPartition) sessionPartition {
	return sessionPartition{offset: p.FetchOffset, maxBytes: p.PartitionMaxBytes, leaderEpoch: p.CurrentLeaderEpoch}
}

// answeredResponse is answered for a whole response. An empty full
// response with a throttle time is the broker throttling us (KIP-219), not
// an answer: the next request is full again, as Java's.
func (s *fetchSession) answeredResponse(resp *protocol.FetchResponse) {
	id := resp.SessionID
	if s.sentEpoch == fetchSessionOpen && len(resp.Responses) == 0 && resp.ThrottleTimeMs > 0 {
		id = 0
	}
	s.answered(id, protocol.ErrorForCode(resp.ErrorCode))
}

// answered moves the session on by the response to the request prepared
// last. err is the response's top-level error. Any error starts the
// session over with a full request; FETCH_SESSION_ID_NOT_FOUND also
// forgets its id (there is nothing to close). A broker that answers a
// full request with session id 0 keeps no session for us (its cache is
// full, or sessions are off): every request stays full, each asking again.
func (s *fetchSession) answered(sessionID int32, err error) {
	if s.sentEpoch == fetchSessionNone {
		return
	}
	switch {
	case errors.Is(err, protocol.ErrFetchSessionIDNotFound):
		s.id, s.epoch = 0, fetchSessionOpen
	case err != nil:
		s.epoch = fetchSessionOpen
	case sessionID == 0:
		s.id, s.epoch = 0, fetchSessionOpen
	case s.sentEpoch == fetchSessionOpen:
		s.id, s.epoch = sessionID, 1
	default:
		s.epoch = nextFetchSessionEpoch(s.sentEpoch)
	}
}

// failed starts the session over after a request whose answer never came:
// the broker may or may not have moved the session on.
func (s *fetchSession) failed() { s.epoch = fetchSessionOpen }

// reset forgets the session, with no request to close it.
func (s *fetchSession) reset() {
	s.id, s.epoch = 0, fetchSessionOpen
	s.clearParts()
}

// closeRequest returns the request that closes the session on the broker
// (no partitions, answered at once), or nil when there is none.
func (s *fetchSession) closeRequest() *protocol.FetchRequest {
	if s.id == 0 || s.sentEpoch == fetchSessionNone {
		return nil
	}
	req := protocol.NewFetchRequest()
	req.MaxWaitMs = 0
	req.MinBytes = 0
	req.SessionID, req.SessionEpoch = s.id, fetchSessionClose
	s.reset()
	return req
}

// isFetchSessionError reports whether err is one the broker answers when
// it cannot use the session a request named; the next request is full.
func isFetchSessionError(err error) bool {
	return errors.Is(err, protocol.ErrFetchSessionIDNotFound) ||
		errors.Is(err, protocol.ErrInvalidFetchSessionEpoch) ||
		errors.Is(err, protocol.ErrFetchSessionTopicIDError)
}

func nextFetchSessionEpoch(e int32) int32 {
	if e == math.MaxInt32 {
		return 1
	}
	return e + 1
}
