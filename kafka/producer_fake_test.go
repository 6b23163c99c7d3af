package kafka

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/gregorkafka/gregor/protocol"
)

// pfCluster is an in-process stand-in for a Kafka cluster with one topic,
// enough for a producer: it answers ApiVersions, Metadata and Produce, keeps
// every partition's log, and lets a test decide, per produce request and
// partition, the answer and when it is sent.
type pfCluster struct {
	tb    testing.TB
	topic string

	mu      sync.Mutex
	brokers []*pfBroker
	leaders []int32             // per partition; -1 for none
	logs    [][]protocol.Record // per partition, copies, offsets assigned
	batches [][]pfBatch         // per partition, every batch appended
	seen    []pfProduce         // every partition entry of every produce request, in arrival order
	// metadataCalls counts Metadata requests.
	metadataCalls int
	// onProduce decides the answer to one partition entry of a produce
	// request: an error code (0 appends the records; pfHangUp closes the
	// connection) and an optional gate the response waits for. Nil
	// appends everything at once. It runs with mu held, so it may change
	// leaders directly.
	onProduce func(p *pfProduce) (code int16, gate <-chan struct{})
	changed   chan struct{} // closed and replaced whenever seen grows

	// Idempotence, as a broker keeps it: producer ids handed out, and per
	// partition the state of each producer id that wrote to it.
	nextPID  int64
	noPID    bool // InitProducerId is not offered
	pidCalls []*protocol.InitProducerIDRequest
	seqs     []map[int64]*pfSeq // per partition
}

// pfSeq is a producer's state on one partition: its epoch, the next
// sequence expected and the last five batches written, for duplicates.
type pfSeq struct {
	epoch int16
	next  int32
	last  []pfSeqBatch
}

type pfSeqBatch struct {
	seq, count int32
	base       int64
}

// pfHangUp, returned by onProduce, closes the connection instead of
// answering; pfWriteHangUp appends the records first, as a broker that
// wrote a batch and died before answering.
const (
	pfHangUp      int16 = -999
	pfWriteHangUp int16 = -998
)

// pfProduce is one partition entry of a produce request.
type pfProduce struct {
	ProducerID int64
	Epoch      int16
	Sequence   int32
	Broker     int32
	Partition  int32
	Version    int16
	Acks       int16
	Magic      int8
	Codec      protocol.Compression
	Records    []protocol.Record
	Request    int // sequence number of the request on the cluster
}

// valueBytes is the bytes of the entry's record values.
func (e pfProduce) valueBytes() int {
	n := 0
	for _, r := range e.Records {
		n += len(r.Value)
	}
	return n
}

// pfBatch is one batch appended to a partition's log.
type pfBatch struct {
	Magic   int8
	Codec   protocol.Compression
	Records int
}

type pfBroker struct {
	c          *pfCluster
	id         int32
	ln         net.Listener
	maxProduce int16 // guarded by c.mu

	mu    sync.Mutex
	conns []net.Conn
}

// newPFCluster starts brokers fake brokers (ids 1..n) for a topic of
// partitions partitions, led round-robin by the brokers.
func newPFCluster(tb testing.TB, brokers, partitions int) *pfCluster {
	tb.Helper()
	c := &pfCluster{
		tb:      tb,
		topic:   "fake-topic",
		leaders: make([]int32, partitions),
		logs:    make([][]protocol.Record, partitions),
		batches: make([][]pfBatch, partitions),
		changed: make(chan struct{}),
		nextPID: pfFirstPID,
		seqs:    make([]map[int64]*pfSeq, partitions),
	}
	for i := range brokers {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatalf("listen: %v", err)
		}
		b := &pfBroker{c: c, id: int32(i + 1), ln: ln, maxProduce: 11}
		c.brokers = append(c.brokers, b)
		tb.Cleanup(b.close)
	}
	for p := range partitions {
		c.leaders[p] = int32(p%brokers + 1)
	}
	for _, b := range c.brokers {
		go b.accept()
	}
	return c
}

func (c *pfCluster) bootstrap() []string { return []string{c.brokers[0].ln.Addr().String()} }

// setLeader moves partition p to broker id (-1: no leader).
func (c *pfCluster) setLeader(p int, id int32) {
	c.mu.Lock()
	c.leaders[p] = id
	c.mu.Unlock()
}

