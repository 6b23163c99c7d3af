package kafka

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Defaults applied to zero ConsumerConfig fields; they are pykafka's.
const (
	DefaultFetchMessageMaxBytes    = 1 << 20
	DefaultFetchMaxBytes           = 50 << 20
	DefaultNumConsumerFetchers     = 1
	DefaultAutoCommitInterval      = 60 * time.Second
	DefaultQueuedMaxMessages       = 2000
	DefaultQueuedMaxBytes          = 64 << 20
	DefaultFetchMinBytes           = 1
	DefaultFetchWaitMax            = 100 * time.Millisecond
	DefaultOffsetsChannelBackoff   = time.Second
	DefaultOffsetsCommitMaxRetries = 5
)

// MaxFetchMessageBytes is the most a consumer asks one partition for in a
// fetch. A record batch larger than FetchMessageMaxBytes makes the consumer
// grow its request for that partition up to this size.
const MaxFetchMessageBytes = 64 << 20

// IsolationLevel says which records of transactions a consumer sees.
type IsolationLevel int8

const (
	// ReadUncommitted delivers every record, including those of
	// transactions that are still open or were aborted.
	ReadUncommitted IsolationLevel = 0
	// ReadCommitted delivers only records of committed transactions (and
	// non-transactional ones), and none past the last stable offset.
	ReadCommitted IsolationLevel = 1
)

