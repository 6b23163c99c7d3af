package testcluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gregorkafka/gregor/protocol"
)

// anyBroker runs fn against the first running broker that accepts a connection.
func (c *Cluster) anyBroker(ctx context.Context, fn func(*rawConn) error) error {
	var errs []error
	for _, b := range c.runningBrokers() {
		rc, err := dialRaw(ctx, b.Addr())
		if err != nil {
			errs = append(errs, err)
			continue
		}
		err = fn(rc)
		rc.Close()
		return err
	}
	if len(errs) == 0 {
		return errors.New("testcluster: no broker is running")
	}
	return errors.Join(errs...)
}

// onController runs fn against the cluster's controller, retrying while the controller moves.
func (c *Cluster) onController(ctx context.Context, fn func(*rawConn) error) error {
	for {
		md, err := c.Metadata(ctx, []string{})
		if err != nil {
			return err
		}
		addr := ""
		for _, b := range md.Brokers {
			if b.NodeID == md.ControllerID {
				addr = fmt.Sprintf("%s:%d", b.Host, b.Port)
			}
		}
		if addr == "" {
			return fmt.Errorf("testcluster: controller %d not among live brokers", md.ControllerID)
		}
		rc, err := dialRaw(ctx, addr)
		if err != nil {
			return err
		}
		err = fn(rc)
		rc.Close()
		// ZooKeeper-mode brokers take admin requests only on the controller, which may move between our
		// metadata read and the request.
		if !errors.Is(err, protocol.ErrNotController) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Metadata asks a running broker for the named topics (nil: all).
func (c *Cluster) Metadata(ctx context.Context, topics []string) (*protocol.MetadataResponse, error) {
	var md *protocol.MetadataResponse
	err := c.anyBroker(ctx, func(rc *rawConn) error {
		var err error
		md, err = rc.metadata(topics)
		return err
	})
	return md, err
}

// APIVersions returns the outcome of version negotiation between gregor's protocol package and the given broker.
func (c *Cluster) APIVersions(ctx context.Context, id int32) (*protocol.Versions, error) {
	b := c.Broker(id)
	if b == nil {
		return nil, fmt.Errorf("testcluster: no broker %d", id)
	}
	rc, err := dialRaw(ctx, b.Addr())
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return rc.versions, nil
}

// CreateTopic creates a topic and waits until every running broker knows a leader for each of its partitions.
func (c *Cluster) CreateTopic(ctx context.Context, spec TopicSpec) error {
	if spec.Partitions <= 0 {
		spec.Partitions = 1
	}
	if spec.ReplicationFactor <= 0 {
		spec.ReplicationFactor = 1
	}
	err := c.onController(ctx, func(rc *rawConn) error {
		return rc.createTopics([]TopicSpec{spec}, 30*time.Second)
	})
	if err != nil {
		return err
	}
	return c.waitTopic(ctx, spec.Name, func(t *protocol.MetadataResponseTopic) error {
		if err := protocol.ErrorForCode(t.ErrorCode); err != nil {
			return err
		}
		if len(t.Partitions) != int(spec.Partitions) {
			return fmt.Errorf("%d of %d partitions", len(t.Partitions), spec.Partitions)
		}
		for _, p := range t.Partitions {
			if p.LeaderID < 0 {
				return fmt.Errorf("partition %d has no leader", p.PartitionIndex)
			}
		}
		return nil
	})
}

// DeleteTopic deletes a topic and waits until no running broker lists it.
func (c *Cluster) DeleteTopic(ctx context.Context, name string) error {
	err := c.onController(ctx, func(rc *rawConn) error {
		return rc.deleteTopics([]string{name}, 30*time.Second)
	})
	// A loaded broker may retry a forwarded deletion inside the cluster and then answer that the topic it
	// has just deleted is unknown: either way it is gone, which waitTopic confirms.
	if err != nil && !errors.Is(err, protocol.ErrUnknownTopicOrPartition) {
		return err
	}
	return c.waitTopic(ctx, name, func(t *protocol.MetadataResponseTopic) error {
		if t.ErrorCode == 0 {
			return errors.New("still listed")
		}
		return nil
	})
}

// waitTopic polls every running broker's metadata for a topic until check passes on all of them, since brokers
// learn of topic changes at different moments.
func (c *Cluster) waitTopic(ctx context.Context, name string, check func(*protocol.MetadataResponseTopic) error) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for _, b := range c.runningBrokers() {
		err := b.process().waitFor(ctx, "showing topic "+name, func(ctx context.Context) error {
			md, err := metadataFrom(ctx, b.Addr(), []string{name})
			if err != nil {
				return err
			}
			for i := range md.Topics {
				if n := md.Topics[i].Name; n != nil && *n == name {
					return check(&md.Topics[i])
				}
			}
			return errors.New("topic not in answer")
		})
		if err != nil {
			return err
		}
	}
	return nil
}
