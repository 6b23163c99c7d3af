package bench

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// fakeBroker is a one-node Kafka that takes every Produce and forgets the records, and, given a fakeLog,
// serves Fetch from canned batches: enough for the in-process side-by-side, where what is measured is the
// client's own work (from Produce to acknowledgement, or from Fetch to the application), without a JVM on the
// same two cores. It speaks through franz-go's kmsg, the same code for every client, and answers only what
// producers and simple consumers need: ApiVersions, Metadata, InitProducerId, Produce, ListOffsets and Fetch.
type fakeBroker struct {
	ln         net.Listener
	topic      string
	partitions int32
	closed     chan struct{} // closed by close
	closeOnce  sync.Once

	log  *fakeLog     // what Fetch serves; nil: a produce-only broker
	sent atomic.Int64 // response bytes written

	// delay, when set, holds every response back that long after its request was read, as a broker's own
	// work and the network would: requests then meet a request in flight, and records gather into batches
	// while they wait. Responses still leave in request order.
	delay time.Duration

	mu      sync.Mutex
	offsets map[int32]int64 // next offset per partition
	records int64           // records taken, all partitions
}

// The versions the fake offers: Produce 11 and Fetch 12 (topic names; what Kafka 3.x brokers speak), Metadata 12.
var fakeVersions = map[int16][2]int16{
	0:  {3, 11}, // Produce
	1:  {4, 12}, // Fetch (12: the newest naming topics)
	2:  {1, 7},  // ListOffsets
	3:  {0, 12}, // Metadata
	18: {0, 3},  // ApiVersions
	22: {0, 4},  // InitProducerId
}

func newFakeBroker(tb testing.TB, topic string, partitions int32) *fakeBroker {
	tb.Helper()
	fb, err := startFakeBroker(topic, partitions, 0)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(fb.close)
	return fb
}

// startFakeBroker starts a fake broker that runs until close, answering delay after each request.
func startFakeBroker(topic string, partitions int32, delay time.Duration) (*fakeBroker, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	fb := &fakeBroker{ln: ln, topic: topic, partitions: partitions, delay: delay, offsets: map[int32]int64{},
		closed: make(chan struct{})}
	go fb.accept()
	return fb, nil
}

// close stops accepting connections; those open end when their client closes them.
func (fb *fakeBroker) close() {
	fb.closeOnce.Do(func() {
		close(fb.closed)
		fb.ln.Close()
	})
}

func (fb *fakeBroker) addr() string { return fb.ln.Addr().String() }

func (fb *fakeBroker) taken() int64 {
	fb.mu.Lock()
	defer fb.mu.Unlock()
	return fb.records
}

func (fb *fakeBroker) accept() {
	for {
		c, err := fb.ln.Accept()
		if err != nil {
			return
		}
		go fb.serve(c)
	}
}

// delayedResponse is a response frame due at a time.
type delayedResponse struct {
	due   time.Time
	frame []byte
}

// writeDelayed writes the responses of ch as each falls due, in order, until ch closes.
func writeDelayed(c net.Conn, ch <-chan delayedResponse) {
	w := bufio.NewWriterSize(c, 64<<10)
	for r := range ch {
		if d := time.Until(r.due); d > 0 {
			time.Sleep(d)
		}
		if _, err := w.Write(r.frame); err != nil {
			c.Close()
			break
		}
		if len(ch) == 0 && w.Flush() != nil {
			c.Close()
			break
		}
	}
	for range ch { // drain: serve ends once the connection is closed
	}
}

// serve answers c's requests in order until it closes.
func (fb *fakeBroker) serve(c net.Conn) {
	defer c.Close()
	var arena []byte
	r := bufio.NewReaderSize(c, 1<<20)
	w := bufio.NewWriterSize(c, 64<<10)
	var delayed chan delayedResponse
	if fb.delay > 0 {
		delayed = make(chan delayedResponse, 4096)
		defer close(delayed)
		go writeDelayed(c, delayed)
	}
	var frame, out []byte
	for {
		var size [4]byte
		if _, err := io.ReadFull(r, size[:]); err != nil {
			return
		}
		n := int(binary.BigEndian.Uint32(size[:]))
		if cap(frame) < n {
			frame = make([]byte, n)
		}
		frame = frame[:n]
		if _, err := io.ReadFull(r, frame); err != nil {
			return
		}
		resp, corr, flexible, err := fb.handle(frame, &arena)
		if err != nil {
			return
		}
		if resp == nil { // acks=0
			continue
		}
		out = append(out[:0], 0, 0, 0, 0)
		out = binary.BigEndian.AppendUint32(out, uint32(corr))
		if flexible && resp.Key() != 18 { // ApiVersions answers with header v0 always
			out = append(out, 0)
		}
		out = resp.AppendTo(out)
		binary.BigEndian.PutUint32(out, uint32(len(out)-4))
		if delayed != nil {
			delayed <- delayedResponse{due: time.Now().Add(fb.delay), frame: slices.Clone(out)}
			continue
		}
		if _, err := w.Write(out); err != nil {
			return
		}
		fb.sent.Add(int64(len(out)))
		if r.Buffered() == 0 {
			if err := w.Flush(); err != nil {
				return
			}
		}
	}
}

var errFake = errors.New("fake broker: bad request")

