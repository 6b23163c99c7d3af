package zookeeper

import (
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/go-zookeeper/zk"
)

// The ZooKeeper layout is pykafka's, so that gregor and pykafka consumers
// can share a group:
//
//	/consumers/<group>/ids/<hostname>:<uuid4>      ephemeral, data: the topic name
//	/consumers/<group>/owners/<topic>/<leader>-<p> ephemeral, data: the owner's id
//
// A member takes part in the topic's split when its ids node holds the
// topic's name. Owner nodes carry the partition's leader broker id in their
// name (pykafka's choice; the Java client's old consumer used the partition
// id alone); ownership is decided by partition id, whatever leader a node
// names.
//
// pykafka 2.8 on Python 3 formats the owners path from the topic's bytes, so
// its members claim under /consumers/<group>/owners/b'<topic>'/. Both
// spellings name the same topic: a member claims a partition under both (a
// pykafka member then finds the node it would create taken), and a node
// under either, of another member, means the partition is owned.
type Paths struct {
	IDs, Self, Owners        string
	OwnersBytes              string // pykafka on Python 3's spelling of owners
	BrokerIDs, Topics, Topic string
}

// pythonBytesName is how Python 3 formats a bytes value into a string:
// b'name'.
func pythonBytesName(name string) string { return "b'" + name + "'" }

// NewPaths returns the nodes of member id of group, consuming topic.
func NewPaths(chroot, group, topic, id string) Paths {
	base := chroot + "/consumers/" + group
	return Paths{
		IDs:         base + "/ids",
		Self:        base + "/ids/" + id,
		Owners:      base + "/owners/" + topic,
		OwnersBytes: base + "/owners/" + pythonBytesName(topic),
		BrokerIDs:   chroot + "/brokers/ids",
		Topics:      chroot + "/brokers/topics",
		Topic:       chroot + "/brokers/topics/" + topic,
	}
}

// NewConsumerID returns pykafka's consumer id: "<hostname>:<uuid4>".
func NewConsumerID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	var u [16]byte
	_, _ = rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	return fmt.Sprintf("%s:%x-%x-%x-%x-%x", host, u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// OwnerSlug names a partition's owner node: "<leader>-<partition>".
func OwnerSlug(leader, partition int32) string {
	return strconv.Itoa(int(leader)) + "-" + strconv.Itoa(int(partition))
}

// ParseOwnerSlug returns the partition id of an owner node's name. The
// leader may be -1 ("-1-3"), so the partition is what follows the last dash.
func ParseOwnerSlug(name string) (int32, bool) {
	i := strings.LastIndexByte(name, '-')
	if i <= 0 {
		return 0, false
	}
	if _, err := strconv.ParseInt(name[:i], 10, 32); err != nil {
		return 0, false
	}
	p, err := strconv.ParseInt(name[i+1:], 10, 32)
	if err != nil || p < 0 {
		return 0, false
	}
	return int32(p), true
}

// ACL is the nodes' ACL: open to all, as pykafka's.
var ACL = zk.WorldACL(zk.PermAll)

// EnsurePath creates path and its missing parents as persistent nodes.
func EnsurePath(conn *zk.Conn, path string) error {
	for i := 1; i <= len(path); i++ {
		if i < len(path) && path[i] != '/' {
			continue
		}
		_, err := conn.Create(path[:i], nil, 0, ACL)
		if err != nil && !errors.Is(err, zk.ErrNodeExists) {
			return fmt.Errorf("creating %s: %w", path[:i], err)
		}
	}
	return nil
}

// register creates the consumer's ids node. A node left by an earlier
// session of the consumer (ZooKeeper may take a moment to drop it) is
// replaced.
func (m *Member) register() error {
	conn := m.conn
	if err := EnsurePath(conn, m.paths.IDs); err != nil {
		return err
	}
	if err := EnsurePath(conn, m.paths.Owners); err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		_, err := conn.Create(m.paths.Self, []byte(m.cfg.Topic), zk.FlagEphemeral, ACL)
		if err == nil {
			return nil
		}
		if !errors.Is(err, zk.ErrNodeExists) || attempt > 0 {
			return fmt.Errorf("registering %s: %w", m.paths.Self, err)
		}
		_, stat, gerr := conn.Get(m.paths.Self)
		if gerr == nil && stat.EphemeralOwner == conn.SessionID() {
			return nil
		}
		if derr := conn.Delete(m.paths.Self, -1); derr != nil && !errors.Is(derr, zk.ErrNoNode) {
			return fmt.Errorf("replacing %s: %w", m.paths.Self, derr)
		}
	}
}

