package main

import (
	"context"
	"sort"

	"github.com/gregorkafka/gregor/kafka"
)

// groupDescription is kafka.GroupDescription with the CLI's JSON field
// names, which scripts parse; lists are never null.
type groupDescription struct {
	GroupID      string        `json:"group_id"`
	Type         string        `json:"type"` // "classic", "consumer" (KIP-848), "" if unknown
	State        string        `json:"state"`
	ProtocolType string        `json:"protocol_type"`
	Protocol     string        `json:"protocol"`
	Coordinator  int32         `json:"coordinator"`
	Members      []groupMember `json:"members"`
}

type groupMember struct {
	MemberID            string            `json:"member_id"`
	GroupInstanceID     string            `json:"group_instance_id,omitempty"`
	ClientID            string            `json:"client_id"`
	Host                string            `json:"host"`
	Subscription        []string          `json:"subscription"`
	SubscriptionPattern string            `json:"subscription_pattern,omitempty"` // a KIP-848 member's regex
	Assignment          []topicPartitions `json:"assignment"`
	// DecodeError says why the member's subscription or assignment could
	// not be read (a protocol other than Kafka's consumer protocol, or an
	// assigned topic id that names no topic).
	DecodeError string `json:"decode_error,omitempty"`
}

type topicPartitions struct {
	Topic      string  `json:"topic"`
	Partitions []int32 `json:"partitions"`
}

// exists reports whether the coordinator knows the group: Dead is what it
// answers for a group it has never seen (or has deleted).
func (d *groupDescription) exists() bool { return d.State != kafka.GroupStateDead }

// live reports whether the group has members, or is between generations.
func (d *groupDescription) live() bool {
	return len(d.Members) > 0 || d.State != kafka.GroupStateEmpty && d.State != kafka.GroupStateDead
}

// owners maps the partitions of topic to the member they are assigned to.
func (d *groupDescription) owners(topic string) map[int32]*groupMember {
	out := map[int32]*groupMember{}
	for i := range d.Members {
		m := &d.Members[i]
		for _, tp := range m.Assignment {
			if tp.Topic == topic {
				for _, p := range tp.Partitions {
					out[p] = m
				}
			}
		}
	}
	return out
}

// describeGroup describes one group on its coordinator.
func describeGroup(ctx context.Context, cl *kafka.Client, group string) (*groupDescription, error) {
	kd, err := cl.Cluster().DescribeGroup(ctx, group)
	if err != nil {
		return nil, err
	}
	d := &groupDescription{
		GroupID: kd.Group, Type: kd.Type, State: kd.State, ProtocolType: kd.ProtocolType, Protocol: kd.Protocol,
		Coordinator: kd.Coordinator, Members: make([]groupMember, 0, len(kd.Members)),
	}
	for _, km := range kd.Members {
		m := groupMember{
			MemberID: km.MemberID, GroupInstanceID: km.GroupInstanceID, ClientID: km.ClientID, Host: km.Host,
			Subscription: nonNil(km.Subscription), SubscriptionPattern: km.SubscriptionPattern, Assignment: []topicPartitions{},
			DecodeError: km.DecodeError,
		}
		for _, tp := range km.Assignment {
			m.Assignment = append(m.Assignment, topicPartitions{Topic: tp.Topic, Partitions: nonNil(tp.Partitions)})
		}
		d.Members = append(d.Members, m)
	}
	return d, nil
}

// groupListing is kafka.GroupListing with the CLI's JSON field names.
type groupListing struct {
	GroupID      string `json:"group_id"`
	ProtocolType string `json:"protocol_type"`
	State        string `json:"state"`
	Type         string `json:"type"`
	Coordinator  int32  `json:"coordinator"`
}

// listGroups asks every broker for the groups it coordinates.
func listGroups(ctx context.Context, cl *kafka.Client) ([]groupListing, error) {
	listed, err := cl.Cluster().ListGroups(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]groupListing, len(listed))
	for i, g := range listed {
		out[i] = groupListing{GroupID: g.Group, ProtocolType: g.ProtocolType, State: g.State, Type: g.Type,
			Coordinator: g.Coordinator}
	}
	return out, nil
}

func sortedIDs[V any](m map[int32]V) []int32 {
	ids := make([]int32, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}
