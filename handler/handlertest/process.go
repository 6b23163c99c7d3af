package handlertest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/gregorkafka/gregor/handler"
)

// echoProcessEnv turns a test binary started by ProcessEchoServer into the
// echo peer.
const echoProcessEnv = "GREGOR_HANDLERTEST_ECHO_PROCESS"

// ServeEchoProcess makes a test binary double as ProcessEchoServer's peer.
// Call it first in TestMain: in the child it prints its address, echoes until
// its stdin closes and exits; anywhere else it returns at once.
func ServeEchoProcess() {
	if os.Getenv(echoProcessEnv) != "1" {
		return
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "echo process:", err)
		os.Exit(2)
	}
	fmt.Println(ln.Addr())
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go echo(c)
		}
	}()
	_, _ = io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}

// ProcessEchoServer is EchoServer in a process of its own, as a broker is.
// An in-process peer shares the client's scheduler: its goroutines and the
// goroutine handler's readers wake on the same netpoller, which flatters a
// lone round trip there and penalises a handler whose loop polls on its own
// thread. The test binary must call ServeEchoProcess from TestMain.
func ProcessEchoServer(tb testing.TB) string {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^$")
	cmd.Env = append(os.Environ(), echoProcessEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		tb.Fatalf("echo process did not start (does TestMain call ServeEchoProcess?): %v", err)
	}
	return strings.TrimSpace(line)
}

// BenchmarkRoundTripProcess is BenchmarkRoundTrip against ProcessEchoServer.
// With the peer out of the process, the process's CPU time is the client's
// alone: it reports that too, as cpu-ns/op.
func BenchmarkRoundTripProcess(b *testing.B, h handler.Handler, inflight, size int) {
	addr := ProcessEchoServer(b)
	before := CPUTime()
	benchRoundTrip(b, h, addr, nil, inflight, size)
	b.ReportMetric(float64(CPUTime()-before)/float64(b.N), "cpu-ns/op")
}
