package kafka

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/gregorkafka/gregor/protocol"
)

// TopicSpec describes a topic for CreateTopics.
type TopicSpec struct {
	Name string
	// Partitions is the partition count; zero means the broker's default
	// (num.partitions).
	Partitions int32
	// ReplicationFactor is the number of replicas of each partition; zero
	// means the broker's default (default.replication.factor).
	ReplicationFactor int16
	// Configs are topic-level settings such as "cleanup.policy".
	Configs map[string]string
	// ReplicaAssignment, when set, places each partition's replicas on the
	// given broker ids (the first is the preferred leader) and fixes the
	// partition count; Partitions and ReplicationFactor must then be zero.
	ReplicaAssignment map[int32][]int32
}

// Admin requests go to the controller; one that moved (NOT_CONTROLLER)
// is found again after a metadata refresh, up to adminAttempts times.
const (
	adminAttempts   = 5
	adminBackoff    = 100 * time.Millisecond
	adminWaitPoll   = 50 * time.Millisecond
	adminWaitMaxGap = time.Second
)

// CreateTopics creates topics and waits until the client's metadata shows
// every created topic with all its partitions led, so that Topic finds it
// at once. The request goes to the controller (brokers in KRaft mode
// forward it there themselves); a NOT_CONTROLLER answer, which a
// ZooKeeper-mode cluster gives after the controller moved, is retried on
// the new controller.
//
// Topics the broker refused give a *TopicError each (errors.Is(err,
// ErrTopicAlreadyExists) works through it), joined with errors.Join; the
// other topics are created regardless. How long the wait may last is up to
// ctx, and at most Config.SocketTimeout.
func (c *Cluster) CreateTopics(ctx context.Context, specs ...TopicSpec) error {
	if c.closed.Load() {
		return ErrClosed
	}
	if len(specs) == 0 {
		return nil
	}
	for _, s := range specs {
		if len(s.ReplicaAssignment) > 0 && (s.Partitions != 0 || s.ReplicationFactor != 0) {
			return &ConfigError{Field: "TopicSpec.ReplicaAssignment", Reason: "set together with Partitions or ReplicationFactor"}
		}
	}
	timeoutMs := c.adminTimeoutMs(ctx)
	send := func(ctx context.Context, b *Broker, names []string) (map[string]error, error) {
		req := protocol.NewCreateTopicsRequest()
		req.TimeoutMs = timeoutMs
		for _, s := range specs {
			if slices.Contains(names, s.Name) {
				req.Topics = append(req.Topics, createTopic(s))
			}
		}
		resp, err := b.CreateTopics(ctx, req)
		if err != nil {
			return nil, err
		}
		out := make(map[string]error, len(resp.Topics))
		for i := range resp.Topics {
			rt := &resp.Topics[i]
			out[rt.Name] = brokerError(rt.ErrorCode, rt.ErrorMessage)
		}
		return out, nil
	}
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = s.Name
	}
	done, errs := c.onController(ctx, names, send)
	if len(done) > 0 {
		want := map[string]int32{}
		for _, s := range specs {
			want[s.Name] = max(s.Partitions, int32(len(s.ReplicaAssignment)))
		}
		err := c.waitTopics(ctx, done, func(mt *protocol.MetadataResponseTopic) bool {
			if mt.ErrorCode != 0 || len(mt.Partitions) == 0 {
				return false
			}
			if n := want[*mt.Name]; n > 0 && len(mt.Partitions) != int(n) {
				return false
			}
			for i := range mt.Partitions {
				if mt.Partitions[i].LeaderID < 0 {
					return false
				}
			}
			return true
		})
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func createTopic(s TopicSpec) protocol.CreateTopicsRequestTopic {
	t := protocol.CreateTopicsRequestTopic{Name: s.Name, NumPartitions: s.Partitions, ReplicationFactor: s.ReplicationFactor}
	if t.NumPartitions == 0 {
		t.NumPartitions = -1
	}
	if t.ReplicationFactor == 0 {
		t.ReplicationFactor = -1
	}
	ids := make([]int32, 0, len(s.ReplicaAssignment))
	for id := range s.ReplicaAssignment {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		t.Assignments = append(t.Assignments, protocol.CreateTopicsRequestReplicaAssignment{PartitionIndex: id, BrokerIDs: s.ReplicaAssignment[id]})
	}
	keys := make([]string, 0, len(s.Configs))
	for k := range s.Configs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := s.Configs[k]
		t.Configs = append(t.Configs, protocol.CreateTopicsRequestConfig{Name: k, Value: &v})
	}
	return t
}