// setMaxProduce caps the Produce version every broker offers.
func (c *pfCluster) setMaxProduce(v int16) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, b := range c.brokers {
		b.maxProduce = v
	}
}

func (c *pfCluster) setOnProduce(fn func(p *pfProduce) (int16, <-chan struct{})) {
	c.mu.Lock()
	c.onProduce = fn
	c.mu.Unlock()
}

// log returns a copy of partition p's log.
func (c *pfCluster) log(p int) []protocol.Record {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.logs[p])
}

func (c *pfCluster) batchesOf(p int) []pfBatch {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.batches[p])
}

func (c *pfCluster) metadataRequests() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.metadataCalls
}

func (c *pfCluster) produced() []pfProduce {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.seen)
}

// waitSeen blocks until cond holds for the produce entries seen so far.
func (c *pfCluster) waitSeen(tb testing.TB, cond func([]pfProduce) bool) {
	tb.Helper()
	for {
		c.mu.Lock()
		ok, ch := cond(c.seen), c.changed
		c.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-tb.Context().Done():
			tb.Fatalf("fake cluster: condition never held; seen %d produce entries", len(c.produced()))
		}
	}
}

func (b *pfBroker) close() {
	_ = b.ln.Close()
	b.mu.Lock()
	for _, nc := range b.conns {
		_ = nc.Close()
	}
	b.mu.Unlock()
}

func (b *pfBroker) accept() {
	for {
		nc, err := b.ln.Accept()
		if err != nil {
			return
		}
		b.mu.Lock()
		b.conns = append(b.conns, nc)
		b.mu.Unlock()
		go b.serve(nc)
	}
}

// pfReply is a response frame waiting for its gates, written in request
// order.
type pfReply struct {
	frame []byte
	gates []<-chan struct{}
}

func (b *pfBroker) serve(nc net.Conn) {
	defer nc.Close()
	replies := make(chan *pfReply, 1024)
	defer close(replies)
	go func() {
		for r := range replies {
			for _, g := range r.gates {
				<-g
			}
			if _, err := nc.Write(r.frame); err != nil {
				_ = nc.Close()
			}
		}
	}()
	rd := bufio.NewReader(nc)
	var size [4]byte
	for {
		if _, err := io.ReadFull(rd, size[:]); err != nil {
			return
		}
		frame := make([]byte, binary.BigEndian.Uint32(size[:]))
		if _, err := io.ReadFull(rd, frame); err != nil {
			return
		}
		hdr, body, err := protocol.DecodeRequestFrame(frame)
		if err != nil {
			b.c.tb.Errorf("fake broker: %v", err)
			return
		}
		req, ok := protocol.NewRequest(hdr.APIKey)
		if !ok {
			b.c.tb.Errorf("fake broker: unknown API %d", hdr.APIKey)
			return
		}
		if err := req.DecodeFrom(body, hdr.APIVersion); err != nil {
			b.c.tb.Errorf("fake broker: decoding %T: %v", req, err)
			return
		}
		resp, gates, hangUp := b.answer(req, hdr.APIVersion)
		if hangUp {
			return
		}
		if resp == nil {
			continue // acks 0
		}
		out, err := protocol.AppendResponseFrame(nil, resp, hdr.APIVersion, hdr.CorrelationID)
		if err != nil {
			b.c.tb.Errorf("fake broker: encoding %T: %v", resp, err)
			return
		}
		replies <- &pfReply{frame: out, gates: gates}
	}
}

func (b *pfBroker) answer(req protocol.Message, version int16) (protocol.Message, []<-chan struct{}, bool) {
	switch m := req.(type) {
	case *protocol.APIVersionsRequest:
		b.c.mu.Lock()
		maxProduce := b.maxProduce
		b.c.mu.Unlock()
		resp := protocol.NewAPIVersionsResponse()
		for _, k := range protocol.APIKeys() {
			if k == protocol.APIKeyGetTelemetrySubscriptions || k == protocol.APIKeyPushTelemetry {
				continue // as a broker without a telemetry receiver
			}
			r, _ := protocol.SupportedVersionRange(k)
			if k == protocol.APIKeyProduce {
				r.Max = maxProduce
			}
			if k == protocol.APIKeyInitProducerID && b.c.noProducerIDs() {
				continue
			}
			resp.APIKeys = append(resp.APIKeys, protocol.APIVersionsResponseAPIKey{APIKey: k, MinVersion: r.Min, MaxVersion: r.Max})
		}
		return resp, nil, false
	case *protocol.MetadataRequest:
		return b.c.metadata(m), nil, false
	case *protocol.ProduceRequest:
		return b.c.produce(b, m, version)
	case *protocol.InitProducerIDRequest:
		return b.c.initProducerID(m), nil, false
	}
	return req.(protocol.Request).NewResponse(), nil, false
}

