package kafka_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/gregorkafka/gregor/kafka"
)

// These examples need a broker at 127.0.0.1:9092 ("make broker" starts
// one), so they are compiled but not run.

func ExampleNewClient() {
	ctx := context.Background()
	client, err := kafka.NewClient(ctx, kafka.Config{
		Hosts:    []string{"127.0.0.1:9092", "127.0.0.1:9093"},
		ClientID: "billing",
	})
	if errors.Is(err, kafka.ErrNoBrokersAvailable) {
		log.Fatalf("no broker answered: %v", err)
	}
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	for _, b := range client.Brokers() {
		fmt.Println(b.ID(), b.Addr())
	}
}

func ExampleClient_Topic() {
	ctx := context.Background()
	client, err := kafka.NewClient(ctx, kafka.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	topic, err := client.Topic(ctx, "orders")
	if errors.Is(err, kafka.ErrUnknownTopic) {
		log.Fatal("no topic orders")
	}
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range topic.Partitions() {
		fmt.Println(p.ID(), p.Leader(), p.Replicas(), p.ISR())
	}
}

func ExampleCluster_CreateTopics() {
	ctx := context.Background()
	client, err := kafka.NewClient(ctx, kafka.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	err = client.Cluster().CreateTopics(ctx, kafka.TopicSpec{
		Name:              "orders",
		Partitions:        6,
		ReplicationFactor: 3,
		Configs:           map[string]string{"retention.ms": "604800000"},
	})
	if err != nil && !errors.Is(err, kafka.ErrTopicAlreadyExists) {
		log.Fatal(err)
	}
}

func ExampleTopic_OffsetsBefore() {
	ctx := context.Background()
	client, err := kafka.NewClient(ctx, kafka.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	topic, err := client.Topic(ctx, "orders")
	if err != nil {
		log.Fatal(err)
	}

	earliest, err := topic.EarliestOffsets(ctx)
	if err != nil {
		log.Fatal(err)
	}
	latest, err := topic.LatestOffsets(ctx)
	if err != nil {
		log.Fatal(err)
	}
	// Where to start reading to see the last hour's records.
	hourAgo, err := topic.OffsetsBefore(ctx, time.Now().Add(-time.Hour))
	if err != nil {
		// Partial results: the map holds the partitions that succeeded.
		var perr *kafka.PartitionError
		if errors.As(err, &perr) {
			log.Printf("partition %d: %v", perr.Partition, perr.Err)
		}
	}
	for _, p := range topic.Partitions() {
		id := p.ID()
		fmt.Printf("partition %d: %d records, last hour from offset %d\n", id, latest[id]-earliest[id], hourAgo[id])
	}
}

func ExampleCluster_CommitGroupOffsets() {
	ctx := context.Background()
	client, err := kafka.NewClient(ctx, kafka.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	cluster := client.Cluster()

	// Rewind group billing to the start of orders' partition 0, then read
	// back everything it has committed.
	err = cluster.CommitGroupOffsets(ctx, "billing", map[string]map[int32]int64{"orders": {0: 0}})
	var live *kafka.GroupHasMembersError
	if errors.As(err, &live) {
		log.Fatalf("stop the consumers of %s first: %v", live.Group, err)
	}
	if err != nil {
		log.Fatal(err)
	}
	offsets, err := cluster.FetchGroupOffsets(ctx, "billing", nil)
	if err != nil {
		log.Fatal(err)
	}
	for topic, parts := range offsets {
		for id, co := range parts {
			fmt.Printf("%s/%d: next offset %d\n", topic, id, co.Offset)
		}
	}
}

func ExampleCluster_DescribeGroup() {
	ctx := context.Background()
	client, err := kafka.NewClient(ctx, kafka.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	groups, err := client.Cluster().ListGroups(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, g := range groups {
		d, err := client.Cluster().DescribeGroup(ctx, g.Group)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s: %s, %d member(s)\n", d.Group, d.State, len(d.Members))
		for _, m := range d.Members {
			fmt.Println(" ", m.MemberID, m.Host, m.Assignment)
		}
	}
}
