package main

import (
	"context"
	"fmt"
	"io"

	"github.com/gregorkafka/gregor/kafka"
)

// produceTour follows pykafka's README: a synchronous producer sends four
// messages, each acknowledged before the next, then an asynchronous
// producer sends a few keyed messages and a delivery report arrives for
// each.
func produceTour(ctx context.Context, out io.Writer, client *kafka.Client) error {
	topic, err := client.Topic(ctx, topicName)
	if err != nil {
		return err
	}

	fmt.Fprintln(out, "\nProducing four messages with a SyncProducer:")
	sp, err := topic.SyncProducer(kafka.ProducerConfig{})
	if err != nil {
		return err
	}
	for i := range 4 {
		value := fmt.Sprintf("test message %d", i*i)
		partition, offset, err := sp.Produce(ctx, kafka.Message{Value: []byte(value)})
		if err != nil {
			sp.Close()
			return fmt.Errorf("producing %q: %w", value, err)
		}
		fmt.Fprintf(out, "  %-16q -> partition %d, offset %d\n", value, partition, offset)
	}
	if err := sp.Close(); err != nil {
		return err
	}

	fmt.Fprintln(out, "\nProducing keyed messages with an asynchronous Producer and delivery reports:")
	p, err := topic.Producer(kafka.ProducerConfig{DeliveryReports: true, Partitioner: kafka.HashPartitioner(nil)})
	if err != nil {
		return err
	}
	// Reports must be received while producing; the channel closes once
	// Close has delivered everything.
	printed := make(chan int)
	go func() {
		failed := 0
		for r := range p.Reports() {
			m := r.Message
			if r.Err != nil {
				failed++
				fmt.Fprintf(out, "  %s=%q failed: %v\n", m.Key, m.Value, r.Err)
				continue
			}
			fmt.Fprintf(out, "  %s=%q delivered to partition %d at offset %d\n", m.Key, m.Value, m.Partition, m.Offset)
		}
		printed <- failed
	}()
	var produceErr error
	for i := range 6 {
		msg := kafka.Message{Key: []byte(fmt.Sprintf("user-%d", i%3)), Value: []byte(fmt.Sprintf("event %d", i))}
		if produceErr = p.Produce(ctx, msg); produceErr != nil {
			break
		}
	}
	closeErr := p.Close()
	failed := <-printed
	switch {
	case produceErr != nil:
		return produceErr
	case closeErr != nil:
		return closeErr
	case failed > 0:
		return fmt.Errorf("%d messages not delivered", failed)
	}
	return nil
}
