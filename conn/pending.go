package conn

// fifo is the queue of requests awaiting responses, oldest first. It is a
// ring buffer that grows by doubling, so steady-state pushes and pops do not
// allocate. Not safe for concurrent use; the session's mutex guards it.
type fifo struct {
	buf  []*ResponseFuture // len is zero or a power of two
	head int
	n    int
}

func (q *fifo) len() int { return q.n }

func (q *fifo) push(f *ResponseFuture) {
	if q.n == len(q.buf) {
		q.grow()
	}
	q.buf[(q.head+q.n)&(len(q.buf)-1)] = f
	q.n++
}

func (q *fifo) grow() {
	size := max(16, 2*len(q.buf))
	buf := make([]*ResponseFuture, size)
	for i := range q.n {
		buf[i] = q.buf[(q.head+i)&(len(q.buf)-1)]
	}
	q.buf, q.head = buf, 0
}

// peek returns the oldest entry, or nil when empty.
func (q *fifo) peek() *ResponseFuture {
	if q.n == 0 {
		return nil
	}
	return q.buf[q.head]
}

func (q *fifo) pop() *ResponseFuture {
	if q.n == 0 {
		return nil
	}
	f := q.buf[q.head]
	q.buf[q.head] = nil // let the collector have completed futures
	q.head = (q.head + 1) & (len(q.buf) - 1)
	q.n--
	return f
}

// at returns the i-th oldest entry; i must be below len.
func (q *fifo) at(i int) *ResponseFuture {
	return q.buf[(q.head+i)&(len(q.buf)-1)]
}

// drain removes and returns every entry, oldest first.
func (q *fifo) drain() []*ResponseFuture {
	out := make([]*ResponseFuture, 0, q.n)
	for q.n > 0 {
		out = append(out, q.pop())
	}
	return out
}
