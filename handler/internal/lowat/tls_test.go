package lowat

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// record is a TLS record header for a payload of n bytes of type typ.
func record(typ byte, n int) []byte {
	return []byte{typ, 3, 3, byte(n >> 8), byte(n)}
}

func TestRecordsRest(t *testing.T) {
	var r Records
	assert.Zero(t, r.Rest(0), "between frames nothing is promised")
	assert.Equal(t, 5+100, r.Rest(100), "at a record boundary: a header, then the plaintext")

	// A header in two pieces, then part of its 16 KiB payload.
	h := record(tlsAppData, 16<<10)
	r.Track(h[:2])
	assert.Equal(t, 3+1000, r.Rest(1000), "the header's missing bytes, then the plaintext")
	r.Track(h[2:])
	r.Track(make([]byte, 10<<10))
	assert.Equal(t, 6<<10, r.Rest(1000), "plaintext the record can hold: only its missing bytes are sure")
	assert.Equal(t, 6<<10+(200<<10-16<<10), r.Rest(200<<10),
		"beyond what the record can hold, the rest comes in later records")
	assert.Equal(t, r.Rest(200<<10), r.MarkRest(200<<10), "below the cap, the mark is the rest")
	assert.Equal(t, TLSMax, r.MarkRest(4<<20), "the mark is capped")

	// The record ends, and the next begins in the same read.
	next := record(tlsAppData, 300)
	r.Track(append(make([]byte, 6<<10), next[:4]...))
	assert.Equal(t, 1+50, r.Rest(50))
	r.Track(next[4:])
	r.Track(make([]byte, 300))
	assert.Equal(t, 5+50, r.Rest(50), "back at a boundary")

	// An empty record is over with its header.
	r.Track(record(tlsAppData, 0))
	assert.Equal(t, 5+50, r.Rest(50))
}

// An alert (or any record but application data) in progress promises
// nothing: crypto/tls may be peeking at it with plaintext just handed out.
func TestRecordsRestAlert(t *testing.T) {
	var r Records
	r.Track(record(21, 2)[:3])
	assert.Zero(t, r.Rest(1<<20))
	r.Track([]byte{0, 2, 1})
	assert.Zero(t, r.Rest(1<<20))
	r.Track([]byte{0})
	assert.Equal(t, 5+(1<<20), r.Rest(1<<20), "after the alert, a record boundary")
}

// Tracking in any split of the stream ends in the same state.
func TestRecordsTrackSplits(t *testing.T) {
	var stream []byte
	for _, n := range []int{16 << 10, 1, 0, 300, 16<<10 + 256} {
		stream = append(stream, record(tlsAppData, n)...)
		stream = append(stream, make([]byte, n)...)
	}
	stream = append(stream, record(tlsAppData, 9000)...)
	stream = append(stream, make([]byte, 1234)...)
	var whole Records
	whole.Track(stream)
	for _, step := range []int{1, 2, 3, 5, 7, 4096, 16<<10 + 3} {
		var r Records
		for i := 0; i < len(stream); i += step {
			r.Track(stream[i:min(i+step, len(stream))])
		}
		assert.Equal(t, whole, r, "step %d", step)
	}
	assert.Equal(t, 9000-1234, whole.Rest(10))
}

// FuzzRecordsTrack: whatever bytes arrive, in whatever pieces, tracking
// ends in the same state, and Rest never promises less than the current
// record's missing bytes or more than they and the plaintext together.
func FuzzRecordsTrack(f *testing.F) {
	f.Add(append(record(tlsAppData, 3), 1, 2, 3), uint16(2), 100)
	f.Add(record(21, 2), uint16(1), 1<<20)
	f.Fuzz(func(t *testing.T, stream []byte, step uint16, plain int) {
		var whole Records
		whole.Track(stream)
		var r Records
		s := int(step) + 1
		for i := 0; i < len(stream); i += s {
			r.Track(stream[i:min(i+s, len(stream))])
		}
		if r != whole {
			t.Fatalf("split by %d: %+v, whole: %+v", s, r, whole)
		}
		rest := r.Rest(plain)
		if plain <= 0 || r.nhdr > 0 && r.hdr[0] != tlsAppData {
			if rest != 0 {
				t.Fatalf("Rest(%d) = %d, want 0", plain, rest)
			}
			return
		}
		missing := tlsHeader - r.nhdr
		if r.nhdr == tlsHeader {
			missing = r.recLeft
		}
		if rest < missing || rest > missing+plain {
			t.Fatalf("Rest(%d) = %d with %d of the record missing", plain, rest, missing)
		}
	})
}
