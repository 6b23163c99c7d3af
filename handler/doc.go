// Package handler is gregor's runtime contract: the one place the client gets
// concurrency, time and sockets from.
//
// A service picks its runtime when it builds the client, the way net/http
// takes a Transport. Everything above this package (conn/, kafka/) spawns
// tasks, waits, sleeps and dials brokers only through the injected Handler,
// so the whole client runs on the runtime the service chose:
//
//   - handler/goroutine: goroutines, channels and net.Conn; one reader
//     goroutine per connection. The default.
//   - handler/eventloop: a fixed number of gnet event loops read and write
//     every connection; the goroutine count does not grow with connections
//     or requests in flight.
//
// handler/fakeclock wraps either with a virtual clock that tests advance.
//
// This package holds only the contract, typed errors and thin generic
// helpers (Queue[T], TaskName); it imports no implementation. handler/handlertest is
// the conformance suite every implementation must pass.
//
// # Blocking and cancellation
//
// Every call that can block takes a context and returns ctx.Err() when the
// context ends first, so errors.Is(err, context.DeadlineExceeded) and
// errors.Is(err, context.Canceled) work. Closing a queue or a handler wakes
// its waiters with ErrClosed.
//
// # Callbacks
//
// DialConfig.OnFrame, DialConfig.OnPartialFrame and DialConfig.OnClose may
// run on an event loop. They must not block: no waiting on queues, events,
// semaphores or locks held by others, no sleeping, no dialing, no
// Handler.Close. Conn.Write may wait for the socket in some handlers, so it
// is not safe there either. Hand work to a task (Handler.Go) or to a
// non-blocking primitive (Queue.TryPut, Event.Set, Conn.Close) instead.
//
// # Framing
//
// Connections speak Kafka framing: each frame is a big-endian int32 size
// followed by that many bytes. Handlers split the inbound stream into frames
// and deliver each one whole; outbound, callers write complete frames.
//
// # Where TLS and SASL plug in
//
// TLS wraps the socket, so it lives in the handler: DialConfig.TLSConfig.
// Both handlers perform the handshake inside Dial, bounded by
// DialConfig.Timeout: the goroutine handler over a *tls.Conn, the event-loop
// handler over an in-memory transport its loop feeds (gnet owns the socket).
// A handler that cannot do TLS fails the Dial with ErrTLSUnsupported. SASL is a sequence of Kafka requests over frames, so it
// belongs to conn/, which runs it on the Conn returned by Dial before the
// connection is used for anything else.
package handler