// ConsumerConfig configures a SimpleConsumer. Like Config, its zero value
// means the documented defaults, which are pykafka's; Topic.SimpleConsumer
// validates it and reports the first bad field as a *ConfigError.
type ConsumerConfig struct {
	// ConsumerGroup is the group whose committed offsets the consumer
	// starts from and commits to. It does not make the consumer join the
	// group: a SimpleConsumer reads the partitions it is given. Empty means
	// no offset storage (every start uses AutoOffsetReset).
	ConsumerGroup string

	// Partitions are the ids of the partitions to consume. Default: all of
	// the topic's partitions at construction.
	Partitions []int32

	// FetchMessageMaxBytes is how many bytes of records one fetch asks of
	// each partition. A single record batch larger than this is still
	// delivered: the request grows for it (up to MaxFetchMessageBytes).
	// Default 1 MiB.
	FetchMessageMaxBytes int

	// FetchMaxBytes caps the records one Fetch response brings across its
	// partitions (Java's fetch.max.bytes); a quarter of QueuedMaxBytes caps
	// it too. A response is read into one buffer that lives until its last
	// message is consumed. Which size costs the least CPU depends on the
	// topic: at 100 partitions of 10 KiB records, 2 MiB responses took 0.8x
	// the CPU of 16 MiB ones (fewer page faults) on a topic gregor's
	// producer had written, and 1.12x on one franz-go's had. One Fetch
	// per broker is in flight, so a consumer whose round trips take many
	// milliseconds reads at most this much per broker and round trip. A
	// partition's single record batch larger than this still comes whole.
	// Default 50 MiB.
	FetchMaxBytes int

	// NumConsumerFetchers is pykafka's number of fetcher threads, accepted
	// for familiarity: gregor always fetches from every leader broker at
	// once, one fetch loop per broker, which is what more fetcher threads
	// bought in pykafka. Values above 1 change nothing. Default 1.
	NumConsumerFetchers int

	// AutoCommit commits the consumer's offsets every AutoCommitInterval,
	// and on Stop. It needs ConsumerGroup. Default off.
	AutoCommit bool

	// AutoCommitInterval is the time between automatic commits. Default 60s.
	AutoCommitInterval time.Duration

	// QueuedMaxMessages bounds the messages (records, not batches) fetched
	// ahead of the application, per partition. A partition is fetched again
	// once at most half of this many are queued, and each fetch asks the
	// broker for the bytes the room left holds at the partition's recent
	// size per record, in whole record batches of the size its last fetch
	// showed (at least one). Brokers answer with whole record batches, so
	// the bound can be exceeded by at most the rest of one batch. (Before its
	// first fetch shows the size of its records, a partition assumes the
	// smallest, 8 bytes: that fetch brings fewer messages, never more.)
	// FetchMessageMaxBytes still caps each fetch. The default, pykafka's,
	// holds a fetch of 100-byte records to about 220 KB a partition, well
	// under FetchMessageMaxBytes: a consumer of small records makes fewer,
	// larger fetches, and uses less CPU per record, with more (about
	// FetchMessageMaxBytes over the record size), which QueuedMaxBytes
	// still bounds across partitions.
	// Default 2000.
	QueuedMaxMessages int

	// QueuedMaxBytes bounds the bytes fetched ahead of the application
	// across all of the consumer's partitions: the keys and values queued,
	// the records fetched but not yet decoded, and what the Fetch requests
	// in flight may bring. QueuedMaxMessages and FetchMessageMaxBytes bound
	// each partition, so without this the memory a consumer holds grows with
	// its partition count. A broker fetch waits while less than a quarter of
	// the bound is free and then asks for no more than is free (nor more
	// than a quarter of the bound, so few responses share it), except that
	// a consumer holding nothing always fetches, so a single batch larger
	// than the bound still comes. A balanced consumer's bound covers all of
	// its topics: what they hold counts together, each topic's Fetches
	// count for that topic only (an idle topic's long poll must not hold
	// the others back), and each Fetch asks for at most the room divided
	// by the number of topics. Negative means no bound, which is
	// pykafka's behaviour. Default 64 MiB.
	QueuedMaxBytes int

	// FetchMinBytes is how much data the broker waits for before answering
	// a fetch (up to FetchWaitMax). Default 1.
	FetchMinBytes int

	// FetchWaitMax is the longest the broker holds a fetch waiting for
	// FetchMinBytes. Default 100ms.
	FetchWaitMax time.Duration

	// OffsetsChannelBackoff is the pause before retrying a failed offset
	// commit or fetch. Default 1s.
	OffsetsChannelBackoff time.Duration

	// OffsetsCommitMaxRetries is how many times a failed offset commit or
	// fetch is retried. Default 5; a negative value means no retries.
	OffsetsCommitMaxRetries int

	// AutoOffsetReset is where a partition starts when the group has no
	// committed offset for it (or ResetOffsetOnStart is set), and where it
	// moves when its offset is out of range: OffsetEarliest (the default)
	// or OffsetLatest.
	AutoOffsetReset OffsetTarget

	// ConsumerTimeout is how long Consume waits for a message before
	// failing with a *ConsumerTimeoutError. Zero (pykafka's -1) means no
	// limit: Consume waits as long as its context allows.
	ConsumerTimeout time.Duration

	// ManualStart keeps the consumer from starting on construction (pykafka's
	// auto_start=False): nothing is fetched until Start, or the first
	// Consume, which starts it. That leaves room to ResetOffsets first. By
	// default it starts at once, in the background, so that messages are
	// fetched before the first Consume.
	ManualStart bool

	// ResetOffsetOnStart makes the consumer start every partition at
	// AutoOffsetReset, ignoring committed offsets, and commit that position
	// at once.
	ResetOffsetOnStart bool

	// CompactedTopic says the topic is compacted, so that gaps in its
	// offsets are expected. Gaps are always accepted (transaction markers
	// make them too); on a topic not marked compacted, a gap that neither
	// explains is logged as a warning, since there it means lost records.
	CompactedTopic bool

	// IsolationLevel selects which transactional records are delivered.
	// Default ReadUncommitted.
	IsolationLevel IsolationLevel

	// generation, when set, supplies the group generation id and member id
	// sent with offset commits. Balanced consumers, which wrap a
	// SimpleConsumer over the partitions they own, set it so the
	// coordinator can fence commits from a past generation. Nil means the
	// consumer is not a group member: commits carry generation -1 and no
	// member id, which Kafka accepts for groups without active members.
	generation func() (generationID int32, memberID string)

	// groupInstanceID goes with generation: a static member's commits
	// carry its instance id (OffsetCommit v7+), as the Java client's do.
	groupInstanceID *string
}

