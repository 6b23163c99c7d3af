package testcluster

import (
	"context"
	"errors"
	"fmt"
	"time"
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

// errNotController is Kafka's NOT_CONTROLLER (41): ZooKeeper-mode brokers accept admin requests only on the
// controller, which may move between our metadata read and the request.
const errNotController = 41

// onController runs fn against the cluster's controller, retrying while the controller moves.
func (c *Cluster) onController(ctx context.Context, fn func(*rawConn) error) error {
	for {
		md, err := c.Metadata(ctx, []string{})
		if err != nil {
			return err
		}
		addr := ""
		for _, b := range md.Brokers {
			if b.ID == md.ControllerID {
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
		var te *TopicError
		if !errors.As(err, &te) || te.Code != errNotController {
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
func (c *Cluster) Metadata(ctx context.Context, topics []string) (*Metadata, error) {
	var md *Metadata
	err := c.anyBroker(ctx, func(rc *rawConn) error {
		var err error
		md, err = rc.metadata(topics)
		return err
	})
	return md, err
}

// APIVersions asks the given broker for its supported API versions.
func (c *Cluster) APIVersions(ctx context.Context, id int32) ([]APIVersion, error) {
	b := c.Broker(id)
	if b == nil {
		return nil, fmt.Errorf("testcluster: no broker %d", id)
	}
	rc, err := dialRaw(ctx, b.Addr())
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return rc.apiVersions()
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
	return c.waitTopic(ctx, spec.Name, func(t *MetadataTopic) error {
		if t.Err != 0 {
			return fmt.Errorf("topic error code %d", t.Err)
		}
		if len(t.Partitions) != int(spec.Partitions) {
			return fmt.Errorf("%d of %d partitions", len(t.Partitions), spec.Partitions)
		}
		for _, p := range t.Partitions {
			if p.Leader < 0 {
				return fmt.Errorf("partition %d has no leader", p.ID)
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
	if err != nil {
		return err
	}
	return c.waitTopic(ctx, name, func(t *MetadataTopic) error {
		if t.Err == 0 {
			return errors.New("still listed")
		}
		return nil
	})
}

// waitTopic polls every running broker's metadata for a topic until check passes on all of them, since brokers
// learn of topic changes at different moments.
func (c *Cluster) waitTopic(ctx context.Context, name string, check func(*MetadataTopic) error) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for _, b := range c.runningBrokers() {
		err := b.process().waitFor(ctx, "showing topic "+name, func(ctx context.Context) error {
			md, err := metadataFrom(ctx, b.Addr(), []string{name})
			if err != nil {
				return err
			}
			for i := range md.Topics {
				if md.Topics[i].Name == name {
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
