package kafka

import (
	"cmp"
	"slices"
	"time"

	"github.com/gregorkafka/gregor/protocol"
)

// fetchDecoder turns the records of Fetch responses into Messages. Each
// fetch loop has one; it is not safe for concurrent use.
type fetchDecoder struct {
	rd        protocol.RecordDecoder
	aborted   []protocol.FetchResponseAbortedTransaction
	abortedBy map[int64]bool // producers inside an aborted transaction
}

// decodeIn is one partition's share of a Fetch response.
type decodeIn struct {
	topic       string
	partition   int32
	records     []byte                  // complete entries only (see protocol.ScanRecords)
	checked     []protocol.CheckedBatch // records' batches verified as they arrived
	fetchOffset int64                   // the offset asked for; records before it are skipped
	count       int                     // the records protocol.ScanRecords counted, for sizing
	// maxCount is how far count is trusted beyond what the bytes could
	// hold uncompressed: the consumer's QueuedMaxMessages, memory its
	// configuration accepts anyway. Compressed batches of small records
	// hold far more than their bytes suggest.
	maxCount int
	// aborted lists the response's aborted transactions; with
	// readCommitted their records, and every transaction marker, are
	// skipped. Transaction markers are skipped in either mode.
	aborted       []protocol.FetchResponseAbortedTransaction
	readCommitted bool
}

// decodeOut is what decode makes of a decodeIn.
type decodeOut struct {
	msgs  []Message
	bytes int // the keys and values of msgs (messageBytes), counted as they are decoded
	// err is set when an entry failed to decode (a checksum mismatch, a
	// codec error); msgs holds the messages before it, and skipTo is the
	// offset after the entry.
	err    error
	skipTo int64
	// aliasesInput is set when a message's key, value or header values
	// point into in.records (an uncompressed batch delivered records):
	// the response frame must then outlive the messages.
	aliasesInput bool
	// gapAt is the first offset that should have come next but did not,
	// when a record arrived with a higher one outside what compaction of
	// whole batches and transaction markers explain; -1 when none.
	gapAt int64
}

func (d *fetchDecoder) decode(in *decodeIn) decodeOut {
	out := decodeOut{gapAt: -1, skipTo: -1}
	// Trust the scanned count for sizing only as far as the bytes could
	// hold it uncompressed or the queue may hold; a lying count beyond
	// that grows the slice batch by batch, as the records are parsed.
	out.msgs = make([]Message, 0, min(in.count, max(len(in.records)/7+1, in.maxCount)))

	rc := in.readCommitted && len(in.aborted) > 0
	if rc {
		d.aborted = append(d.aborted[:0], in.aborted...)
		slices.SortFunc(d.aborted, func(a, b protocol.FetchResponseAbortedTransaction) int {
			return cmp.Compare(a.FirstOffset, b.FirstOffset)
		})
		if d.abortedBy == nil {
			d.abortedBy = map[int64]bool{}
		}
		clear(d.abortedBy)
	}
	next := 0 // into d.aborted
	expect := in.fetchOffset
	topic, partition := in.topic, in.partition

	d.rd.MinOffset = in.fetchOffset
	// LZ4 batches decompress in place into chunks shared across batches:
	// no copy per batch. Messages hold them as they hold frames.
	d.rd.SharedBuffers = true
	d.rd.Checked = in.checked
	consumed, err := d.rd.EachBatch(in.records, func(b *protocol.RecordBatch, it *protocol.RecordIter) error {
		last := b.LastOffset()
		if rc {
			// A transaction is aborted from its first offset until its
			// producer's abort marker.
			for next < len(d.aborted) && d.aborted[next].FirstOffset <= last {
				d.abortedBy[d.aborted[next].ProducerID] = true
				next++
			}
		}
		if b.Control() {
			if rc {
				if r, ok := it.Next(); ok {
					if typ, ok := protocol.ParseRecordControlKey(r.Key); ok && typ == protocol.RecordControlAbort {
						delete(d.abortedBy, b.ProducerID)
					}
				}
			}
			expect = max(expect, last+1)
			return nil
		}
		if rc && b.Transactional() && d.abortedBy[b.ProducerID] {
			expect = max(expect, last+1)
			return nil
		}
		// The iterator's count is checked against the batch's
		// (decompressed) bytes, so it may size the slice.
		msgs := slices.Grow(out.msgs, it.Len())
		start := len(msgs)
		size := 0
		for {
			r, ok := it.Next()
			if !ok {
				break
			}
			if r.Offset > expect && out.gapAt < 0 {
				out.gapAt = expect
			}
			expect = r.Offset + 1
			// Field by field into the slice: copying a whole Message
			// literal in costs a bulk write barrier while the GC runs.
			msgs = msgs[:len(msgs)+1]
			m := &msgs[len(msgs)-1]
			m.Topic, m.Partition, m.Offset = topic, partition, r.Offset
			m.Key, m.Value, m.Headers = r.Key, r.Value, r.Headers
			size += len(r.Key) + len(r.Value)
			if r.Timestamp >= 0 {
				m.Timestamp = time.UnixMilli(r.Timestamp)
			}
		}
		if it.Err() != nil {
			clear(msgs[start:])
			out.msgs = msgs[:start]
			return nil // EachBatch returns the iterator's error
		}
		if len(msgs) > start && b.Compression() == protocol.CompressionNone {
			out.aliasesInput = true
		}
		out.msgs = msgs
		out.bytes += size
		expect = max(expect, last+1)
		return nil
	})
	if err != nil {
		out.err = err
		out.skipTo = protocol.EntryLastOffset(in.records[consumed:]) + 1
	}
	return out
}
