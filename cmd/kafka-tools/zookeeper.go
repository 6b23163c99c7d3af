package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/gregorkafka/gregor/internal/zookeeper"
)

// zkTimeout bounds the whole ZooKeeper read when the command has no
// earlier deadline; the library's calls take no context.
const zkTimeout = 10 * time.Second

// zkMember is a consumer registered under /consumers/GROUP/ids.
type zkMember struct {
	ConsumerID string `json:"consumer_id"`
	// Subscription is the registration's topics: pykafka writes the topic
	// name, the old Java consumer a JSON document with a subscription map.
	Subscription string            `json:"subscription"`
	Owns         []topicPartitions `json:"owns"`
}

// zkGroup is what ZooKeeper holds about a group.
type zkGroup struct {
	exists  bool
	members []zkMember
	owners  map[string]map[int32]string // topic -> partition -> consumer id
}

// readZooKeeperGroup reads /consumers/GROUP: its registered consumers
// (ids) and which consumer owns which partition (owners). Owner nodes are
// named PARTITION by the Java consumer and LEADER-PARTITION by pykafka;
// both are read, and so are both spellings of a topic's owners directory
// (see topicOfOwnersDir).
func readZooKeeperGroup(ctx context.Context, connect, group string, log *slog.Logger) (*zkGroup, error) {
	var g *zkGroup
	err := withZooKeeper(ctx, connect, log, func(conn *zk.Conn, chroot string) error {
		var err error
		g, err = readGroupNodes(conn, chroot+"/consumers/"+group)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("reading group %q from zookeeper %s: %w", group, connect, err)
	}
	return g, nil
}

// readZooKeeperGroups reads every group under /consumers.
func readZooKeeperGroups(ctx context.Context, connect string, log *slog.Logger) (map[string]*zkGroup, error) {
	out := map[string]*zkGroup{}
	err := withZooKeeper(ctx, connect, log, func(conn *zk.Conn, chroot string) error {
		groups, err := children(conn, chroot+"/consumers")
		if err != nil {
			return err
		}
		for _, group := range groups {
			g, err := readGroupNodes(conn, chroot+"/consumers/"+group)
			if err != nil {
				return err
			}
			out[group] = g
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading groups from zookeeper %s: %w", connect, err)
	}
	return out, nil
}

// withZooKeeper runs read on a session to connect, bounded by ctx and
// zkTimeout.
func withZooKeeper(ctx context.Context, connect string, log *slog.Logger, read func(conn *zk.Conn, chroot string) error) error {
	zc, err := zookeeper.ParseConnect(connect)
	if err != nil {
		return usagef("bad --zookeeper %q: %v", connect, err)
	}
	wait := zkTimeout
	if dl, ok := ctx.Deadline(); ok {
		wait = min(wait, time.Until(dl))
	}
	conn, _, err := zk.Connect(zc.Servers, max(wait, 4*time.Second),
		zk.WithLogger(zookeeper.Logger{L: log}), zk.WithLogInfo(false), zk.WithEventCallback(func(zk.Event) {}))
	if err != nil {
		return err
	}
	// Closing the session fails whatever call is still waiting.
	defer conn.Close()

	done := make(chan error, 1)
	go func() { done <- read(conn, zc.Chroot) }()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return fmt.Errorf("no answer within %v", wait)
	}
}

// consumes counts the members of g that consume topic: registered for it,
// or owning one of its partitions.
func (g *zkGroup) consumes(topic string) int {
	n := 0
	for _, m := range g.members {
		if slices.Contains(strings.Split(m.Subscription, ","), topic) ||
			slices.ContainsFunc(m.Owns, func(tp topicPartitions) bool { return tp.Topic == topic }) {
			n++
		}
	}
	return n
}

func readGroupNodes(conn *zk.Conn, base string) (*zkGroup, error) {
	g := &zkGroup{owners: map[string]map[int32]string{}}
	ok, _, err := conn.Exists(base)
	if err != nil || !ok {
		return g, err
	}
	g.exists = true

	ids, err := children(conn, base+"/ids")
	if err != nil {
		return nil, err
	}
	byID := map[string]*zkMember{}
	for _, id := range ids {
		data, _, err := conn.Get(base + "/ids/" + id)
		if errors.Is(err, zk.ErrNoNode) {
			continue // the consumer left since the listing
		}
		if err != nil {
			return nil, err
		}
		g.members = append(g.members, zkMember{ConsumerID: id, Subscription: subscriptionOf(data), Owns: []topicPartitions{}})
	}
	for i := range g.members {
		byID[g.members[i].ConsumerID] = &g.members[i]
	}

	topics, err := children(conn, base+"/owners")
	if err != nil {
		return nil, err
	}
	for _, dir := range topics {
		nodes, err := children(conn, base+"/owners/"+dir)
		if err != nil {
			return nil, err
		}
		topic := topicOfOwnersDir(dir)
		for _, node := range nodes {
			partition, err := strconv.ParseInt(node[strings.LastIndexByte(node, '-')+1:], 10, 32)
			if err != nil {
				continue // not an owner node
			}
			data, _, err := conn.Get(base + "/owners/" + dir + "/" + node)
			if errors.Is(err, zk.ErrNoNode) {
				continue
			}
			if err != nil {
				return nil, err
			}
			owner := string(data)
			if g.owners[topic] == nil {
				g.owners[topic] = map[int32]string{}
			}
			g.owners[topic][int32(partition)] = owner
			if m := byID[owner]; m != nil {
				m.addOwned(topic, int32(partition))
			}
		}
	}
	sort.Slice(g.members, func(i, j int) bool { return g.members[i].ConsumerID < g.members[j].ConsumerID })
	return g, nil
}

// children lists a node's children; a missing node has none.
func children(conn *zk.Conn, path string) ([]string, error) {
	names, _, err := conn.Children(path)
	if errors.Is(err, zk.ErrNoNode) {
		return nil, nil
	}
	sort.Strings(names)
	return names, err
}

// topicOfOwnersDir names the topic of an owners directory: pykafka 2.8 on
// Python 3 writes b'<topic>' for <topic>, and gregor claims under both.
func topicOfOwnersDir(dir string) string {
	if len(dir) >= 3 && strings.HasPrefix(dir, "b'") && strings.HasSuffix(dir, "'") {
		return dir[2 : len(dir)-1]
	}
	return dir
}

func (m *zkMember) addOwned(topic string, partition int32) {
	for i := range m.Owns {
		if m.Owns[i].Topic == topic {
			if slices.Contains(m.Owns[i].Partitions, partition) {
				return // claimed under both spellings of the topic
			}
			m.Owns[i].Partitions = append(m.Owns[i].Partitions, partition)
			sort.Slice(m.Owns[i].Partitions, func(a, b int) bool { return m.Owns[i].Partitions[a] < m.Owns[i].Partitions[b] })
			return
		}
	}
	m.Owns = append(m.Owns, topicPartitions{Topic: topic, Partitions: []int32{partition}})
	sort.Slice(m.Owns, func(a, b int) bool { return m.Owns[a].Topic < m.Owns[b].Topic })
}

// subscriptionOf reads a registration: a topic name, or the Java
// consumer's {"subscription":{"topic":1},...}.
func subscriptionOf(data []byte) string {
	var reg struct {
		Subscription map[string]int `json:"subscription"`
	}
	if err := json.Unmarshal(data, &reg); err == nil && reg.Subscription != nil {
		topics := make([]string, 0, len(reg.Subscription))
		for t := range reg.Subscription {
			topics = append(topics, t)
		}
		sort.Strings(topics)
		return strings.Join(topics, ",")
	}
	return strings.TrimSpace(string(data))
}
