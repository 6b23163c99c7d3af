package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/gregorkafka/gregor/kafka"
)

// consumeTour reads back everything produced so far with a SimpleConsumer,
// printing each message's offset and value as pykafka's README does. The
// consumer owns every partition and takes them in turns; ranging over
// Messages ends once no message has come for ConsumerTimeout.
func consumeTour(ctx context.Context, out io.Writer, client *kafka.Client) error {
	topic, err := client.Topic(ctx, topicName)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "\nConsuming it all back with a SimpleConsumer (partition, offset, value):")
	c, err := topic.SimpleConsumer(kafka.ConsumerConfig{ConsumerTimeout: time.Second})
	if err != nil {
		return err
	}
	n := 0
	for msg, err := range c.Messages(ctx) {
		if err != nil {
			c.Stop(ctx)
			return err
		}
		fmt.Fprintf(out, "  %d  %d %s\n", msg.Partition, msg.Offset, msg.Value)
		n++
	}
	fmt.Fprintf(out, "  %d messages; held offsets %v\n", n, c.HeldOffsets())
	return c.Stop(ctx)
}