// withDefaults validates c against topic t and returns a copy with every
// default filled in.
func (c ConsumerConfig) withDefaults(t *Topic) (ConsumerConfig, error) {
	bad := func(field, format string, args ...any) (ConsumerConfig, error) {
		return c, &ConfigError{Field: "ConsumerConfig." + field, Reason: fmt.Sprintf(format, args...)}
	}
	for _, f := range []struct {
		name string
		d    time.Duration
	}{
		{"AutoCommitInterval", c.AutoCommitInterval},
		{"FetchWaitMax", c.FetchWaitMax},
		{"OffsetsChannelBackoff", c.OffsetsChannelBackoff},
		{"ConsumerTimeout", c.ConsumerTimeout},
	} {
		if f.d < 0 {
			return bad(f.name, "negative (%v)", f.d)
		}
	}
	for _, f := range []struct {
		name string
		n    int
	}{
		{"FetchMessageMaxBytes", c.FetchMessageMaxBytes},
		{"FetchMaxBytes", c.FetchMaxBytes},
		{"NumConsumerFetchers", c.NumConsumerFetchers},
		{"QueuedMaxMessages", c.QueuedMaxMessages},
		{"FetchMinBytes", c.FetchMinBytes},
	} {
		if f.n < 0 {
			return bad(f.name, "negative (%d)", f.n)
		}
	}
	if c.FetchMessageMaxBytes > MaxFetchMessageBytes {
		return bad("FetchMessageMaxBytes", "%d is above MaxFetchMessageBytes (%d)", c.FetchMessageMaxBytes, MaxFetchMessageBytes)
	}
	if c.FetchMaxBytes > math.MaxInt32 {
		return bad("FetchMaxBytes", "%d does not fit a request", c.FetchMaxBytes)
	}
	if c.FetchMinBytes > math.MaxInt32 {
		return bad("FetchMinBytes", "%d does not fit a request", c.FetchMinBytes)
	}
	if c.FetchWaitMax > math.MaxInt32*time.Millisecond {
		return bad("FetchWaitMax", "%v does not fit a request", c.FetchWaitMax)
	}
	if k := c.AutoOffsetReset.kind; k != targetEarliest && k != targetLatest {
		return bad("AutoOffsetReset", "%v: must be OffsetEarliest or OffsetLatest", c.AutoOffsetReset)
	}
	if c.IsolationLevel != ReadUncommitted && c.IsolationLevel != ReadCommitted {
		return bad("IsolationLevel", "unknown level %d", c.IsolationLevel)
	}
	if c.AutoCommit && c.ConsumerGroup == "" {
		return bad("AutoCommit", "needs a ConsumerGroup")
	}
	if len(c.ConsumerGroup) > maxClientIDLen {
		return bad("ConsumerGroup", "longer than %d bytes", maxClientIDLen)
	}
	switch {
	case t == nil:
		// A balanced consumer of several topics: its group decides the
		// partitions, topic by topic.
	case c.Partitions == nil:
		c.Partitions = t.partitionIDs()
		if len(c.Partitions) == 0 {
			return bad("Partitions", "topic %q has no partitions", t.Name())
		}
	default:
		if len(c.Partitions) == 0 {
			return bad("Partitions", "empty; nil means all partitions")
		}
		c.Partitions = slices.Clone(c.Partitions)
		slices.Sort(c.Partitions)
		for i, id := range c.Partitions {
			if t.Partition(id) == nil {
				return bad(fmt.Sprintf("Partitions[%d]", i), "topic %q has no partition %d", t.Name(), id)
			}
			if i > 0 && c.Partitions[i-1] == id {
				return bad(fmt.Sprintf("Partitions[%d]", i), "partition %d listed twice", id)
			}
		}
	}

	if c.FetchMessageMaxBytes == 0 {
		c.FetchMessageMaxBytes = DefaultFetchMessageMaxBytes
	}
	if c.FetchMaxBytes == 0 {
		c.FetchMaxBytes = DefaultFetchMaxBytes
	}
	if c.NumConsumerFetchers == 0 {
		c.NumConsumerFetchers = DefaultNumConsumerFetchers
	}
	if c.AutoCommitInterval == 0 {
		c.AutoCommitInterval = DefaultAutoCommitInterval
	}
	if c.QueuedMaxMessages == 0 {
		c.QueuedMaxMessages = DefaultQueuedMaxMessages
	}
	if c.QueuedMaxBytes == 0 {
		c.QueuedMaxBytes = DefaultQueuedMaxBytes
	}
	if c.FetchMinBytes == 0 {
		c.FetchMinBytes = DefaultFetchMinBytes
	}
	if c.FetchWaitMax == 0 {
		c.FetchWaitMax = DefaultFetchWaitMax
	}
	if c.OffsetsChannelBackoff == 0 {
		c.OffsetsChannelBackoff = DefaultOffsetsChannelBackoff
	}
	switch {
	case c.OffsetsCommitMaxRetries == 0:
		c.OffsetsCommitMaxRetries = DefaultOffsetsCommitMaxRetries
	case c.OffsetsCommitMaxRetries < 0:
		c.OffsetsCommitMaxRetries = 0
	}
	return c, nil
}
