// Command txncopy copies one topic to another in transactions, committing
// the input offsets of its consumer group in each: the consume-transform-
// produce loop exactly-once processing is made of. Tests run it, kill it
// with SIGKILL in the middle of a transaction, and run it again.
//
// It prints "committed N" after each transaction and, with -hang K, prints
// "open" once the K-th transaction's messages are written and then waits,
// without committing, to be killed. It exits once the input is drained.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/handler/eventloop"
	"github.com/gregorkafka/gregor/kafka"
)

func main() {
	brokers := flag.String("brokers", "", "bootstrap brokers, comma-separated")
	in := flag.String("in", "", "input topic")
	out := flag.String("out", "", "output topic")
	group := flag.String("group", "", "consumer group")
	id := flag.String("id", "", "transactional id")
	batch := flag.Int("batch", 100, "messages per transaction")
	hang := flag.Int("hang", 0, "wait to be killed inside this transaction (1-based); 0: never")
	runtime := flag.String("handler", "goroutine", "goroutine or eventloop")
	flag.Parse()
	var h handler.Handler
	if *runtime == "eventloop" {
		el, err := eventloop.New()
		if err != nil {
			fmt.Fprintln(os.Stderr, "txncopy:", err)
			os.Exit(1)
		}
		h = el
	}
	if err := run(h, *brokers, *in, *out, *group, *id, *batch, *hang); err != nil {
		fmt.Fprintln(os.Stderr, "txncopy:", err)
		os.Exit(1)
	}
}

func run(h handler.Handler, brokers, in, out, group, id string, batch, hang int) error {
	ctx := context.Background()
	cl, err := kafka.NewClient(ctx, kafka.Config{Hosts: strings.Split(brokers, ","), Handler: h})
	if err != nil {
		return err
	}
	defer cl.Close()
	src, err := cl.Topic(ctx, in)
	if err != nil {
		return err
	}
	dst, err := cl.Topic(ctx, out)
	if err != nil {
		return err
	}
	c, err := src.SimpleConsumer(kafka.ConsumerConfig{
		ConsumerGroup: group, AutoOffsetReset: kafka.OffsetEarliest,
		IsolationLevel: kafka.ReadCommitted, ConsumerTimeout: 2 * time.Second,
	})
	if err != nil {
		return err
	}
	defer c.Stop(ctx)
	p, err := dst.Producer(kafka.ProducerConfig{TransactionalID: id})
	if err != nil {
		return err
	}
	defer p.Close()

	total := 0
	for txn := 1; ; txn++ {
		if err := p.BeginTransaction(ctx); err != nil {
			return err
		}
		offsets := map[int32]int64{}
		n := 0
		for n < batch {
			m, err := c.Consume(ctx)
			if errors.Is(err, kafka.ErrConsumerTimeout) {
				break
			}
			if err != nil {
				return err
			}
			if err := p.Produce(ctx, kafka.Message{Key: m.Key, Value: append([]byte("copy:"), m.Value...)}); err != nil {
				return err
			}
			offsets[m.Partition] = m.Offset + 1
			n++
		}
		if n == 0 {
			return p.AbortTransaction(ctx)
		}
		if txn == hang {
			if err := p.Flush(ctx); err != nil {
				return err
			}
			fmt.Println("open", p.TransactionV2()) // and the protocol it speaks
			time.Sleep(time.Hour)                  // until killed
		}
		if err := p.SendOffsetsToTransaction(ctx, map[string]map[int32]int64{in: offsets}, c.GroupMetadata()); err != nil {
			return err
		}
		if err := p.CommitTransaction(ctx); err != nil {
			return err
		}
		total += n
		fmt.Println("committed", total)
	}
}
