package handlertest

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
)

// The Vector group holds a handler's connections to handler.VectorWriter:
// what WriteVec sends is what Write of the joined pieces would.
var vectorTests = []test{
	{"RoundTrip", testVecRoundTrip},
	{"DoesNotKeepPieces", testVecDoesNotKeepPieces},
	{"ConcurrentWithWrite", testVecConcurrent},
	{"BackPressure", testVecBackPressure},
	{"CloseReleasesBlockedWriter", testVecCloseReleasesBlockedWriter},
	{"TLS", testVecTLS},
}

// vectorWriter returns c as a VectorWriter: both handlers' connections are.
func vectorWriter(t testing.TB, c handler.Conn) handler.VectorWriter {
	t.Helper()
	vw, ok := c.(handler.VectorWriter)
	require.True(t, ok, "%T does not implement handler.VectorWriter", c)
	return vw
}

// cut splits b into pieces of the given sizes in turn (zero: an empty
// piece), as a request with values left in place comes.
func cut(b []byte, sizes ...int) [][]byte {
	var out [][]byte
	for i := 0; len(b) > 0; i++ {
		n := min(sizes[i%len(sizes)], len(b))
		out = append(out, b[:n:n])
		b = b[n:]
	}
	return out
}

// writeVec writes b as pieces of 17 bytes, 10 KiB and nothing, in turn.
func writeVec(c handler.Conn, b []byte) error {
	return c.(handler.VectorWriter).WriteVec(cut(b, 17, 10<<10, 0))
}

// vecFrames are frames to send in pieces: small and large, one larger than
// the event loop's direct-write threshold and one of more pieces than a
// writev takes.
func vecFrames() [][]byte {
	big := make([]byte, 8<<20)
	for i := range big {
		big[i] = byte(i>>10) ^ byte(i)
	}
	many := bytes.Repeat([]byte("0123456789"), 4000) // 40,000 bytes in 1-byte pieces below
	return [][]byte{[]byte("hello"), {}, big, many, bytes.Repeat([]byte{7}, 100<<10)}
}

func testVecRoundTrip(t *testing.T, h handler.Handler) {
	r := newRecorder()
	c := dialEcho(t, h, r)
	vw := vectorWriter(t, c)
	want := vecFrames()
	for i, f := range want {
		frame := AppendFrame(nil, f)
		pieces := cut(frame, 17, 10<<10, 0)
		if i == 3 {
			pieces = cut(frame, 1) // 40,004 pieces: writev takes at most 1,024 at a time
		}
		require.NoError(t, vw.WriteVec(pieces))
		require.NoError(t, c.Write(AppendFrame(nil, []byte{byte(i)})), "Write between WriteVecs")
	}
	require.NoError(t, vw.WriteVec(nil), "an empty WriteVec is a no-op")
	require.NoError(t, vw.WriteVec([][]byte{{}, {}}), "so is one of empty pieces")
	var all [][]byte
	for i, f := range want {
		all = append(all, f, []byte{byte(i)})
	}
	requireFrames(t, all, r.waitFrames(t, len(all)))
	require.NoError(t, c.Close())
	require.NoError(t, r.waitClosed(t))
	r.check(t)
}

// testVecDoesNotKeepPieces scribbles over the pieces once WriteVec returns,
// as a producer reusing a value after its report would.
func testVecDoesNotKeepPieces(t *testing.T, h handler.Handler) {
	r := newRecorder()
	c := dialEcho(t, h, r)
	vw := vectorWriter(t, c)
	var want [][]byte
	for i := 0; i < 40; i++ {
		payload := bytes.Repeat([]byte{byte(i)}, 1+i*7919%(200<<10))
		want = append(want, payload)
		frame := AppendFrame(nil, payload)
		require.NoError(t, vw.WriteVec(cut(frame, 3, 64<<10)))
		for j := range frame {
			frame[j] = 0xEE
		}
	}
	requireFrames(t, want, r.waitFrames(t, len(want)))
	require.NoError(t, c.Close())
	require.NoError(t, r.waitClosed(t))
}

// testVecConcurrent: writers mixing Write and WriteVec never interleave
// each other's bytes.
func testVecConcurrent(t *testing.T, h handler.Handler) {
	concurrentWriters(t, h, 8, 60, []int{5, 1000, 70000, 300 << 10}, func(c handler.Conn, w, s int, b []byte) error {
		if (w+s)%2 == 0 {
			return writeVec(c, b)
		}
		return c.Write(b)
	})
}

// testVecBackPressure is testWriteBackPressure through WriteVec: the
// writer waits once the peer stops reading (in the kernel's refusal too,
// with pieces left), and every byte arrives in order once it reads again.
func testVecBackPressure(t *testing.T, h handler.Handler) {
	for _, size := range []int{16 << 10, 96 << 10} {
		t.Run(fmt.Sprintf("frame=%dKiB", size>>10), func(t *testing.T) { writeBackPressure(t, h, size, writeVec) })
	}
}

func testVecCloseReleasesBlockedWriter(t *testing.T, h handler.Handler) {
	for _, size := range []int{32 << 10, 96 << 10} {
		t.Run(fmt.Sprintf("frame=%dKiB", size>>10), func(t *testing.T) { closeReleasesBlockedWriter(t, h, size, writeVec) })
	}
}

// testVecTLS: over TLS the pieces are encrypted as one Write's bytes,
// pieces smaller than a record and pieces of several records alike.
func testVecTLS(t *testing.T, h handler.Handler) {
	r := newRecorder()
	c, _ := dialTLSEcho(t, h, r)
	var want [][]byte
	for _, f := range vecFrames() {
		require.NoError(t, writeVec(c, AppendFrame(nil, f)))
		require.NoError(t, c.(handler.VectorWriter).WriteVec(cut(AppendFrame(nil, f), 3, 100<<10, 16<<10)))
		want = append(want, f, f)
	}
	requireFrames(t, want, r.waitFrames(t, len(want)))
	require.NoError(t, c.Close())
	require.NoError(t, r.waitClosed(t))
}
