package lowat

// TLSMax caps the mark under TLS (Records.MarkRest). The ciphertext is read into a buffer a
// fraction of this size and decrypted piece by piece, so a larger mark only
// lengthens the pause in which nothing is decrypted: with 256 KiB a TLS
// consumer of multi-megabyte Fetch responses spent less CPU than with 4 MiB
// and kept its throughput, which 4 MiB did not.
const TLSMax = 256 << 10

// tlsHeader is a TLS record's header: content type, version, payload length.
const tlsHeader = 5

// tlsAppData is the content type of records that carry the frames (and,
// under TLS 1.3, of every record after the handshake).
const tlsAppData = 23

// Records follows the record boundaries of the ciphertext a TLS client
// reads, to tell how much of it the peer is sure to send next. The zero
// value is at the start of the stream; every byte read from the socket must
// pass through Track, in order.
type Records struct {
	hdr     [tlsHeader]byte
	nhdr    int // header bytes of the current record seen
	recLen  int // its payload length, once the header is whole
	recLeft int // payload bytes still to come
}

// Track advances past b, the bytes just read from the socket.
func (r *Records) Track(b []byte) {
	for len(b) > 0 {
		if r.nhdr < tlsHeader {
			k := copy(r.hdr[r.nhdr:], b)
			r.nhdr += k
			b = b[k:]
			if r.nhdr == tlsHeader {
				r.recLen = int(r.hdr[3])<<8 | int(r.hdr[4])
				r.recLeft = r.recLen
				if r.recLen == 0 {
					r.nhdr = 0
				}
			}
			continue
		}
		k := min(r.recLeft, len(b))
		r.recLeft -= k
		b = b[k:]
		if r.recLeft == 0 {
			r.nhdr = 0
		}
	}
}

// Rest returns the ciphertext the peer is sure to send next, given plain
// bytes of a frame that crypto/tls has not yet handed out. It holds when
// crypto/tls has handed out all it decrypted and keeps no whole record
// undecrypted, which is so whenever its Read asks the socket for more: the
// plaintext still to come then travels in the record being read and in
// records after it, each at least as long as the plaintext it carries. So
// the record's missing bytes are sure to come, and whatever of plain the
// record's payload cannot hold is sure to come after them. Zero plain
// (between frames) promises nothing, and so does a record of another
// type: crypto/tls also reads to peek at an alert right after handing out
// plaintext, when plain may be out of date.
func (r *Records) Rest(plain int) int {
	if plain <= 0 || r.nhdr > 0 && r.hdr[0] != tlsAppData {
		return 0
	}
	if r.nhdr < tlsHeader {
		return tlsHeader - r.nhdr + plain
	}
	return r.recLeft + max(0, plain-r.recLen)
}

// MarkRest is the rest a TLS reader hands Mark.Adjust: Rest, capped at
// TLSMax.
func (r *Records) MarkRest(plain int) int {
	return min(r.Rest(plain), TLSMax)
}