func (c *pfCluster) metadata(req *protocol.MetadataRequest) *protocol.MetadataResponse {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.metadataCalls++
	resp := protocol.NewMetadataResponse()
	id := "fake-cluster"
	resp.ClusterID = &id
	resp.ControllerID = 1
	for _, b := range c.brokers {
		host, port, _ := net.SplitHostPort(b.ln.Addr().String())
		n, _ := strconv.Atoi(port)
		resp.Brokers = append(resp.Brokers, protocol.MetadataResponseBroker{NodeID: b.id, Host: host, Port: int32(n)})
	}
	wanted := req.Topics == nil
	for _, t := range req.Topics {
		if t.Name != nil && *t.Name == c.topic {
			wanted = true
		} else if t.Name != nil {
			resp.Topics = append(resp.Topics, protocol.MetadataResponseTopic{
				Name: t.Name, ErrorCode: protocol.ErrUnknownTopicOrPartition.Code,
			})
		}
	}
	if wanted {
		name := c.topic
		mt := protocol.MetadataResponseTopic{Name: &name}
		for p, leader := range c.leaders {
			mp := protocol.MetadataResponsePartition{PartitionIndex: int32(p), LeaderID: leader, LeaderEpoch: 1}
			if leader < 0 {
				mp.ErrorCode = protocol.ErrLeaderNotAvailable.Code
			}
			for _, b := range c.brokers {
				mp.ReplicaNodes = append(mp.ReplicaNodes, b.id)
			}
			mp.IsrNodes = mp.ReplicaNodes
			mt.Partitions = append(mt.Partitions, mp)
		}
		resp.Topics = append(resp.Topics, mt)
	}
	return resp
}

func (c *pfCluster) produce(b *pfBroker, req *protocol.ProduceRequest, version int16) (protocol.Message, []<-chan struct{}, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	resp := protocol.NewProduceResponse()
	var gates []<-chan struct{}
	request := len(c.seen)
	for _, td := range req.TopicData {
		rt := protocol.ProduceResponseTopic{Name: td.Name}
		for _, pd := range td.PartitionData {
			pr := protocol.ProduceResponsePartition{Index: pd.Index, BaseOffset: -1, LogAppendTimeMs: -1, LogStartOffset: -1}
			e := &pfProduce{Broker: b.id, Partition: pd.Index, Version: version, Acks: req.Acks, Request: request}
			var batches []pfBatch
			e.ProducerID, e.Epoch, e.Sequence = -1, -1, -1
			_, err := protocol.DecodeRecordBatches(pd.Records, func(rb *protocol.RecordBatch) error {
				e.Magic, e.Codec = rb.Magic, rb.Compression()
				e.ProducerID, e.Epoch, e.Sequence = rb.ProducerID, rb.ProducerEpoch, rb.BaseSequence
				batches = append(batches, pfBatch{Magic: rb.Magic, Codec: rb.Compression(), Records: len(rb.Records)})
				for _, r := range rb.Records {
					r.Key, r.Value = bytes.Clone(r.Key), bytes.Clone(r.Value)
					r.Headers = slices.Clone(r.Headers)
					for i := range r.Headers {
						r.Headers[i].Value = bytes.Clone(r.Headers[i].Value)
					}
					e.Records = append(e.Records, r)
				}
				return nil
			})
			if err != nil {
				c.tb.Errorf("fake broker: decoding records: %v", err)
			}
			c.seen = append(c.seen, *e)
			code, gate := int16(0), (<-chan struct{})(nil)
			switch p := int(pd.Index); {
			case td.Name != c.topic || p >= len(c.leaders):
				code = protocol.ErrUnknownTopicOrPartition.Code
			case c.leaders[p] != b.id:
				code = protocol.ErrNotLeaderOrFollower.Code
			case c.onProduce != nil:
				code, gate = c.onProduce(e)
			}
			if code == pfHangUp {
				close(c.changed)
				c.changed = make(chan struct{})
				return nil, nil, true
			}
			if gate != nil {
				gates = append(gates, gate)
			}
			hangUp := code == pfWriteHangUp
			if hangUp {
				code = 0
			}
			dup := false
			if code == 0 && e.ProducerID >= 0 {
				code, dup, pr.BaseOffset = c.checkSequence(e)
			}
			pr.ErrorCode = code
			if code == 0 && !dup {
				p := int(pd.Index)
				pr.BaseOffset = int64(len(c.logs[p]))
				if e.ProducerID >= 0 {
					c.wroteSequence(e, pr.BaseOffset)
				}
				for i, r := range e.Records {
					r.Offset = pr.BaseOffset + int64(i)
					c.logs[p] = append(c.logs[p], r)
				}
				c.batches[p] = append(c.batches[p], batches...)
			}
			if hangUp {
				close(c.changed)
				c.changed = make(chan struct{})
				return nil, nil, true
			}
			rt.PartitionResponses = append(rt.PartitionResponses, pr)
		}
		resp.Responses = append(resp.Responses, rt)
	}
	close(c.changed)
	c.changed = make(chan struct{})
	if req.Acks == 0 {
		return nil, nil, false
	}
	return resp, gates, false
}

