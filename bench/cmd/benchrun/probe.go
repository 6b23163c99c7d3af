package main

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"log"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"github.com/gregorkafka/gregor/bench/internal/report"
)

// The CPU speed probe. This machine's speed has moved by up to 2x over an hour (a CRC-32C of a hot 16 KiB buffer
// ran at 15.5 GB/s, then at 31), and every client's CPU per record moved 1.6-2.9x with it. Taking turns keeps a
// cell's ratios fair while the speed holds; a step within a cell lands on whichever contenders ran after it, and
// cells measured at different speeds do not compare. So before each repetition of a cell the runner runs a fixed
// piece of work on the client's core, run as the clients are, and keeps its rate with the cell (report.Cell.Probe,
// which the report marks a cell by when it moved).

// The probe's work: probeRounds rounds of probeBlocks steps, each a CRC-32C of one probeBlock-byte buffer (the
// CRC unit, as the clients' record checksums use it) and probeMixes dependent multiply-xorshift rounds on its sum
// (the integer pipeline), the two taking about equal time. The buffer fits in the L1 cache, so the probe measures
// the core, not memory. A round takes about 10 ms at this machine's full speed, so the probe 30-60 ms; the fastest
// round counts, so that an interrupt in one does not read as a change of speed.
const (
	probeBlock  = 16 << 10
	probeBlocks = 8192
	probeMixes  = 256
	probeRounds = 3
)

// probeFlag is the runner's flag that runs the probe once in a process of its own and prints its rate (see
// execer.probeSpeed).
const probeFlag = "cpu-probe"

// errNoProbe says the runner has no probe command: nothing is recorded.
var errNoProbe = errors.New("no CPU probe command")

// probeSink keeps the probe's result alive, so that the compiler cannot drop its work.
var probeSink uint64

// cpuProbe runs the probe on the calling goroutine's thread and returns its rate, in MB of blocks per second of
// that thread's CPU time: the clock the clients' CPU per record is read from (rusage), which time spent by other
// processes on the core does not move.
func cpuProbe() (float64, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	buf := make([]byte, probeBlock)
	x := uint64(0x9e3779b97f4a7c15)
	for i := range buf {
		x = x*6364136223846793005 + 1442695040888963407
		buf[i] = byte(x >> 56)
	}
	tab := crc32.MakeTable(crc32.Castagnoli)
	sum := probeRound(buf, tab, 16) // the table, the caches and the page of buf, before anything counts
	best := time.Duration(-1)
	for range probeRounds {
		start, err := threadCPU()
		if err != nil {
			return 0, err
		}
		sum += probeRound(buf, tab, probeBlocks)
		end, err := threadCPU()
		if err != nil {
			return 0, err
		}
		if d := end - start; d > 0 && (best < 0 || d < best) {
			best = d
		}
	}
	probeSink = sum
	if best <= 0 {
		return 0, errors.New("cpu probe: its thread's CPU clock did not move")
	}
	return float64(probeBlocks*probeBlock) / best.Seconds() / 1e6, nil
}

// probeRound runs blocks steps of the probe's work over buf and returns their combined sum.
func probeRound(buf []byte, tab *crc32.Table, blocks int) uint64 {
	var crc uint32
	x := uint64(1)
	for range blocks {
		crc = crc32.Update(crc, tab, buf)
		x ^= uint64(crc)
		for range probeMixes {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			x *= 0x2545f4914f6cdd1d
		}
	}
	return x
}

// clockThreadCPUTime is Linux's CLOCK_THREAD_CPUTIME_ID, which package syscall does not name.
const clockThreadCPUTime = 3

// threadCPU is the CPU time the calling thread has used. getrusage(RUSAGE_THREAD) would do, but it reads the
// running thread's time as of the last scheduler tick, milliseconds off in a round of about ten.
func threadCPU() (time.Duration, error) {
	var ts syscall.Timespec
	if _, _, e := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTime, uintptr(unsafe.Pointer(&ts)), 0); e != 0 {
		return 0, fmt.Errorf("clock_gettime(CLOCK_THREAD_CPUTIME_ID): %w", e)
	}
	return time.Duration(ts.Nano()), nil
}

// runProbe is the runner's -cpu-probe mode: the probe's rate in MB/s on stdout.
func runProbe() error {
	rate, err := cpuProbe()
	if err != nil {
		return err
	}
	_, err = fmt.Println(strconv.FormatFloat(rate, 'f', 1, 64))
	return err
}

// probe runs the CPU probe before a repetition of c and keeps its rate with c's entry in the results, which cell
// adds before the runs. A failed probe is logged and the repetition runs without one.
func (cr *clusterRun) probe(ctx context.Context, c report.Cell) {
	i := slices.IndexFunc(cr.r.Cells, func(rc report.Cell) bool { return rc.Key == c.Key })
	if !c.SpeedBound() || len(cr.e.probe) == 0 || i < 0 {
		return
	}
	mbps, err := cr.e.probeSpeed(ctx)
	if err != nil {
		log.Printf("%s: %v", c.Key, err)
		return
	}
	cr.r.Cells[i].Probe = append(cr.r.Cells[i].Probe, mbps)
	if cr.e.verbose {
		fmt.Fprintf(os.Stderr, "    %-16s %.1f GB/s\n", "cpu probe", mbps/1000)
	}
}

// probeCommand is the argv that runs the probe in a process of its own: this runner's binary in -cpu-probe mode.
func probeCommand() ([]string, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding the runner's binary for the CPU probe: %w", err)
	}
	return []string{self, "-" + probeFlag}, nil
}

// probeSpeed runs the probe as a process of its own on the client's core, wrapped as the contenders are
// (pin.clientArgv), and returns its rate in MB/s. A fresh process, as every contender's run is, so that it runs
// where and as they do.
func (e *execer) probeSpeed(ctx context.Context) (float64, error) {
	if len(e.probe) == 0 {
		return 0, errNoProbe
	}
	argv := e.pin.clientArgv(append([]string{}, e.probe...))
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var errb strings.Builder
	cmd.Stderr = &errb
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.Output()
	if err != nil {
		return 0, fmt.Errorf("cpu probe %s: %w: %s", strings.Join(argv, " "), err, lastLine(errb.String()))
	}
	rate, err := strconv.ParseFloat(lastLine(string(out)), 64)
	if err != nil || rate <= 0 {
		return 0, fmt.Errorf("cpu probe %s: no rate in its output %q", strings.Join(argv, " "), lastLine(string(out)))
	}
	return rate, nil
}
