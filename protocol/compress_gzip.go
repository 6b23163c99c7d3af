package protocol

import (
	"bytes"
	"encoding/binary"
	"io"
	"slices"
	"sync"

	"github.com/klauspost/compress/gzip"
)

type codecGzipWriter struct {
	zw  *gzip.Writer
	out codecAppender
}

type codecGzipReader struct {
	zr gzip.Reader
	in bytes.Reader
}

var (
	codecGzipWriters = sync.Pool{New: func() any {
		w := &codecGzipWriter{}
		w.zw, _ = gzip.NewWriterLevel(&w.out, gzip.DefaultCompression)
		return w
	}}
	codecGzipReaders = sync.Pool{New: func() any { return new(codecGzipReader) }}
)

func codecGzipCompress(dst, src []byte) ([]byte, error) {
	w := codecGzipWriters.Get().(*codecGzipWriter)
	w.out.b = dst
	w.zw.Reset(&w.out)
	_, err := w.zw.Write(src)
	if err == nil {
		err = w.zw.Close()
	}
	dst = w.out.b
	w.out.b = nil
	codecGzipWriters.Put(w)
	return dst, err
}

func codecGzipDecompress(dst, src []byte, limit int) ([]byte, error) {
	r := codecGzipReaders.Get().(*codecGzipReader)
	defer codecGzipReaders.Put(r)
	r.in.Reset(src)
	if err := r.zr.Reset(&r.in); err != nil {
		return dst, codecCorrupt(CompressionGzip, "bad header", err)
	}
	start := len(dst)
	// The trailer's ISIZE is the last member's length mod 2^32: only a hint,
	// and never trusted past the cap.
	if n := len(src); n >= 18 {
		if hint := int(binary.LittleEndian.Uint32(src[n-4:])); hint > 0 {
			dst = slices.Grow(dst, min(hint, limit)+1)
		}
	}
	for {
		if len(dst) == cap(dst) {
			dst = slices.Grow(dst, min(max(cap(dst)-start, 4096), limit+1-(len(dst)-start)))
		}
		// Never read more than one byte past the cap, so a bomb stops there.
		room := min(cap(dst)-len(dst), limit+1-(len(dst)-start))
		n, err := r.zr.Read(dst[len(dst) : len(dst)+room])
		dst = dst[:len(dst)+n]
		if len(dst)-start > limit {
			return dst[:start], ErrDecompressedTooLarge
		}
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst[:start], codecCorrupt(CompressionGzip, "bad stream", err)
		}
	}
}
