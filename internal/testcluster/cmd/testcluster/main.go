// Command testcluster starts a local Kafka cluster from gregor's test harness and keeps it running until
// interrupted, printing the bootstrap address. "make broker" runs it.
//
//	go run ./internal/testcluster/cmd/testcluster -mode kraft -brokers 1
//
// With -security ssl the brokers also open an SSL listener and a mutual-TLS listener; the CA and a client
// certificate are written to -tls-dir, and the client settings to use are printed. With -security sasl they open
// SASL_PLAINTEXT and SASL_SSL listeners with PLAIN, SCRAM-SHA-256/512 and OAUTHBEARER (unsecured JWTs).
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/gregorkafka/gregor/internal/testcluster"
)

func main() {
	mode := flag.String("mode", "kraft", "kraft (Kafka "+testcluster.KRaftVersion+") or zookeeper (Kafka "+testcluster.ZooKeeperVersion+")")
	brokers := flag.Int("brokers", 1, "number of brokers")
	tag := flag.String("tag", "dev", "marks the JVMs (-Dgregor.testcluster=TAG) so leftovers can be found")
	perf := flag.Bool("perf", false, "tune the broker JVMs for throughput (benchmarks) instead of quick start-up")
	security := flag.String("security", "plaintext", "plaintext, ssl (also open SSL and mutual-TLS listeners) or sasl (also open SASL_PLAINTEXT and SASL_SSL listeners)")
	tlsDir := flag.String("tls-dir", "", "with -security ssl, where to write ca.pem, client.pem and client-key.pem (default: in the cluster's directory)")
	var topics []string
	flag.Func("topic", "create a topic NAME[:PARTITIONS[:REPLICATION]] (repeatable)", func(s string) error {
		topics = append(topics, s)
		return nil
	})
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))

	cfg := testcluster.Config{Brokers: *brokers, Perf: *perf, Tag: *tag, Logf: func(f string, a ...any) { log.Info(fmt.Sprintf(f, a...)) }}
	switch *mode {
	case "kraft":
		cfg.Mode = testcluster.KRaft
	case "zookeeper", "zk":
		cfg.Mode = testcluster.ZooKeeper
	default:
		fmt.Fprintf(os.Stderr, "testcluster: unknown -mode %q (kraft or zookeeper)\n", *mode)
		os.Exit(2)
	}
	switch *security {
	case "plaintext":
	case "ssl", "tls":
		cfg.Listeners = testcluster.SecuredListeners()
	case "sasl":
		cfg.Listeners = testcluster.SASLListeners()
	default:
		fmt.Fprintf(os.Stderr, "testcluster: unknown -security %q (plaintext, ssl or sasl)\n", *security)
		os.Exit(2)
	}
	specs := make([]testcluster.TopicSpec, 0, len(topics))
	for _, t := range topics {
		spec, err := parseTopic(t)
		if err != nil {
			fmt.Fprintln(os.Stderr, "testcluster:", err)
			os.Exit(2)
		}
		specs = append(specs, spec)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c, err := testcluster.Start(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer c.Close()
	for _, s := range specs {
		if err := c.CreateTopic(ctx, s); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return
		}
		log.Info("created topic", "name", s.Name, "partitions", s.Partitions, "replication", s.ReplicationFactor)
	}
	// Before the bootstrap line, which tells bench/ the cluster is up.
	var pids []string
	for _, b := range c.Brokers() {
		pids = append(pids, strconv.Itoa(b.Pid()))
	}
	fmt.Printf("pids: %s\n", strings.Join(pids, ","))
	fmt.Printf("bootstrap: %s\n", strings.Join(c.Bootstrap(), ","))
	if zk := c.ZooKeeperConnect(); zk != "" {
		fmt.Printf("zookeeper: %s\n", zk)
	}
	if *security == "sasl" {
		if err := printSASL(c, *tlsDir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return
		}
	} else if m := c.TLS(); m != nil {
		if err := printTLS(c, m, *tlsDir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return
		}
	}
	fmt.Println("running; press Ctrl-C to stop")
	<-ctx.Done()
}

func parseTopic(s string) (testcluster.TopicSpec, error) {
	parts := strings.Split(s, ":")
	spec := testcluster.TopicSpec{Name: parts[0], Partitions: 1, ReplicationFactor: 1}
	if spec.Name == "" || len(parts) > 3 {
		return spec, fmt.Errorf("bad -topic %q, want NAME[:PARTITIONS[:REPLICATION]]", s)
	}
	if len(parts) > 1 {
		n, err := strconv.Atoi(parts[1])
		if err != nil || n <= 0 {
			return spec, fmt.Errorf("bad partition count in -topic %q", s)
		}
		spec.Partitions = int32(n)
	}
	if len(parts) > 2 {
		n, err := strconv.Atoi(parts[2])
		if err != nil || n <= 0 {
			return spec, fmt.Errorf("bad replication factor in -topic %q", s)
		}
		spec.ReplicationFactor = int16(n)
	}
	return spec, nil
}
