package kafka_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/gregorkafka/gregor/handler/eventloop"
	"github.com/gregorkafka/gregor/kafka"
	"github.com/gregorkafka/gregor/protocol"
)

// One example per main type, each showing what the type is for. Like the
// package's other examples that talk to a cluster, they need a broker at
// 127.0.0.1:9092 ("make broker" starts one), so they are compiled but not
// run.

func ExampleClient() {
	ctx := context.Background()
	// The whole client runs on the handler it is given: here a gnet event
	// loop instead of the default goroutines. The caller closes it.
	h, err := eventloop.New()
	if err != nil {
		log.Fatal(err)
	}
	defer h.Close()
	client, err := kafka.NewClient(ctx, kafka.Config{Hosts: []string{"127.0.0.1:9092"}, Handler: h})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	names, err := client.Topics(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, name := range names {
		topic, err := client.Topic(ctx, name)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(topic)
	}
}

func ExampleCluster() {
	ctx := context.Background()
	client, err := kafka.NewClient(ctx, kafka.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	cluster := client.Cluster()

	// Reads come from the latest metadata snapshot; Update refreshes it.
	if err := cluster.Update(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println("cluster", cluster.ClusterID(), "controller", cluster.Controller())
	for _, b := range cluster.Brokers() {
		fmt.Println(b.ID(), b.Addr(), b.Rack())
	}
	coordinator, err := cluster.GroupCoordinator(ctx, "billing")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("group billing is coordinated by", coordinator)
}

func ExampleBroker() {
	ctx := context.Background()
	client, err := kafka.NewClient(ctx, kafka.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	// A Broker's request methods send one request and return the answer as
	// is: the error is a transport failure, error codes are in the answer.
	for _, b := range client.Brokers() {
		resp, err := b.ListGroups(ctx, protocol.NewListGroupsRequest())
		if err != nil {
			log.Fatalf("broker %d: %v", b.ID(), err)
		}
		if err := protocol.ErrorForCode(resp.ErrorCode); err != nil {
			log.Fatalf("broker %d refused: %v", b.ID(), err)
		}
		for _, g := range resp.Groups {
			fmt.Println(b.ID(), g.GroupID, g.ProtocolType)
		}
	}
}

func ExampleTopic() {
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

	// A *Topic stays valid across metadata refreshes: hold it, and its
	// partitions always name their current leaders.
	latest, err := topic.LatestOffsets(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range topic.Partitions() {
		fmt.Printf("%s/%d: leader %d, next offset %d\n", topic.Name(), p.ID(), p.LeaderID(), latest[p.ID()])
	}
}

func ExamplePartition() {
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

	for _, p := range topic.Partitions() {
		if len(p.ISR()) < len(p.Replicas()) {
			fmt.Printf("%v is under-replicated: replicas %v, in sync %v\n", p, p.Replicas(), p.ISR())
		}
		earliest, err := p.EarliestOffset(ctx)
		if err != nil {
			log.Fatal(err)
		}
		latest, err := p.LatestOffset(ctx)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%v holds offsets %d to %d\n", p, earliest, latest-1)
	}
}

func ExampleProducer() {
	ctx := context.Background()
	client, err := kafka.NewClient(ctx, kafka.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	topic, err := client.Topic(ctx, "clicks")
	if err != nil {
		log.Fatal(err)
	}

	// Fire and forget: no delivery reports (failures are logged), and
	// Produce refuses instead of waiting when the queue is full.
	producer, err := topic.Producer(kafka.ProducerConfig{ErrorOnQueueFull: true, Linger: 5 * time.Millisecond})
	if err != nil {
		log.Fatal(err)
	}
	for i := range 100_000 {
		err := producer.Produce(ctx, kafka.Message{Value: []byte(fmt.Sprint("click ", i))})
		if errors.Is(err, kafka.ErrQueueFull) {
			// Shed load, or Flush and try again.
			if err := producer.Flush(ctx); err != nil {
				log.Fatal(err)
			}
			continue
		}
		if err != nil {
			log.Fatal(err)
		}
	}
	// Give what is held ten seconds to be delivered; the rest is reported
	// as failed (with ErrProducerClosed).
	stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := producer.Stop(stopCtx); err != nil {
		log.Printf("stopped before everything was delivered: %v", err)
	}
}

func ExampleSyncProducer() {
	ctx := context.Background()
	client, err := kafka.NewClient(ctx, kafka.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	topic, err := client.Topic(ctx, "audit")
	if err != nil {
		log.Fatal(err)
	}

	producer, err := topic.SyncProducer(kafka.ProducerConfig{
		RequiredAcks: kafka.AcksAll,
		Partitioner:  kafka.ManualPartitioner(), // Message.Partition chooses
	})
	if err != nil {
		log.Fatal(err)
	}
	defer producer.Close()

	partition, offset, err := producer.Produce(ctx, kafka.Message{Partition: 2, Value: []byte("user 7 logged in")})
	var perr *kafka.PartitionError
	switch {
	case errors.Is(err, kafka.ErrMessageTooLarge):
		log.Fatal("too large for the broker")
	case errors.As(err, &perr):
		log.Fatalf("partition %d refused it: %v", perr.Partition, perr.Err)
	case err != nil:
		log.Fatal(err)
	}
	fmt.Println("written at", partition, offset)
}

func ExampleSimpleConsumer() {
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

	// Read partitions 0 and 1 from an hour ago, storing offsets in group
	// audit, and stop after 5s without a message.
	consumer, err := topic.SimpleConsumer(kafka.ConsumerConfig{
		ConsumerGroup:   "audit",
		Partitions:      []int32{0, 1},
		ConsumerTimeout: 5 * time.Second,
		ManualStart:     true,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer consumer.Stop(ctx)
	hourAgo := kafka.OffsetAtTime(time.Now().Add(-time.Hour))
	if err := consumer.ResetOffsets(ctx, map[int32]kafka.OffsetTarget{0: hourAgo, 1: hourAgo}); err != nil {
		log.Fatal(err)
	}

	for {
		msg, err := consumer.Consume(ctx)
		var perr *kafka.PartitionError
		switch {
		case errors.Is(err, kafka.ErrConsumerTimeout):
			// Caught up: store the position and stop.
			if err := consumer.CommitOffsets(ctx); err != nil {
				log.Fatal(err)
			}
			return
		case errors.As(err, &perr):
			log.Printf("partition %d: %v", perr.Partition, perr.Err) // the others go on
			continue
		case err != nil:
			log.Fatal(err)
		}
		fmt.Printf("%d/%d: %s\n", msg.Partition, msg.Offset, msg.Value)
	}
}

func ExampleBalancedConsumer() {
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

	// A member of group billing, coordinated by the broker; every member
	// started the same way shares the topic's partitions with this one.
	consumer, err := topic.BalancedConsumer("billing", kafka.BalancedConsumerConfig{
		Managed:        true,
		Strategy:       kafka.RoundRobinAssignment,
		ConsumerConfig: kafka.ConsumerConfig{AutoCommit: true, AutoOffsetReset: kafka.OffsetLatest},
		PostRebalanceCallback: func(old, new map[int32]int64) map[int32]kafka.OffsetTarget {
			log.Printf("owned %v, now %v", old, new)
			return nil
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer consumer.Stop(ctx) // leaves the group, committing the position first

	for msg, err := range consumer.Messages(ctx) {
		if err != nil {
			log.Print(err)
			continue
		}
		fmt.Printf("member %s: %d/%d %s\n", consumer.MemberID(), msg.Partition, msg.Offset, msg.Value)
	}
}

func ExampleTopic_Subscribe() {
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

	consumer, err := topic.Subscribe("billing")
	if err != nil {
		log.Fatal(err)
	}
	defer consumer.Stop(ctx)
	for msg, err := range consumer.Messages(ctx) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s\n", msg.Value)
	}
}

func ExampleDefaultSerde() {
	fmt.Printf("%T\n", kafka.DefaultSerde[string]())
	fmt.Printf("%T\n", kafka.DefaultSerde[[]byte]())
	fmt.Printf("%T\n", kafka.DefaultSerde[map[string]int]())

	b, _ := kafka.DefaultSerde[map[string]int]().Serialize("scores", map[string]int{"ada": 3})
	fmt.Println(string(b))
	// Output:
	// kafka.StringSerde
	// kafka.BytesSerde
	// kafka.JSONSerde[map[string]int]
	// {"ada":3}
}
