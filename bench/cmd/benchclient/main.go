// Command benchclient runs one workload with one Kafka client and prints the result as one JSON line. The bench
// runner starts it once per measurement, so that each client's CPU time and memory are its own (read from the
// process's rusage by the runner).
//
//	benchclient -client franz-go -workload produce -bootstrap 127.0.0.1:9092 -topic t -n 100000 \
//	    -size 100 -payload values-100.txt -compression lz4 -acks 1
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"strings"
	"time"

	"github.com/gregorkafka/gregor/bench/internal/clients"
	"github.com/gregorkafka/gregor/bench/internal/workload"
)

// envSASLPassword carries the SASL password, which a flag would show in ps.
const envSASLPassword = "BENCH_SASL_PASSWORD"

func main() {
	var s workload.Spec
	var client, bootstrap, ends, cpuProfile, memProfile, traceFile string
	var start int64
	flag.StringVar(&client, "client", "", "client: "+strings.Join(clients.Names(), ", "))
	flag.StringVar(&s.Workload, "workload", workload.Produce, "produce, consume, latency, group or conns")
	flag.StringVar(&bootstrap, "bootstrap", "127.0.0.1:9092", "comma-separated broker addresses")
	flag.StringVar(&s.Topic, "topic", "bench", "topic")
	flag.IntVar(&s.Partitions, "partitions", 6, "the topic's partition count")
	flag.IntVar(&s.Messages, "n", 100000, "produce: messages to send")
	flag.IntVar(&s.Size, "size", 100, "value size in bytes")
	flag.StringVar(&s.PayloadFile, "payload", "", "payload file (one value a line)")
	flag.StringVar(&s.Compression, "compression", "none", "none, lz4 or zstd")
	flag.StringVar(&s.Acks, "acks", "1", "1 or all")
	flag.StringVar(&s.Delivery, "delivery", "", "producers: \"\" (idempotence off), idempotent or transactional")
	flag.IntVar(&s.Rate, "rate", 1000, "latency: messages per second")
	flag.DurationVar(&s.Duration, "duration", 5*time.Second, "latency: how long to send, after the warm-up")
	flag.DurationVar(&s.Warmup, "warmup", 0, "latency: how long to send first, left out of the percentiles")
	flag.Int64Var(&start, "start", 0, "latency: when the first send is due, Unix nanoseconds (0: at once)")
	flag.IntVar(&s.Members, "members", 3, "group: members")
	flag.StringVar(&s.Group, "group", "bench-group", "group: group id")
	flag.IntVar(&s.Clients, "clients", 1, "conns: client instances")
	flag.IntVar(&s.InFlight, "inflight", 0, "conns: requests each client keeps in flight")
	flag.StringVar(&ends, "ends", "", "consume, group: PARTITION:END_OFFSET,... to read to")
	flag.IntVar(&s.BufferMsgs, "buffer-msgs", 100000, "producer buffer limit, messages")
	flag.IntVar(&s.BufferBytes, "buffer-bytes", 64<<20, "producer buffer limit, bytes")
	flag.DurationVar(&s.Timeout, "timeout", 5*time.Minute, "give up after")
	flag.StringVar(&s.TLSCAFile, "tls-ca", "", "connect over TLS, trusting the CA in this PEM file")
	flag.StringVar(&s.SASLUser, "sasl-user", "", "authenticate with SASL PLAIN as this user, the password from $"+envSASLPassword)
	flag.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the run here")
	flag.StringVar(&memProfile, "memprofile", "", "write a profile of the run's allocations here (every allocation sampled, which slows the run: not for timing)")
	flag.StringVar(&traceFile, "trace", "", "write an execution trace of the run here (go tool trace)")
	flag.Parse()
	s.Bootstrap = strings.Split(bootstrap, ",")
	if start > 0 {
		s.Start = time.Unix(0, start)
	}
	s.SASLPassword = os.Getenv(envSASLPassword)

	res, err := run(client, &s, ends, cpuProfile, memProfile, traceFile)
	if err != nil {
		res.Error = err.Error()
	}
	out, _ := json.Marshal(res)
	fmt.Println(string(out))
	if err != nil {
		os.Exit(1)
	}
}

func run(client string, s *workload.Spec, ends, cpuProfile, memProfile, traceFile string) (workload.Result, error) {
	var err error
	if s.Ends, err = workload.ParseEnds(ends); err != nil {
		return workload.Result{}, err
	}
	if (s.Workload == workload.Consume || s.Workload == workload.Group || s.Workload == workload.GroupJoin ||
		s.Workload == workload.GroupJoin848) && len(s.Ends) == 0 {
		return workload.Result{}, fmt.Errorf("-workload %s needs -ends", s.Workload)
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.Timeout)
	defer cancel()
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return workload.Result{}, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return workload.Result{}, err
		}
		defer pprof.StopCPUProfile()
	}
	if traceFile != "" {
		f, err := os.Create(traceFile)
		if err != nil {
			return workload.Result{}, err
		}
		defer f.Close()
		if err := trace.Start(f); err != nil {
			return workload.Result{}, err
		}
		defer trace.Stop()
	}
	var memFile *os.File
	if memProfile != "" {
		if memFile, err = os.Create(memProfile); err != nil {
			return workload.Result{}, err
		}
		defer memFile.Close()
		// Every allocation is sampled, so that allocations per record can be read off the profile; the rate must
		// be set before the first allocation it is to see.
		runtime.MemProfileRate = 1
	}
	res, err := clients.Execute(ctx, client, s)
	if memFile != nil {
		// The profile is published a collection or two late; one more brings in the run's last allocations.
		runtime.GC()
		if werr := pprof.Lookup("allocs").WriteTo(memFile, 0); werr != nil {
			return res, werr
		}
	}
	return res, err
}
