package protocol

import "unsafe"

// mallocgc is the runtime's allocator. A nil type allocates memory the
// collector does not scan; needzero false leaves it as the last owner left
// it, which a decompression buffer may: the decoder writes its output over
// it and nothing reads past what was written. The runtime keeps this
// signature for the packages that link to it (go.dev/issue/67401). The
// handler package has its own copy for frame buffers; protocol imports
// nothing of the module's.
//
//go:linkname mallocgc runtime.mallocgc
func mallocgc(size uintptr, typ unsafe.Pointer, needzero bool) unsafe.Pointer

// makeNoZero returns an empty buffer of capacity n whose bytes are not
// zeroed.
func makeNoZero(n int) []byte {
	if n <= 0 {
		return []byte{}
	}
	return unsafe.Slice((*byte)(mallocgc(uintptr(n), nil, false)), n)[:0]
}
