package kafka

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/gregorkafka/gregor/protocol"
)

// Admin requests are routed as Kafka's Java Admin routes them: to any broker
// where every broker answers (KRaft brokers forward to the controller
// themselves), to the controller for reassignments, elections and new
// partitions, to a partition's leader for what the leader keeps (deleting
// records, describing producers), to a named broker for its own configs and
// log directories, and to the coordinator of a group or transaction.

// TopicPartition names one partition of a topic.
type TopicPartition struct {
	Topic     string
	Partition int32
}

func (tp TopicPartition) String() string { return fmt.Sprintf("%s/%d", tp.Topic, tp.Partition) }

// adminCall sends an admin request on b's general connection.
func adminCall[Resp protocol.Message](ctx context.Context, b *Broker, req protocol.Request) (Resp, error) {
	return call[Resp](ctx, b, connGeneral, req, 0)
}

// adminCallHeld is adminCall for a request the broker may hold for up to
// timeoutMs (its TimeoutMs field) before answering.
func adminCallHeld[Resp protocol.Message](ctx context.Context, b *Broker, req protocol.Request, timeoutMs int32) (Resp, error) {
	return call[Resp](ctx, b, connGeneral, req, b.adminTimeout(timeoutMs))
}

// anyBroker returns a broker for requests every broker answers, preferring
// one already connected.
func (c *Cluster) anyBroker(ctx context.Context) (*Broker, error) {
	if c.closed.Load() {
		return nil, ErrClosed
	}
	if bs := c.candidates(); len(bs) > 0 {
		return bs[0], nil
	}
	if err := c.Update(ctx); err != nil {
		return nil, err
	}
	if bs := c.candidates(); len(bs) > 0 {
		return bs[0], nil
	}
	return nil, &NoBrokersAvailableError{}
}

// brokerByID returns the broker with id, refreshing metadata once when the
// client does not know it.
func (c *Cluster) brokerByID(ctx context.Context, id int32) (*Broker, error) {
	if b := c.Broker(id); b != nil {
		return b, nil
	}
	if err := c.Update(ctx); err != nil {
		return nil, err
	}
	if b := c.Broker(id); b != nil {
		return b, nil
	}
	return nil, fmt.Errorf("kafka: broker %d is not in the cluster's metadata: %w", id, protocol.ErrBrokerNotAvailable)
}

// onControllerRetry runs fn on the controller, and again on the controller
// named by fresh metadata while fn reports NOT_CONTROLLER (a ZooKeeper-mode
// controller that moved) or a transport failure.
func (c *Cluster) onControllerRetry(ctx context.Context, fn func(*Broker) error) error {
	if c.closed.Load() {
		return ErrClosed
	}
	var err error
	for attempt := 0; attempt < adminAttempts; attempt++ {
		if attempt > 0 {
			if serr := c.h.Sleep(ctx, adminBackoff*time.Duration(attempt)); serr != nil {
				return errors.Join(err, serr)
			}
			if uerr := c.Update(ctx); uerr != nil {
				err = uerr
				continue
			}
		}
		var b *Broker
		if b, err = c.controller(ctx); err != nil {
			continue
		}
		err = fn(b)
		var ke *protocol.Error
		if err == nil || ctx.Err() != nil || (errors.As(err, &ke) && !errors.Is(err, protocol.ErrNotController)) {
			return err
		}
		c.log.Debug("kafka: admin request to the controller failed", "broker", b.id, "error", err)
	}
	return err
}

// leadersOf groups partitions by their leader. Partitions without a known
// leader (or of unknown topics) get an error in failed instead.
func (c *Cluster) leadersOf(ctx context.Context, parts map[string][]int32) (map[*Broker]map[string][]int32, map[TopicPartition]error) {
	byLeader := map[*Broker]map[string][]int32{}
	failed := map[TopicPartition]error{}
	for _, name := range sortedKeys(parts) {
		t, err := c.Topic(ctx, name)
		for _, p := range parts[name] {
			tp := TopicPartition{name, p}
			if err != nil {
				failed[tp] = err
				continue
			}
			part := t.Partition(p)
			if part == nil {
				failed[tp] = &PartitionError{Topic: name, Partition: p, Err: protocol.ErrUnknownTopicOrPartition}
				continue
			}
			l := part.Leader()
			if l == nil {
				failed[tp] = &PartitionError{Topic: name, Partition: p, Err: protocol.ErrLeaderNotAvailable}
				continue
			}
			if byLeader[l] == nil {
				byLeader[l] = map[string][]int32{}
			}
			byLeader[l][name] = append(byLeader[l][name], p)
		}
	}
	return byLeader, failed
}

// partitionErr wraps a per-partition broker error, nil staying nil.
func partitionErr(tp TopicPartition, err error) error {
	if err == nil {
		return nil
	}
	return &PartitionError{Topic: tp.Topic, Partition: tp.Partition, Err: err}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func strPtr(s string) *string { return &s }

func derefStr(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
