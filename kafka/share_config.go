package kafka

import (
	"strconv"
	"time"
)

// Defaults applied to zero ShareConsumerConfig fields (the Java share
// consumer's).
const (
	DefaultShareMaxRecords = 500
	DefaultShareMaxWait    = 500 * time.Millisecond
	DefaultShareMaxBytes   = 50 << 20
)

// AckMode says how a ShareConsumer's records get acknowledged.
type AckMode uint8

const (
	// AckImplicit (the default) accepts every record a Poll delivered when
	// the next Poll, Commit or Close runs, unless the application
	// acknowledged it otherwise first (Acknowledge with AckRelease, for
	// instance). It is the Java client's share.acknowledgement.mode=implicit,
	// except that Java refuses Acknowledge in that mode and gregor lets it
	// override the implicit accept.
	AckImplicit AckMode = iota
	// AckExplicit makes the application acknowledge every record it was
	// given, with Acknowledge, before the next Poll, which otherwise fails
	// with ErrShareUnacknowledged (share.acknowledgement.mode=explicit).
	AckExplicit
)

func (m AckMode) String() string {
	switch m {
	case AckImplicit:
		return "implicit"
	case AckExplicit:
		return "explicit"
	}
	return "AckMode(" + strconv.Itoa(int(m)) + ")"
}

// ShareAckCallback is told how acknowledgements ended, one call per
// partition and request: Offsets were acknowledged (Err nil) or not (Err
// says why; errors.Is(err, protocol.ErrInvalidRecordState) when a record's
// acquisition lock ran out first, and the broker has already made it
// available again). It runs on the goroutine calling Poll, Commit or
// Close, so it may use the consumer's own state freely but must not call
// Poll, Commit or Close.
type ShareAckCallback func(ShareAckResult)

// ShareAckResult is one partition's outcome of sent acknowledgements.
type ShareAckResult struct {
	Topic     string
	Partition int32
	Offsets   []int64
	Err       error
}

// ShareConsumerConfig configures a ShareConsumer: a member of a share group
// (KIP-932, "queues for Kafka"), where the broker hands each record to one
// member at a time, however many members read a partition, and the members
// acknowledge records one by one. Its zero value, apart from Group and
// Topics, means the documented defaults; Client.ShareConsumer reports the
// first bad field as a *ConfigError.
//
// Where a share group starts reading a partition, how long a member may
// hold a record (the acquisition lock) and how many deliveries a record
// gets are the group's settings, not the consumer's: set them with
// Cluster.IncrementalAlterConfigs on ConfigResource{Type: ConfigGroup,
// Name: group} (share.auto.offset.reset, default "latest";
// share.record.lock.duration.ms, default 30s; share.delivery.count.limit,
// default 5).
type ShareConsumerConfig struct {
	// Group is the share group's id. Required.
	Group string
	// Topics the member subscribes to. Required; each must exist.
	Topics []string
	// AckMode: AckImplicit (default) or AckExplicit.
	AckMode AckMode
	// MaxRecords bounds the records one ShareFetch acquires from a broker
	// (max.poll.records); default DefaultShareMaxRecords.
	MaxRecords int
	// MaxWait is how long a broker may hold a ShareFetch waiting for
	// records (fetch.max.wait.ms); default DefaultShareMaxWait.
	MaxWait time.Duration
	// MaxBytes bounds a ShareFetch response (fetch.max.bytes); default
	// DefaultShareMaxBytes.
	MaxBytes int32
	// OnAcknowledged, if set, hears how every acknowledgement sent ended;
	// see ShareAckCallback. Commit also returns failures.
	OnAcknowledged ShareAckCallback
	// RackID is the member's rack, for rack-aware assignment; optional.
	RackID string
}

func (c ShareConsumerConfig) withDefaults() (ShareConsumerConfig, error) {
	bad := func(field, reason string) (ShareConsumerConfig, error) {
		return c, &ConfigError{Field: "ShareConsumerConfig." + field, Reason: reason}
	}
	if c.Group == "" {
		return bad("Group", "required")
	}
	if len(c.Topics) == 0 {
		return bad("Topics", "at least one topic is required")
	}
	seen := map[string]bool{}
	for i, t := range c.Topics {
		if t == "" {
			return bad("Topics["+strconv.Itoa(i)+"]", "empty topic name")
		}
		if seen[t] {
			return bad("Topics["+strconv.Itoa(i)+"]", "topic "+t+" listed twice")
		}
		seen[t] = true
	}
	if c.AckMode > AckExplicit {
		return bad("AckMode", "unknown mode "+c.AckMode.String())
	}
	switch {
	case c.MaxRecords < 0:
		return bad("MaxRecords", "negative")
	case c.MaxRecords == 0:
		c.MaxRecords = DefaultShareMaxRecords
	case c.MaxRecords > 1<<31-1:
		return bad("MaxRecords", "above 2^31-1")
	}
	switch {
	case c.MaxWait < 0:
		return bad("MaxWait", "negative")
	case c.MaxWait == 0:
		c.MaxWait = DefaultShareMaxWait
	case c.MaxWait > time.Duration(1<<31-1)*time.Millisecond:
		return bad("MaxWait", "above 2^31-1 milliseconds")
	}
	switch {
	case c.MaxBytes < 0:
		return bad("MaxBytes", "negative")
	case c.MaxBytes == 0:
		c.MaxBytes = DefaultShareMaxBytes
	}
	c.Topics = append([]string(nil), c.Topics...)
	return c, nil
}
