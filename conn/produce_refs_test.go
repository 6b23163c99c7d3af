package conn

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/protocol"
)

// valueSource is a RecordSource of values alone.
type valueSource [][]byte

func (s valueSource) Len() int { return len(s) }

func (s valueSource) Record(i int) (int64, []byte, []byte, []protocol.RecordHeader) {
	return 1_700_000_000_000 + int64(i), nil, s[i], nil
}

// TestProduceValuesLeftInPlace: a Produce request's large values go to the
// socket from the caller's slices (the handlers' connections gather), and
// the broker reads the request it would have read whole: every value,
// lengths and checksums right, from concurrent senders, some of whose
// requests queue behind another's write. The values are scribbled over as
// soon as Request returns: what the broker reads was taken before.
func TestProduceValuesLeftInPlace(t *testing.T) {
	const senders, perSender = 6, 12
	eachHandler(t, func(t *testing.T, h handler.Handler) {
		b := newFakeBroker(t)
		var mu sync.Mutex
		got := map[string][]byte{}
		b.setHandle(func(fc *fakeConn, r *fakeRequest) {
			if p, ok := r.msg.(*protocol.ProduceRequest); ok {
				var d protocol.RecordDecoder
				for _, part := range p.TopicData[0].PartitionData {
					recs, _, err := d.AppendRecords(nil, part.Records)
					if err != nil {
						t.Errorf("broker: partition %d: %v", part.Index, err)
						continue
					}
					mu.Lock()
					for _, rec := range recs {
						got[string(rec.Value[:8])] = bytes.Clone(rec.Value)
					}
					mu.Unlock()
				}
			}
			b.answer(fc, r)
		})
		c := dialed(t, h, b.addr(), Config{MaxInFlight: 64})
		ctx := guarded(t)
		want := map[string][]byte{}
		var wantMu sync.Mutex
		var wg sync.WaitGroup
		for s := range senders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range perSender {
					// Values below and above the threshold, one at it, in two partitions.
					sizes := []int{100, minRef - 1, minRef, 10 << 10, 300 << 10}
					var parts []protocol.ProduceRecordsPartition
					var all [][]byte
					for p := range 2 {
						var src valueSource
						for k, size := range sizes {
							v := bytes.Repeat([]byte{byte(s*31 + i*7 + k + p)}, size)
							binary.BigEndian.PutUint64(v, uint64(s<<32|i<<16|p<<8|k))
							src = append(src, v)
						}
						all = append(all, src...)
						parts = append(parts, protocol.ProduceRecordsPartition{Index: int32(p), Source: src,
							Batch: protocol.RecordBatch{ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1}})
					}
					wantMu.Lock()
					for _, v := range all {
						want[string(v[:8])] = bytes.Clone(v)
					}
					wantMu.Unlock()
					req := &protocol.ProduceRecordsRequest{Acks: 1, TimeoutMs: 1000, Topic: "t", Partitions: parts}
					f, err := c.Request(ctx, req)
					if err != nil {
						t.Errorf("sender %d request %d: %v", s, i, err)
						return
					}
					for _, v := range all {
						for j := 8; j < len(v); j++ {
							v[j] = 0xEE
						}
					}
					if _, err := f.Get(ctx); err != nil {
						t.Errorf("sender %d request %d: %v", s, i, err)
						return
					}
				}
			}()
		}
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		require.Equal(t, len(want), len(got), "values the broker read")
		for k, v := range want {
			if !assert.True(t, bytes.Equal(got[k], v), "value %x: %d bytes, want %d", k, len(got[k]), len(v)) {
				break
			}
		}
	})
}

// TestRefsPoolKeepsNothing: a request's refs go back to the pool holding
// no caller memory.
func TestRefsPoolKeepsNothing(t *testing.T) {
	f := refsPool.Get().(*frameRefs)
	req := &protocol.ProduceRecordsRequest{Acks: 1, TimeoutMs: 1000, Topic: "t",
		Partitions: []protocol.ProduceRecordsPartition{{Source: valueSource{make([]byte, minRef), make([]byte, 1)},
			Batch: protocol.RecordBatch{ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1}}}}
	buf, err := protocol.AppendRequestFrameRefs(nil, &f.r, req, 9, 1, nil)
	require.NoError(t, err)
	require.Len(t, f.r.Refs, 1, fmt.Sprint("values of at least ", minRef, " bytes"))
	require.Len(t, f.pieces(buf), 3)
	refs, ps := f.r.Refs[:cap(f.r.Refs)], f.ps[:cap(f.ps)]
	f.put()
	for _, r := range refs {
		assert.Nil(t, r.Data)
	}
	for _, p := range ps {
		assert.Nil(t, p)
	}
}
