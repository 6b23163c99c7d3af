package handler_test

import (
	"context"
	"errors"
	"io"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/gregorkafka/gregor/handler"
)

func TestErrorsMatch(t *testing.T) {
	de := error(&handler.DialError{Address: "b:9092", Err: context.DeadlineExceeded})
	assert.ErrorIs(t, de, context.DeadlineExceeded)
	assert.Contains(t, de.Error(), "b:9092")

	ce := error(&handler.ConnError{Op: "read", Addr: "b:9092", Err: io.EOF})
	assert.ErrorIs(t, ce, io.EOF)
	assert.NotErrorIs(t, ce, io.ErrUnexpectedEOF)

	fe := error(&handler.ConnError{Op: "read", Err: &handler.FrameSizeError{Size: -1, Max: 10}})
	assert.ErrorIs(t, fe, handler.ErrFrameTooLarge)
	var fse *handler.FrameSizeError
	assert.True(t, errors.As(fe, &fse))
	assert.Equal(t, int32(-1), fse.Size)

	we := error(&handler.ConnError{Op: "write", Err: syscall.EPIPE})
	assert.ErrorIs(t, we, syscall.EPIPE)
	assert.NotErrorIs(t, we, handler.ErrFrameTooLarge)
}

func TestFrameSizeErrorSpotsTLS(t *testing.T) {
	// A TLS 1.2 alert record header: 0x15 0x03 0x03, then the length's high byte.
	alert := &handler.FrameSizeError{Size: 0x15030300, Max: handler.DefaultMaxFrameSize}
	assert.ErrorIs(t, alert, handler.ErrTLSRecord)
	assert.ErrorIs(t, alert, handler.ErrFrameTooLarge)
	assert.Contains(t, alert.Error(), "expects TLS")

	plain := &handler.FrameSizeError{Size: 0x30000000, Max: handler.DefaultMaxFrameSize}
	assert.NotErrorIs(t, plain, handler.ErrTLSRecord)
	assert.NotContains(t, plain.Error(), "TLS")
	assert.NotErrorIs(t, &handler.FrameSizeError{Size: -1, Max: 10}, handler.ErrTLSRecord)
}
