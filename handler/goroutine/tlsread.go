package goroutine

import (
	"net"

	"github.com/gregorkafka/gregor/handler/internal/lowat"
)

// tlsReadBuf sizes the ciphertext read buffer under crypto/tls.
const tlsReadBuf = 128 << 10

// tlsSource is the socket as crypto/tls reads it. crypto/tls asks for about
// a record (16 KiB) at a time; this reads whatever the kernel holds, up to
// tlsReadBuf, and hands it out from memory. While the rest of a large frame
// is on its way it raises the socket's low-water mark to ciphertext the
// peer is sure to send (lowat.Records), as the plain-TCP reader does. For a
// TLS consumer of 10 KiB records the two took more than half off the
// system time. Writes go through tlsGather.
type tlsSource struct {
	*net.TCPConn
	tlsGather
	mr   *markReader // nil where the mark is not used
	rest func() int  // plaintext the current frame still needs; nil until the reader starts
	recs lowat.Records
	buf  []byte
	r, w int
}

func newTLSSource(tc *net.TCPConn) *tlsSource {
	return &tlsSource{TCPConn: tc, tlsGather: tlsGather{direct: tc.Write}, mr: newMarkReader(tc),
		buf: make([]byte, tlsReadBuf)}
}

// Read is called by crypto/tls only, under its input lock: during the
// handshake on Dial's goroutine, then on the reader goroutine. crypto/tls
// reads only once it has handed out all it decrypted.
func (s *tlsSource) Read(p []byte) (int, error) {
	if s.r == s.w {
		var n int
		var err error
		if s.mr != nil {
			n, err = s.mr.read(s.buf, s.want())
		} else {
			n, err = s.TCPConn.Read(s.buf)
		}
		if n <= 0 {
			return 0, err
		}
		s.recs.Track(s.buf[:n])
		s.r, s.w = 0, n
	}
	n := copy(p, s.buf[s.r:s.w])
	s.r += n
	return n, nil
}

// want is the mark's rest: the ciphertext the peer is sure to send next.
func (s *tlsSource) want() int {
	if s.rest == nil {
		return 0
	}
	return s.recs.MarkRest(s.rest())
}