// initProducerID hands out a producer id, as Kafka does: a producer without
// a transactional id always gets a new one at epoch 0, even when it names
// its current id (KIP-360's bump); a transactional one the next epoch of
// the id it names.
func (c *pfCluster) initProducerID(req *protocol.InitProducerIDRequest) *protocol.InitProducerIDResponse {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pidCalls = append(c.pidCalls, req)
	resp := protocol.NewInitProducerIDResponse()
	if req.ProducerID >= 0 && req.TransactionalID != nil {
		resp.ProducerID, resp.ProducerEpoch = req.ProducerID, req.ProducerEpoch+1
		return resp
	}
	resp.ProducerID, resp.ProducerEpoch = c.nextPID, 0
	c.nextPID++
	return resp
}

// initProducerIDCalls returns the InitProducerId requests seen.
func (c *pfCluster) initProducerIDCalls() []*protocol.InitProducerIDRequest {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.pidCalls)
}

// checkSequence applies a broker's sequence rules to an idempotent batch:
// a duplicate of one of the last five batches is answered with its
// offset, a gap with OUT_OF_ORDER_SEQUENCE_NUMBER, an old epoch with
// INVALID_PRODUCER_EPOCH. Called with c.mu held.
func (c *pfCluster) checkSequence(e *pfProduce) (code int16, dup bool, base int64) {
	p := int(e.Partition)
	st := c.seqs[p][e.ProducerID]
	switch {
	case st == nil || e.Epoch > st.epoch:
		if e.Sequence != 0 {
			return protocol.ErrOutOfOrderSequenceNumber.Code, false, -1
		}
		return 0, false, -1
	case e.Epoch < st.epoch:
		return protocol.ErrInvalidProducerEpoch.Code, false, -1
	}
	for _, b := range st.last {
		if b.seq == e.Sequence && b.count == int32(len(e.Records)) {
			return 0, true, b.base
		}
	}
	if e.Sequence != st.next {
		return protocol.ErrOutOfOrderSequenceNumber.Code, false, -1
	}
	return 0, false, -1
}

// wroteSequence records an idempotent batch appended at base. Called with
// c.mu held.
func (c *pfCluster) wroteSequence(e *pfProduce, base int64) {
	p := int(e.Partition)
	if c.seqs[p] == nil {
		c.seqs[p] = map[int64]*pfSeq{}
	}
	st := c.seqs[p][e.ProducerID]
	if st == nil || e.Epoch > st.epoch {
		st = &pfSeq{epoch: e.Epoch}
		c.seqs[p][e.ProducerID] = st
	}
	n := int32(len(e.Records))
	st.next = e.Sequence + n
	st.last = append(st.last, pfSeqBatch{seq: e.Sequence, count: n, base: base})
	if len(st.last) > 5 {
		st.last = st.last[1:]
	}
}

func (c *pfCluster) noProducerIDs() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.noPID
}

// pfFirstPID is the first producer id a fake cluster hands out.
const pfFirstPID = 1000

// firstIdentity reports whether e was sent under the first producer id and
// epoch the cluster handed out.
func firstIdentity(e *pfProduce) bool { return e.ProducerID == pfFirstPID && e.Epoch == 0 }