// DeleteTopics deletes topics and waits until the client's metadata no
// longer shows them (the *Topic values then report Exists() == false).
// Routing, retries and errors work as in CreateTopics.
func (c *Cluster) DeleteTopics(ctx context.Context, names ...string) error {
	if c.closed.Load() {
		return ErrClosed
	}
	if len(names) == 0 {
		return nil
	}
	timeoutMs := c.adminTimeoutMs(ctx)
	send := func(ctx context.Context, b *Broker, names []string) (map[string]error, error) {
		req := protocol.NewDeleteTopicsRequest()
		req.TimeoutMs = timeoutMs
		// Versions up to 5 send TopicNames, later ones Topics.
		req.TopicNames = names
		for i := range names {
			req.Topics = append(req.Topics, protocol.DeleteTopicsRequestTopic{Name: &names[i]})
		}
		resp, err := b.DeleteTopics(ctx, req)
		if err != nil {
			return nil, err
		}
		out := make(map[string]error, len(resp.Responses))
		for i := range resp.Responses {
			rt := &resp.Responses[i]
			if rt.Name != nil {
				out[*rt.Name] = brokerError(rt.ErrorCode, rt.ErrorMessage)
			}
		}
		return out, nil
	}
	done, errs := c.onController(ctx, names, send)
	if len(done) > 0 {
		errs = append(errs, c.waitTopics(ctx, done, func(mt *protocol.MetadataResponseTopic) bool {
			return mt.ErrorCode == protocol.ErrUnknownTopicOrPartition.Code
		}))
	}
	return errors.Join(errs...)
}

// adminTimeoutMs is how long the broker may take over an admin request:
// what is left of ctx, but at most Config.SocketTimeout.
func (c *Cluster) adminTimeoutMs(ctx context.Context) int32 {
	d := c.cfg.SocketTimeout
	if dl, ok := ctx.Deadline(); ok {
		d = min(d, dl.Sub(c.h.Now()))
	}
	return int32(max(d, time.Millisecond) / time.Millisecond)
}

// adminSend sends an admin request for names to b and returns each name's
// outcome.
type adminSend func(ctx context.Context, b *Broker, names []string) (map[string]error, error)

// onController runs send on the controller, retrying the names it refuses
// with NOT_CONTROLLER (and everything after a transport failure) on the
// controller named by fresh metadata. It returns the names that succeeded
// and a *TopicError per name that failed.
func (c *Cluster) onController(ctx context.Context, names []string, send adminSend) (done []string, errs []error) {
	pending := names
	var lastErr error
	for attempt := 0; attempt < adminAttempts && len(pending) > 0; attempt++ {
		if attempt > 0 {
			if err := c.h.Sleep(ctx, adminBackoff*time.Duration(attempt)); err != nil {
				lastErr = err
				break
			}
			if err := c.Update(ctx); err != nil {
				lastErr = err
				continue
			}
		}
		b, err := c.controller(ctx)
		if err != nil {
			lastErr = err
			continue
		}
		results, err := send(ctx, b, pending)
		if err != nil {
			c.log.Debug("kafka: admin request failed", "broker", b.id, "error", err)
			lastErr = err
			if ctx.Err() != nil {
				break
			}
			continue
		}
		var retry []string
		for _, name := range pending {
			err, ok := results[name]
			switch {
			case !ok:
				errs = append(errs, &TopicError{Topic: name, Err: errors.New("kafka: missing from the broker's answer")})
			case err == nil:
				done = append(done, name)
			case errors.Is(err, protocol.ErrNotController):
				c.log.Debug("kafka: admin request reached a broker that is not the controller", "broker", b.id, "topic", name)
				lastErr = err
				retry = append(retry, name)
			default:
				errs = append(errs, &TopicError{Topic: name, Err: err})
			}
		}
		pending = retry
	}
	for _, name := range pending {
		errs = append(errs, &TopicError{Topic: name, Err: lastErr})
	}
	return done, errs
}

// controller returns the broker to send admin requests to: the controller
// the metadata names, or any live broker when it names none.
func (c *Cluster) controller(ctx context.Context) (*Broker, error) {
	if b := c.Controller(); b != nil {
		return b, nil
	}
	if err := c.Update(ctx); err != nil {
		return nil, err
	}
	if b := c.Controller(); b != nil {
		return b, nil
	}
	if bs := c.candidates(); len(bs) > 0 {
		return bs[0], nil
	}
	return nil, &NoBrokersAvailableError{}
}

// waitTopics polls metadata for names until ready holds for each, with a
// growing gap between polls, for at most Config.SocketTimeout. The polls
// also bring the model up to date.
func (c *Cluster) waitTopics(ctx context.Context, names []string, ready func(*protocol.MetadataResponseTopic) bool) error {
	deadline := c.h.Now().Add(c.cfg.SocketTimeout)
	gap := adminWaitPoll
	pending := names
	for {
		md, err := c.metadata(ctx, metadataRequest(pending, false), false)
		if err != nil && ctx.Err() != nil {
			return err
		}
		if err == nil {
			var still []string
			for _, name := range pending {
				if mt := findTopic(md, name); mt == nil || !ready(mt) {
					still = append(still, name)
				}
			}
			if pending = still; len(pending) == 0 {
				return nil
			}
		}
		if c.h.Now().Add(gap).After(deadline) {
			errs := make([]error, len(pending))
			for i, name := range pending {
				errs[i] = &TopicError{Topic: name, Err: fmt.Errorf("kafka: accepted, but metadata did not reflect it within %v", c.cfg.SocketTimeout)}
			}
			return errors.Join(errs...)
		}
		if err := c.h.Sleep(ctx, gap); err != nil {
			return err
		}
		gap = min(2*gap, adminWaitMaxGap)
	}
}
