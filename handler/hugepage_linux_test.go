package handler

import (
	"bufio"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGodebugDisablesTHP(t *testing.T) {
	for v, want := range map[string]bool{
		"":                             false,
		"disablethp=1":                 true,
		"gctrace=1, disablethp=1":      true,
		"disablethp=0":                 false,
		"disablethp=1,disablethp=0":    false,
		"xdisablethp=1":                false,
		"madvdontneed=1,disablethp=1 ": true,
	} {
		assert.Equal(t, want, godebugDisablesTHP(v), "GODEBUG=%q", v)
	}
}

// advisedCalls replaces madvise for the test with one that records the
// ranges it is called with (and still advises them).
func advisedCalls(t *testing.T) *[][2]uintptr {
	huge.mu.Lock()
	off, advised, real := huge.off, huge.advised, madvise
	huge.off, huge.advised = false, map[uintptr]struct{}{}
	calls := &[][2]uintptr{}
	madvise = func(addr, n uintptr) error {
		*calls = append(*calls, [2]uintptr{addr, addr + n})
		return real(addr, n)
	}
	huge.mu.Unlock()
	t.Cleanup(func() {
		huge.mu.Lock()
		huge.off, huge.advised, madvise = off, advised, real
		huge.mu.Unlock()
	})
	return calls
}

// A large frame buffer is advised once, in the whole huge pages its
// capacity overlaps; a buffer whose huge pages were advised before costs no
// call.
func TestFrameBufferAdvisesHugePagesOnce(t *testing.T) {
	calls := advisedCalls(t)
	const n = 5<<20 + 12345
	b := FrameBuffer(n) // a pooled size: 8 MiB
	require.GreaterOrEqual(t, cap(b), n)
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b[:1])))
	require.Len(t, *calls, 1)
	lo, hi := (*calls)[0][0], (*calls)[0][1]
	assert.Zero(t, lo%hugePage, "starts on a huge page")
	assert.Zero(t, hi%hugePage, "ends on a huge page")
	assert.LessOrEqual(t, lo, p, "covers the buffer's start")
	assert.Greater(t, lo+hugePage, p, "starts on the huge page holding the buffer's start")
	assert.GreaterOrEqual(t, hi, p+uintptr(cap(b)), "covers the buffer's end")
	assert.Less(t, hi-hugePage, p+uintptr(cap(b)), "ends on the huge page holding the buffer's end")

	adviseHuge(b[:cap(b)])
	assert.Len(t, *calls, 1, "advised once")

	small := FrameBuffer(hugeAdviseMin - 1)
	assert.Len(t, *calls, 1, "no call for a buffer below hugeAdviseMin")
	runtime.KeepAlive(small)

	if _, err := os.Stat("/sys/kernel/mm/transparent_hugepage"); err != nil {
		t.Log("no transparent huge pages here; the mapping's flags are not checked")
		return
	}
	assert.Contains(t, vmFlags(t, lo), "hg", "the mapping carries MADV_HUGEPAGE")
	runtime.KeepAlive(b)
}

// Off (GODEBUG=disablethp=1), nothing is advised.
func TestFrameBufferHugePagesOff(t *testing.T) {
	calls := advisedCalls(t)
	huge.off = true
	b := NewFrameBuffer(8 << 20)
	assert.Empty(t, *calls)
	runtime.KeepAlive(b)
}

// vmFlags returns the VmFlags of the mapping holding addr.
func vmFlags(t *testing.T, addr uintptr) []string {
	f, err := os.Open("/proc/self/smaps")
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	in := false
	for sc.Scan() {
		line := sc.Text()
		if lo, hi, ok := mappingRange(line); ok {
			in = lo <= addr && addr < hi
			continue
		}
		if rest, ok := strings.CutPrefix(line, "VmFlags:"); ok && in {
			return strings.Fields(rest)
		}
	}
	require.NoError(t, sc.Err())
	t.Fatalf("no mapping holds %#x", addr)
	return nil
}

// mappingRange parses the range of an smaps mapping line ("lo-hi perms ...").
func mappingRange(line string) (lo, hi uintptr, ok bool) {
	r, _, found := strings.Cut(line, " ")
	a, b, dash := strings.Cut(r, "-")
	if !found || !dash {
		return 0, 0, false
	}
	l, err1 := strconv.ParseUint(a, 16, 64)
	h, err2 := strconv.ParseUint(b, 16, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return uintptr(l), uintptr(h), true
}