// handle decodes one request frame and returns its response (nil for acks=0 Produce).
func (fb *fakeBroker) handle(frame []byte, arena *[]byte) (kmsg.Response, int32, bool, error) {
	if len(frame) < 10 {
		return nil, 0, false, errFake
	}
	key := int16(binary.BigEndian.Uint16(frame))
	version := int16(binary.BigEndian.Uint16(frame[2:]))
	corr := int32(binary.BigEndian.Uint32(frame[4:]))
	body := frame[8:]
	idLen := int(int16(binary.BigEndian.Uint16(body)))
	body = body[2:]
	if idLen > 0 {
		body = body[idLen:]
	}
	req := kmsg.RequestForKey(key)
	if req == nil {
		return nil, 0, false, errFake
	}
	req.SetVersion(version)
	if req.IsFlexible() {
		var err error
		if body, err = skipTags(body); err != nil {
			return nil, 0, false, err
		}
	}
	if u, ok := req.(kmsg.UnsafeReadFrom); ok {
		if err := u.UnsafeReadFrom(body); err != nil {
			return nil, 0, false, err
		}
	} else if err := req.ReadFrom(body); err != nil {
		return nil, 0, false, err
	}
	resp := req.ResponseKind()
	resp.SetVersion(version)
	switch r := req.(type) {
	case *kmsg.ApiVersionsRequest:
		ar := resp.(*kmsg.ApiVersionsResponse)
		if version > 3 {
			ar.SetVersion(0)
			ar.ErrorCode = 35 // UNSUPPORTED_VERSION: the client retries at v0
		}
		for k, v := range fakeVersions {
			ar.ApiKeys = append(ar.ApiKeys, kmsg.ApiVersionsResponseApiKey{ApiKey: k, MinVersion: v[0], MaxVersion: v[1]})
		}
	case *kmsg.MetadataRequest:
		fb.metadata(resp.(*kmsg.MetadataResponse))
	case *kmsg.InitProducerIDRequest:
		ir := resp.(*kmsg.InitProducerIDResponse)
		ir.ProducerID, ir.ProducerEpoch = 1, 0
	case *kmsg.ProduceRequest:
		if r.Acks == 0 {
			fb.produce(r, nil)
			return nil, corr, false, nil
		}
		fb.produce(r, resp.(*kmsg.ProduceResponse))
	case *kmsg.ListOffsetsRequest:
		fb.listOffsets(r, resp.(*kmsg.ListOffsetsResponse))
	case *kmsg.FetchRequest:
		if fb.log == nil {
			return nil, 0, false, fmt.Errorf("fake broker: Fetch without a log: %w", errFake)
		}
		*arena = fb.fetch(r, resp.(*kmsg.FetchResponse), *arena)
	default:
		return nil, 0, false, fmt.Errorf("fake broker: API %d: %w", key, errFake)
	}
	return resp, corr, resp.IsFlexible(), nil
}

func (fb *fakeBroker) metadata(m *kmsg.MetadataResponse) {
	host, port, _ := net.SplitHostPort(fb.addr())
	p, _ := strconv.Atoi(port)
	cluster := "fake"
	m.ClusterID = &cluster
	m.ControllerID = 0
	m.Brokers = []kmsg.MetadataResponseBroker{{NodeID: 0, Host: host, Port: int32(p)}}
	t := kmsg.NewMetadataResponseTopic()
	name := fb.topic
	t.Topic = &name
	t.TopicID = [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	for i := range fb.partitions {
		pt := kmsg.NewMetadataResponseTopicPartition()
		pt.Partition, pt.Leader, pt.Replicas, pt.ISR = i, 0, []int32{0}, []int32{0}
		t.Partitions = append(t.Partitions, pt)
	}
	m.Topics = []kmsg.MetadataResponseTopic{t}
}

// produce acknowledges every batch at the partition's next offset. The record count is read from each batch
// header (last offset delta + 1); the records themselves are not looked at.
func (fb *fakeBroker) produce(r *kmsg.ProduceRequest, resp *kmsg.ProduceResponse) {
	fb.mu.Lock()
	defer fb.mu.Unlock()
	for _, t := range r.Topics {
		rt := kmsg.NewProduceResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			n := int64(0)
			for b := p.Records; len(b) >= 61; {
				l := int(binary.BigEndian.Uint32(b[8:]))
				n += int64(binary.BigEndian.Uint32(b[23:])) + 1
				if 12+l > len(b) {
					break
				}
				b = b[12+l:]
			}
			rp := kmsg.NewProduceResponseTopicPartition()
			rp.Partition = p.Partition
			rp.BaseOffset = fb.offsets[p.Partition]
			fb.offsets[p.Partition] += n
			fb.records += n
			rt.Partitions = append(rt.Partitions, rp)
		}
		if resp != nil {
			resp.Topics = append(resp.Topics, rt)
		}
	}
}

// skipTags skips a flexible request header's tagged fields.
func skipTags(b []byte) ([]byte, error) {
	n, k := binary.Uvarint(b)
	if k <= 0 {
		return nil, errFake
	}
	b = b[k:]
	for range n {
		_, k1 := binary.Uvarint(b)
		if k1 <= 0 {
			return nil, errFake
		}
		size, k2 := binary.Uvarint(b[k1:])
		if k2 <= 0 || uint64(len(b)) < uint64(k1+k2)+size {
			return nil, errFake
		}
		b = b[k1+k2+int(size):]
	}
	return b, nil
}
