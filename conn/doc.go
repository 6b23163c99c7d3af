// Package conn speaks Kafka's request/response protocol over one broker
// connection: BrokerConnection sends requests, ResponseFuture delivers their
// answers.
//
// It sits between protocol (wire formats, no I/O) and kafka (the client).
// Every socket, task, wait and timer goes through the injected
// handler.Handler, so a connection runs the same on goroutines or on event
// loops.
//
// # Connecting
//
// Connect dials, then negotiates versions with ApiVersions: it asks at the
// highest version gregor implements, and a broker that does not know that
// version answers UNSUPPORTED_VERSION in the v0 layout together with the
// ApiVersions range it does know (KIP-511); the request is repeated once at
// the highest common version. The outcome is kept per connection as a
// *protocol.Versions, and Request picks from it. Config.Authenticate (SASL)
// runs next, before the connection counts as Connected. TLS is the
// handler's business: Config.TLSConfig is passed to its Dial.
//
// # Re-authentication
//
// Authenticate returns the session lifetime the broker granted. Before it
// ends (at a random 85 to 95% of it, as Kafka's Java client does), a
// handler timer runs Authenticate again on the live socket (KIP-368). Its
// requests are pipelined behind those already in flight, which the broker
// answers first; requests made after its first one wait until it is done,
// because the broker would take one arriving between two steps of the
// exchange for the next step. A failed re-authentication breaks the
// connection, with the *AuthError as the cause.
//
// # Pipelining and FIFO matching
//
// Many requests are in flight on one connection at once, up to
// Config.MaxInFlight; further callers wait for a slot. A broker reads the
// requests of one connection one at a time and answers them in order, so
// pending requests form a FIFO: a response must carry the correlation id of
// the oldest pending request. A response with any other id means the byte
// stream can no longer be trusted.
//
// FIFO order must be wire order, so a request is queued and its bytes are
// ordered under one lock. Writing is coalesced: a sender that finds the
// socket idle writes its own frame, without a copy; senders that arrive
// while that write is in progress append their frames to a buffer and
// return at once, and the writing sender sends the buffer before it
// returns. Under load, many requests thus share one write system call.
//
// A request the broker never answers (Produce with Acks 0) is written but
// not queued; Request returns a nil future for it.
//
// # Failure
//
// One dead connection fails every future on it, at once, with one
// *DisconnectedError (errors.Is(err, ErrDisconnected)) whose cause tells
// why: the peer closed or the socket failed (OnClose), a write failed, a
// response carried the wrong correlation id, the oldest request got no
// response within its timeout (the Java client also treats that as a broken
// connection), or Close. The socket is closed, and later requests fail at
// once with the same error until Reconnect. No caller is left waiting for a
// timeout that a broken socket has already made pointless.
//
// A caller whose context ends stops waiting and gets ctx.Err(); its request
// stays in the FIFO, since the broker will still answer it, and the
// response is dropped when nobody collects it. The other requests on the
// connection are not disturbed.
//
// # Decoding on the caller's side
//
// The handler delivers each response frame to a callback that may run on an
// event loop shared by many connections. That callback only reads the
// correlation id, pops the FIFO and hands the raw frame to the future.
// Decoding runs in Get, on the caller's goroutine: an expensive decode (a
// large Fetch) then costs the caller who wants it, never the event loop and
// the other connections behind it, and a response nobody waits for is never
// decoded at all.
//
// One thing does run on the read path: a request sent with RequestWatched
// has its Watcher shown the response as it arrives (the handler's
// DialConfig.OnPartialFrame, then the whole frame). A consumer's Fetch
// verifies its records' checksums so, each read while its bytes are still
// in the CPU's caches, rather than in a pass over a response of megabytes
// that has left them.
//
// # Completion by callback
//
// Waiting in Get costs a goroutine per request in flight. ResponseFuture.
// OnDone instead calls a hook when the response or its error arrives, on the
// read path: the hook hands the future to one task (a queue, an event),
// which then calls Get without waiting. So a producer or fetcher with many
// requests in flight needs one task, not one per request. Hooks must not
// block and should not decode.
//
// # Observing
//
// Config.Observer, when set, hears of connects, disconnects, requests
// written and responses read, with sizes and times. It is never called from
// that callback: a response is reported by the Get that decodes it, a lost
// socket from a handler task. Unset, it costs nothing.
package conn
