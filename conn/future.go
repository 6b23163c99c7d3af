package conn

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/protocol"
)

// ResponseFuture is the response to one request, which arrives later. Get
// waits for it. A future is completed exactly once, either with the raw
// response frame or with an error; it is safe for concurrent use, and Get
// may be called any number of times.
//
// Futures are not pooled: a caller may keep one, and the request it refers
// to, for as long as it likes.
type ResponseFuture struct {
	req      protocol.Request
	version  int16
	corrID   int32
	address  string
	timeout  time.Duration
	deadline time.Time
	done     handler.Event
	obs      *observed // nil unless the connection has an Observer
	watch    Watcher   // sees the response arrive; may be nil

	// Written once before done is set, read only after.
	frame []byte
	err   error

	decodeOnce sync.Once
	resp       protocol.Message
	respErr    error
	decoded    atomic.Bool // decode has run
	recycled   atomic.Bool // the frame went back to the handler's pool

	hookMu    sync.Mutex
	completed bool                    // complete ran; hooks added later run at once
	hooks     []func(*ResponseFuture) // OnDone callbacks not yet run
}

// observed is what a future of an observed connection keeps for its
// report, apart so that unobserved futures stay small.
type observed struct {
	o       Observer
	h       handler.Handler
	written time.Time
	readAt  time.Time // set by onFrame before the future completes
}

// complete records the outcome, releases waiters and runs the OnDone hooks.
// It runs on the connection's read path (possibly an event loop), with no
// lock held, so it only stores and hands over.
func (f *ResponseFuture) complete(frame []byte, err error) {
	f.frame, f.err = frame, err
	f.done.Set()
	f.hookMu.Lock()
	f.completed = true
	hooks := f.hooks
	f.hooks = nil
	f.hookMu.Unlock()
	for _, fn := range hooks {
		fn(f)
	}
}

// OnDone arranges for fn to be called once with f when the response (or the
// error that replaces it) arrives, so a caller with many requests in flight
// needs no task waiting on each. If f is done already, fn runs at once on
// the calling goroutine; a nil future (no response expected) calls fn(nil)
// at once. Hooks run in the order they were added.
//
// fn otherwise runs on the connection's read path, which may be an event
// loop serving every connection: it must not block, and it should not call
// Get, which decodes — hand f to a task instead (Queue.TryPut, Event.Set),
// and call Get there, where it returns without waiting.
func (f *ResponseFuture) OnDone(fn func(*ResponseFuture)) {
	if f == nil {
		fn(nil)
		return
	}
	f.hookMu.Lock()
	if f.completed {
		f.hookMu.Unlock()
		fn(f)
		return
	}
	f.hooks = append(f.hooks, fn)
	f.hookMu.Unlock()
}

// Get waits for the response and returns it decoded into the request's
// response type (req.NewResponse()) at the version the request was sent at.
// It returns ctx.Err() if ctx ends first; the request stays in flight and a
// later Get can still collect it. A broken connection gives a
// *DisconnectedError, an undecodable response a *ResponseError. Decoding
// happens once, on the first Get that finds the response; later calls
// return the same message.
//
// A nil future (a request the broker does not answer, such as a Produce with
// Acks 0) returns (nil, nil) at once.
func (f *ResponseFuture) Get(ctx context.Context) (protocol.Message, error) {
	if f == nil {
		return nil, nil
	}
	if !f.done.IsSet() {
		if err := f.done.Wait(ctx); err != nil {
			return nil, err
		}
	}
	// decode also reports a connection error, once, to the Observer.
	f.decodeOnce.Do(f.decode)
	return f.resp, f.respErr
}

// wait blocks until the future completes and returns the connection error,
// if any, or ctx.Err().
func (f *ResponseFuture) wait(ctx context.Context) error {
	if !f.done.IsSet() {
		if err := f.done.Wait(ctx); err != nil {
			return err
		}
	}
	return f.err
}

func (f *ResponseFuture) decode() {
	defer f.decoded.Store(true)
	if f.obs != nil {
		start := f.obs.h.Now()
		defer func() { f.observe(start, f.resp, f.respErr) }()
	}
	if f.err != nil {
		f.respErr = f.err
		return
	}
	resp := f.req.NewResponse()
	if _, err := protocol.DecodeResponseFrame(f.frame, resp, f.version); err != nil {
		f.respErr = &ResponseError{Address: f.address, APIKey: f.req.APIKey(), Version: f.version, Err: err}
		return
	}
	f.resp = resp
}

// observe reports the response to the Observer once its decoding, which
// began at start, is done. It runs on the caller of Get.
func (f *ResponseFuture) observe(start time.Time, resp protocol.Message, err error) {
	info := ResponseInfo{Address: f.address, APIKey: f.req.APIKey(), Version: f.version, Err: err}
	if f.err == nil {
		info.Bytes = len(f.frame) + 4
		info.Wire = f.obs.readAt.Sub(f.obs.written)
		info.Decode = f.obs.h.Now().Sub(start)
	}
	if resp != nil {
		info.Throttle = throttleOf(resp)
	}
	f.obs.o.ResponseRead(info)
}

// RecycleFrame hands the response frame back to the handler's pool
// (handler.RecycleFrame) once Get has decoded it, so the next large response
// is read into it instead of into freshly zeroed memory. Call it only when
// nothing decoded from the response is used any more: the decoded message's
// byte fields (a Fetch response's records) alias the frame and will be
// overwritten. Later Gets return the same message, whose byte fields must
// then not be read. It does nothing before the response is decoded, when the
// future failed, and after the first call.
func (f *ResponseFuture) RecycleFrame() {
	if f == nil || !f.decoded.Load() || f.resp == nil || !f.recycled.CompareAndSwap(false, true) {
		return
	}
	frame := f.frame
	f.frame = nil
	handler.RecycleFrame(frame)
}

// Done reports, without blocking, whether the response (or the error that
// replaces it) has arrived, i.e. whether Get would return at once. A nil
// future is always done.
func (f *ResponseFuture) Done() bool {
	return f == nil || f.done.IsSet()
}

// Version returns the version the request was sent at.
func (f *ResponseFuture) Version() int16 { return f.version }

// APIKey returns the key of the request's API.
func (f *ResponseFuture) APIKey() int16 { return f.req.APIKey() }

// CorrelationID returns the id the request was sent with.
func (f *ResponseFuture) CorrelationID() int32 { return f.corrID }

// Request returns the request this future answers.
func (f *ResponseFuture) Request() protocol.Request { return f.req }
