package kafka

import (
	"sync"

	"github.com/gregorkafka/gregor/protocol"
)

// fetchCheck verifies a Fetch response's record checksums on the
// connection's read path, each read as it lands (protocol.FetchChecker), so
// that the decoder need not hash bytes that have left the CPU's caches by
// the time it runs. It is the Fetch request's conn.Watcher; the decoder
// reads it only once the response is complete.
type fetchCheck struct {
	started bool
	protocol.FetchChecker
}

var fetchChecks = sync.Pool{New: func() any { return new(fetchCheck) }}

func newFetchCheck() *fetchCheck {
	f := fetchChecks.Get().(*fetchCheck)
	f.started = false
	return f
}

// Watch implements conn.Watcher.
func (f *fetchCheck) Watch(version int16, frame []byte) {
	if !f.started {
		f.Reset(version)
		f.started = true
	}
	f.Scan(frame)
}

// checked returns the batches verified in the response's i-th partition.
func (f *fetchCheck) checked(i int) []protocol.CheckedBatch {
	if f == nil || !f.started {
		return nil
	}
	return f.Checked(i)
}

// put hands f back once nothing reads its lists any more.
func (f *fetchCheck) put() {
	if f != nil {
		fetchChecks.Put(f)
	}
}
