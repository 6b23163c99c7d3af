package handler

import (
	"os"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A large frame buffer asks the kernel to back it with transparent huge
// pages (MADV_HUGEPAGE, honoured when the system's THP mode is "madvise" or
// "always"). The socket's copy is the first write to a fresh buffer, and
// each 4 KiB page it touches is a page fault. The collector hands idle heap
// memory back to the kernel, so a consumer faults its buffers in again and
// again: 12,000 faults per 500 MB of uncompressed 10 KiB records, a third
// of its system time. With huge pages it takes 3,600-4,400 faults and 9-11%
// less CPU, its peak resident memory unchanged (57 against 58 MiB).
//
// Every 2 MiB stretch a buffer of 1 MiB or more overlaps is advised, its
// neighbours' memory included: the heap reuses memory for frames of all
// sizes, and advising only the stretches inside each buffer saved half as
// much on one broker and nothing on three, whose responses are 1-2 MiB
// (21,000 faults either way; 7,500 advising around them). The advice
// outlives the buffer, so every stretch is advised once: after the heap has
// grown to its size no more calls are made, and none takes the kernel's
// memory-map lock on the read path. GODEBUG=disablethp=1, the runtime's
// switch for keeping its heap off huge pages, turns this off too.
const hugePage = 2 << 20

// hugeAdvisedMax bounds the advised set: 64 Ki stretches, a 128 GiB heap.
const hugeAdvisedMax = 1 << 16

var huge = struct {
	mu      sync.Mutex
	off     bool
	advised map[uintptr]struct{} // addresses of advised stretches
}{off: godebugDisablesTHP(os.Getenv("GODEBUG")), advised: map[uintptr]struct{}{}}

// godebugDisablesTHP reports whether a GODEBUG value turns the runtime's
// huge pages off (the last setting of disablethp wins, as in the runtime).
func godebugDisablesTHP(v string) bool {
	off := false
	for _, kv := range strings.Split(v, ",") {
		if val, ok := strings.CutPrefix(strings.TrimSpace(kv), "disablethp="); ok {
			off = val == "1"
		}
	}
	return off
}

// adviseHuge advises the huge pages b overlaps that were not advised
// before. Its callers decide which buffers are large enough (hugeAdviseMin).
func adviseHuge(b []byte) {
	n := uintptr(len(b))
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	start := p &^ (hugePage - 1)
	end := (p + n + hugePage - 1) &^ (hugePage - 1)
	huge.mu.Lock()
	defer huge.mu.Unlock()
	if huge.off {
		return
	}
	// The first and last stretches not yet advised bound one call.
	lo, hi := end, start
	for a := start; a < end; a += hugePage {
		if _, ok := huge.advised[a]; !ok {
			lo, hi = min(lo, a), a+hugePage
		}
	}
	if lo >= hi || len(huge.advised) >= hugeAdvisedMax {
		return
	}
	// The range may reach past b on either side, into the heap's own
	// memory (the runtime maps its heap in aligned 4 MiB chunks and never
	// unmaps it), so it goes to the kernel as addresses, not a pointer.
	if err := madvise(lo, hi-lo); err != nil {
		if err == unix.EINVAL {
			// A kernel without transparent huge pages: stop asking.
			huge.off = true
		}
		return
	}
	for a := lo; a < hi; a += hugePage {
		huge.advised[a] = struct{}{}
	}
}

// madvise is the system call, a variable for the tests to count calls.
var madvise = func(addr, n uintptr) error {
	if _, _, errno := unix.Syscall(unix.SYS_MADVISE, addr, n, unix.MADV_HUGEPAGE); errno != 0 {
		return errno
	}
	return nil
}
