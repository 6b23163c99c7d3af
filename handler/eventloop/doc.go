// Package eventloop is a handler that serves every connection from a fixed
// set of gnet event loops, so its goroutine count stays flat however many
// brokers it talks to and however many requests are in flight.
//
// # Goroutines
//
// New starts WithLoops goroutines (default min(GOMAXPROCS, 4)), one per
// loop; Close stops them. A connection costs none: Dial connects on the
// caller's goroutine with net.Dialer (gnet's own dial has no timeout), then
// hands the socket to the least-loaded loop, which reads and writes it from
// then on. A request costs none either. Tasks (Go) and AfterFunc callbacks
// are ordinary goroutines owned by whoever spawned them: they never run on a
// loop, so they may block, and they cannot deadlock each other the way tasks
// in a bounded pool can.
//
// # What the loop owns and runs
//
// Each loop owns its sockets, gnet's inbound and outbound buffers for them,
// and each connection's frame decoder. On the loop run:
//
//   - framing: OnTraffic takes every byte read, splits frames and calls
//     DialConfig.OnFrame for each complete one; the rest of a large frame
//     (64 KiB or more to go) it reads from the socket straight into the
//     frame's buffer, rather than through gnet's 64 KiB read buffer, and
//     before the loop waits again it sets the socket's receive low-water
//     mark to what the frame still needs (package handler/internal/lowat;
//     under TLS, the ciphertext sure to carry it);
//   - DialConfig.OnClose, once, after the last OnFrame;
//   - flushes: Write copies its bytes into the connection's pending buffer
//     and the first Write of a batch queues one task that passes the whole
//     batch to the socket; gnet buffers what the kernel refuses and sends it
//     as the socket drains. A Write of 64 KiB or more made while nothing is
//     pending or buffered skips the loop: the caller writes it to the
//     socket itself, waiting in Go's netpoller whenever the kernel refuses
//     more (no copy); Writes arriving meanwhile queue in
//     pending, and the direct writer queues their flush when done;
//   - closes: Close queues a task that flushes and then closes.
//
// # What must never block the loop
//
// OnFrame and OnClose run on the loop, so while one of them blocks, every
// connection on that loop stalls. They must not wait: no blocking Put or Get
// on a queue, no Event.Wait, no Lock or Semaphore acquisition that may wait,
// no Sleep, no Dial, no Handler.Close (which waits for the loops). They may
// do non-blocking work and hand the rest to a task: Queue.TryPut, Event.Set,
// Handler.Go and Conn.Close. Conn.Write may wait when the connection's
// buffer is full (below), so it is not safe there.
//
// # Back-pressure and limits
//
// Write does no I/O but a large Write's direct write, which waits for the
// socket as a write does with the goroutine handler. Otherwise it does not
// wait for the peer while the connection holds at most
// DialConfig.MaxBufferedWrite bytes (pending plus gnet's outbound buffer).
// When a broker stops reading and that fills up, Write waits until the loop
// has handed enough to the kernel, or the connection closes. gnet does not
// report that its outbound buffer drained, so while a writer waits with
// nothing pending the loop looks every millisecond.
//
// # TLS
//
// gnet owns the raw descriptor, so crypto/tls runs over an in-memory
// transport instead of the socket. The handshake runs on the goroutine
// calling Dial (like the TCP connect, and bounded by the same
// DialConfig.Timeout): the loop hands it the ciphertext it reads and writes
// what it produces. After the handshake the loop drives the connection:
// OnTraffic decrypts every whole record into the frame decoder (a partial
// record waits for the next read), and a flush encrypts the pending batch
// into records and writes them. A TLS connection therefore costs no
// goroutine either, and nothing on the loop ever waits for the peer.
//
// # One CPU
//
// gnet's loop waits for its sockets in epoll_wait, a system call that keeps
// the loop's P (the runtime's right to run Go code) for as long as it
// blocks. With GOMAXPROCS=1 that is the only P: timers, other goroutines and
// the tasks a response wakes would wait until the runtime's monitor takes
// it back, tens to hundreds of microseconds each time. So where GOMAXPROCS
// is 1 when New runs (taskset, or a container limited to one CPU), a loop
// with nothing to do waits in Go's netpoller instead, which holds no P: a
// task of the loop's own watches its sockets through an epoll set of the
// handler's, registered with the netpoller, reads those that become ready
// itself, and returns to gnet whenever a task needs the loop (park.go). On
// one core bench/'s in-process latency benchmark then measures the
// goroutine handler's scheduling latency (p99 4-25 µs), and its p50 and p99
// within 10% where the fake broker answers after 1 ms and within 20 µs
// where it answers at once; gnet's own wait gave 82-330 µs, up to 3.5x its
// p50 and 2.8x its p99, and 1.1-1.8x its CPU per message (now 1.0-1.16x).
// Against a real broker its p99 is the goroutine handler's, where it was
// 1.09-1.14x, and its CPU per record within 5% of the goroutine handler's
// in 23 to 25 of bench/'s 26 produce and consume cells, depending on the
// run (docs/benchmarks.md: 24). With a P to spare gnet's
// own wait answers a lone request sooner (in 0.7x the time), so it stays
// the default there; WithNetpollWait chooses either way.
//
// gnet keeps one process-wide logger for its package-level messages; each
// New points it at that handler's WithLogger (silent by default).
package eventloop
