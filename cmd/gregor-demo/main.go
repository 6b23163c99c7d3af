// Command gregor-demo starts a throwaway single-broker Kafka cluster, shows
// what gregor's client sees of it and does with it, and stops the broker
// again, also on error or Ctrl-C. "make demo" runs it.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/gregorkafka/gregor/internal/testcluster"
	"github.com/gregorkafka/gregor/kafka"
)

const topicName = "gregor-demo"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "gregor-demo:", err)
		stop()
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer) error {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	fmt.Fprintln(out, "Starting a single-broker Kafka cluster (KRaft)...")
	started := time.Now()
	cluster, err := testcluster.Start(ctx, testcluster.KRaftSingle)
	if err != nil {
		return fmt.Errorf("starting the broker: %w", err)
	}
	defer cluster.Close()
	fmt.Fprintf(out, "Broker up at %s after %v.\n\n", strings.Join(cluster.Bootstrap(), ","), time.Since(started).Round(100*time.Millisecond))

	client, err := kafka.NewClient(ctx, kafka.Config{Hosts: cluster.Bootstrap(), Logger: logger, ClientID: "gregor-demo"})
	if err != nil {
		return err
	}
	defer client.Close()

	if err := client.Cluster().CreateTopics(ctx, kafka.TopicSpec{Name: topicName, Partitions: 3, ReplicationFactor: 1}); err != nil {
		return fmt.Errorf("creating topic %s: %w", topicName, err)
	}
	fmt.Fprintf(out, "Created topic %q with 3 partitions.\n\n", topicName)

	if err := show(ctx, out, client); err != nil {
		return err
	}
	if err := produceTour(ctx, out, client); err != nil {
		return err
	}
	if err := consumeTour(ctx, out, client); err != nil {
		return err
	}
	return balancedTour(ctx, out, client)
}

// show prints the cluster as the client sees it.
func show(ctx context.Context, out io.Writer, client *kafka.Client) error {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)

	fmt.Fprintf(out, "Cluster %s\n\n", client.Cluster().ClusterID())
	fmt.Fprintln(tw, "BROKER\tADDRESS\tRACK\tCONTROLLER")
	controller := client.Cluster().Controller()
	for _, b := range client.Brokers() {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%v\n", b.ID(), b.Addr(), orDash(b.Rack()), b == controller)
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	names, err := client.Topics(ctx)
	if err != nil {
		return fmt.Errorf("listing topics: %w", err)
	}
	fmt.Fprintf(out, "\nTopics: %s\n\n", strings.Join(names, ", "))

	topic, err := client.Topic(ctx, topicName)
	if err != nil {
		return err
	}
	earliest, err := topic.EarliestOffsets(ctx)
	if err != nil {
		return fmt.Errorf("earliest offsets: %w", err)
	}
	latest, err := topic.LatestOffsets(ctx)
	if err != nil {
		return fmt.Errorf("latest offsets: %w", err)
	}
	fmt.Fprintf(out, "%v\n\n", topic)
	fmt.Fprintln(tw, "PARTITION\tLEADER\tREPLICAS\tISR\tEARLIEST\tLATEST")
	for _, p := range topic.Partitions() {
		leader := "-"
		if b := p.Leader(); b != nil {
			leader = fmt.Sprintf("%d (%s)", b.ID(), b.Addr())
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%d\n", p.ID(), leader, ids(p.Replicas()), ids(p.ISR()),
			earliest[p.ID()], latest[p.ID()])
	}
	return tw.Flush()
}

func ids(v []int32) string {
	s := make([]string, len(v))
	for i, id := range v {
		s[i] = fmt.Sprint(id)
	}
	return "[" + strings.Join(s, ",") + "]"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
