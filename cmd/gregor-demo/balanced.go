package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gregorkafka/gregor/kafka"
)

const demoGroup = "gregor-demo-group"

// balancedTour has two balanced consumers of one group split the topic's
// partitions, as pykafka's README shows with get_balanced_consumer; the
// group is managed by the broker. Each reads the messages of its own
// partitions; when one stops, the other takes its partitions over.
func balancedTour(ctx context.Context, out io.Writer, client *kafka.Client) error {
	topic, err := client.Topic(ctx, topicName)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nTwo balanced consumers in group %q split the topic:\n", demoGroup)
	// No ZooKeeper named: the group's coordinator broker manages it.
	cfg := kafka.BalancedConsumerConfig{
		ConsumerConfig: kafka.ConsumerConfig{AutoCommit: true, ConsumerTimeout: time.Second},
	}
	names := []string{"A", "B"}
	consumers := make([]*kafka.BalancedConsumer, len(names))
	for i := range consumers {
		c, err := topic.BalancedConsumer(demoGroup, cfg)
		if err != nil {
			return err
		}
		defer c.Stop(context.WithoutCancel(ctx))
		consumers[i] = c
	}
	if err := waitForSplit(ctx, consumers, len(topic.Partitions())); err != nil {
		return err
	}
	for i, c := range consumers {
		fmt.Fprintf(out, "  consumer %s owns partitions %v\n", names[i], c.Partitions())
	}
	for i, c := range consumers {
		n := 0
		for msg, err := range c.Messages(ctx) {
			if err != nil {
				return err
			}
			if n++; n <= 3 {
				fmt.Fprintf(out, "  consumer %s: partition %d, offset %d: %q\n", names[i], msg.Partition, msg.Offset, msg.Value)
			}
		}
		fmt.Fprintf(out, "  consumer %s consumed %d messages\n", names[i], n)
	}

	if err := consumers[1].Stop(ctx); err != nil {
		return err
	}
	if err := waitForSplit(ctx, consumers[:1], len(topic.Partitions())); err != nil {
		return err
	}
	fmt.Fprintf(out, "  consumer B stopped; consumer A now owns partitions %v\n", consumers[0].Partitions())
	return nil
}

// waitForSplit waits until the consumers own every partition between them,
// each at least one.
func waitForSplit(ctx context.Context, consumers []*kafka.BalancedConsumer, partitions int) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		owned := 0
		for _, c := range consumers {
			if len(c.Partitions()) == 0 {
				owned = -1
				break
			}
			owned += len(c.Partitions())
		}
		if owned == partitions {
			return nil
		}
		select {
		case <-ctx.Done():
			return errors.New("the consumers did not split the topic in time")
		case <-time.After(50 * time.Millisecond):
		}
	}
}