// participants returns the sorted ids of the group's members consuming
// the topic.
func (m *Member) participants() ([]string, error) {
	ids, _, err := m.conn.Children(m.paths.IDs)
	if errors.Is(err, zk.ErrNoNode) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", m.paths.IDs, err)
	}
	var out []string
	for _, id := range ids {
		data, _, err := m.conn.Get(m.paths.IDs + "/" + id)
		if errors.Is(err, zk.ErrNoNode) {
			continue // left since the listing
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s/%s: %w", m.paths.IDs, id, err)
		}
		if string(data) == m.cfg.Topic {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out, nil
}

// ownerNode is one node under either of the topic's owners paths.
type ownerNode struct {
	path      string
	partition int32
	owner     string
}

// ownerPaths are the nodes a claim of slug creates: the owners path's and
// its pykafka-on-Python-3 spelling's.
func (m *Member) ownerPaths(slug string) []string {
	return []string{m.paths.Owners + "/" + slug, m.paths.OwnersBytes + "/" + slug}
}

func (m *Member) ownerNodes() ([]ownerNode, error) {
	var out []ownerNode
	for _, dir := range []string{m.paths.Owners, m.paths.OwnersBytes} {
		names, _, err := m.conn.Children(dir)
		if errors.Is(err, zk.ErrNoNode) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("listing %s: %w", dir, err)
		}
		for _, name := range names {
			p, ok := ParseOwnerSlug(name)
			if !ok {
				continue
			}
			data, _, err := m.conn.Get(dir + "/" + name)
			if errors.Is(err, zk.ErrNoNode) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("reading %s/%s: %w", dir, name, err)
			}
			out = append(out, ownerNode{path: dir + "/" + name, partition: p, owner: string(data)})
		}
	}
	return out, nil
}

// deleteOwner deletes one of the consumer's owner nodes; one already gone
// is fine.
func (m *Member) deleteOwner(path string) error {
	err := m.conn.Delete(path, -1)
	if err != nil && !errors.Is(err, zk.ErrNoNode) {
		return fmt.Errorf("releasing %s: %w", path, err)
	}
	return nil
}

// claim creates the owner nodes of slug for partition p under both
// spellings of the owners path. Another member's node under either gives a
// *OwnedError, and what this call created is released again.
func (m *Member) claim(slug string, p int32) error {
	var created []string
	for _, path := range m.ownerPaths(slug) {
		err := m.claimNode(path, p)
		if err == nil {
			created = append(created, path)
			continue
		}
		for _, c := range created {
			_ = m.deleteOwner(c)
		}
		return err
	}
	return nil
}

func (m *Member) claimNode(path string, p int32) error {
	_, err := m.conn.Create(path, []byte(m.id), zk.FlagEphemeral, ACL)
	if err == nil {
		return nil
	}
	if errors.Is(err, zk.ErrNoNode) {
		// The parent (pykafka's spelling, made on demand) is missing.
		if err := EnsurePath(m.conn, path[:strings.LastIndexByte(path, '/')]); err != nil {
			return err
		}
		_, err = m.conn.Create(path, []byte(m.id), zk.FlagEphemeral, ACL)
		if err == nil {
			return nil
		}
	}
	if !errors.Is(err, zk.ErrNodeExists) {
		return fmt.Errorf("claiming %s: %w", path, err)
	}
	owner, _, gerr := m.conn.Get(path)
	if gerr == nil && string(owner) == m.id {
		return nil
	}
	return &OwnedError{Topic: m.cfg.Topic, Partition: p, Owner: string(owner)}
}
