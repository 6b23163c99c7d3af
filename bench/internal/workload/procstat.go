package workload

import (
	"bufio"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// FillProcStats records the current process's goroutines, OS threads, resident memory and open sockets. Outside
// Linux only the goroutine count is filled.
func FillProcStats(r *Result) {
	r.Goroutines = runtime.NumGoroutine()
	if f, err := os.Open("/proc/self/status"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			k, v, _ := strings.Cut(sc.Text(), ":")
			fields := strings.Fields(v)
			if len(fields) == 0 {
				continue
			}
			n, _ := strconv.ParseInt(fields[0], 10, 64)
			switch k {
			case "VmRSS":
				r.RSSBytes = n << 10
			case "Threads":
				r.Threads = int(n)
			}
		}
		f.Close()
	}
	if ents, err := os.ReadDir("/proc/self/fd"); err == nil {
		for _, e := range ents {
			if l, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && strings.HasPrefix(l, "socket:") {
				r.Sockets++
			}
		}
	}
}
