package kafka_test

import (
	"context"
	"fmt"
	"log"

	"github.com/gregorkafka/gregor/kafka"
)

// Like the package's other examples, these need a broker at
// 127.0.0.1:9092, so they are compiled but not run.

func ExampleTopic_Producer() {
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

	producer, err := topic.Producer(kafka.ProducerConfig{
		Partitioner:     kafka.HashPartitioner(nil), // by key, as the Java client
		Compression:     kafka.CompressionLZ4,
		RequiredAcks:    kafka.AcksAll,
		DeliveryReports: true,
	})
	if err != nil {
		log.Fatal(err)
	}
	// Receive the reports while producing; the channel closes after Close.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for r := range producer.Reports() {
			if r.Err != nil {
				log.Printf("order %s not delivered: %v", r.Message.Key, r.Err)
				continue
			}
			fmt.Printf("order %s at %d/%d\n", r.Message.Key, r.Message.Partition, r.Message.Offset)
		}
	}()
	for i := range 10 {
		msg := kafka.Message{Key: []byte(fmt.Sprint("order-", i)), Value: []byte(`{"total": 42}`)}
		if err := producer.Produce(ctx, msg); err != nil {
			log.Fatal(err) // refused: closed, too large, no key...
		}
	}
	if err := producer.Close(); err != nil {
		log.Fatal(err)
	}
	<-done
}

func ExampleTopic_SyncProducer() {
	ctx := context.Background()
	client, err := kafka.NewClient(ctx, kafka.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	topic, err := client.Topic(ctx, "test")
	if err != nil {
		log.Fatal(err)
	}

	producer, err := topic.SyncProducer(kafka.ProducerConfig{})
	if err != nil {
		log.Fatal(err)
	}
	defer producer.Close()
	for i := range 4 {
		partition, offset, err := producer.Produce(ctx, kafka.Message{Value: []byte(fmt.Sprint("test message ", i*i))})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(partition, offset)
	}
}

func ExampleTopic_Publish() {
	ctx := context.Background()
	client, err := kafka.NewClient(ctx, kafka.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	topic, err := client.Topic(ctx, "test")
	if err != nil {
		log.Fatal(err)
	}

	// One message, then two that land together, in order, in one partition.
	if err := topic.Publish(ctx, []byte("hello world")); err != nil {
		log.Fatal(err)
	}
	if err := topic.Publish(ctx, []byte("hello"), []byte("world")); err != nil {
		log.Fatal(err)
	}
}
