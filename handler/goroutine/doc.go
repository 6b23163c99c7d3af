// Package goroutine is the default handler: plain goroutines, channels,
// package time and net.Conn.
//
// Tasks are goroutines. Each connection has one reader goroutine that reads
// into a 32 KiB buffer, splits frames and calls OnFrame and finally OnClose;
// a frame larger than that buffer is read straight into its own slice. So
// this handler uses one goroutine per connection, and none per request.
//
// Writes need no goroutine. The first writer on an idle connection writes to
// the socket itself, without copying. Writers arriving while it is in the
// kernel append their bytes to a pending buffer and return; the writer in
// the kernel then sends everything pending in one more write before it
// returns. Under load many requests thus share one syscall, while a lone
// request pays no copy and no hand-off. Pending bytes are capped
// (DialConfig.MaxBufferedWrite); beyond that writers wait for the socket,
// which is the back-pressure a slow broker exerts.
//
// TLS (DialConfig.TLSConfig) is supported: the handshake runs inside Dial,
// bounded by its context and DialConfig.Timeout. The writer's records reach
// the socket 512 KiB at a time, not one system call per 16 KiB record.
package goroutine
