package frame

import (
	"errors"
	"io"

	"github.com/gregorkafka/gregor/handler"
)

// ReadError turns the error that ended reading into the close reason
// reported to OnClose. End of stream becomes io.EOF, or io.ErrUnexpectedEOF
// when d holds part of a frame; errors already typed by the handler package
// (a frame size error) and anything else are kept as the cause.
func ReadError(addr string, d *Decoder, err error) error {
	if errors.Is(err, io.EOF) {
		err = io.EOF
		if d.Partial() {
			err = io.ErrUnexpectedEOF
		}
	}
	return &handler.ConnError{Op: "read", Addr: addr, Err: err}
}
