package kafka

import (
	"fmt"
	"math"
	"time"

	"github.com/gregorkafka/gregor/protocol"
)

// Compression is a codec for produced batches; the constants are the
// protocol package's.
type Compression = protocol.Compression

// Codecs for ProducerConfig.Compression.
const (
	CompressionNone   = protocol.CompressionNone
	CompressionGzip   = protocol.CompressionGzip
	CompressionSnappy = protocol.CompressionSnappy
	CompressionLZ4    = protocol.CompressionLZ4
	CompressionZstd   = protocol.CompressionZstd
)

// RequiredAcks says when a broker acknowledges a produce request. The zero
// value, AcksDefault, means AcksAll.
type RequiredAcks int8

const (
	// AcksDefault is the zero value: AcksAll, which idempotence needs.
	AcksDefault RequiredAcks = iota
	// AcksLeader: the leader has written the messages to its log. A
	// message acknowledged this way is lost if the leader dies before a
	// follower copied it. Choosing it turns IdempotenceAuto off.
	AcksLeader
	// AcksNone: the broker sends no response. Messages are reported
	// delivered, with offset -1, once written to the socket; fastest, and
	// lost without notice if the broker fails.
	AcksNone
	// AcksAll: every in-sync replica has the messages. With a topic's
	// min.insync.replicas above 1 an acknowledged message survives the
	// loss of any one broker.
	AcksAll
)

// wire returns the acks field of a Produce request.
func (a RequiredAcks) wire() int16 {
	switch a {
	case AcksNone:
		return 0
	case AcksLeader:
		return 1
	}
	return -1
}

func (a RequiredAcks) String() string {
	switch a {
	case AcksDefault:
		return "default"
	case AcksLeader:
		return "leader"
	case AcksNone:
		return "none"
	case AcksAll:
		return "all"
	}
	return fmt.Sprintf("RequiredAcks(%d)", int8(a))
}

// Producer defaults, applied to zero ProducerConfig fields.
const (
	// DefaultMaxRetries rides out a broker failure: pykafka's 3 retries
	// spanned under a second and reported messages failed whenever a leader
	// died.
	DefaultMaxRetries        = 15
	DefaultRetryBackoff      = 100 * time.Millisecond
	DefaultAckTimeout        = 10 * time.Second
	DefaultMaxQueuedMessages = 100000
	DefaultMinQueuedMessages = 1000
	// DefaultMaxBatchSize is pykafka's max_request_size: a batch within
	// the brokers' default message.max.bytes (1 MiB).
	DefaultMaxBatchSize = 1000012
	// DefaultMaxRequestSize lets a request carry the full batches of four
	// partitions. Larger requests cost small records more, whose values
	// are copied into the request: 100 B records took 18% more CPU in
	// requests of up to 16 MiB than of 1 MB, and 8% more at 4 MiB, which
	// already sends 10 KiB records as fast as 16 MiB does.
	DefaultMaxRequestSize = 4 << 20
)

// maxRetryBackoff caps the doubling retry backoff (unless RetryBackoff
// itself is larger).
const maxRetryBackoff = time.Second

// minRequestSize keeps MaxRequestSize and MaxBatchSize above the fixed
// overhead of a request, so that some message always fits.
const minRequestSize = 1024

// ProducerConfig configures a Producer. The zero value is usable: every
// zero field means the default documented next to it. Topic.Producer
// validates it and reports the first bad field as a *ConfigError.
//
// # When messages are sent
//
// By default (Linger 0) a producer sends as soon as it can and batches
// only what piles up meanwhile: a message for a broker with no request in
// flight goes out at once, and the messages produced while a request is in
// flight travel together in the next one. A partition has one batch in
// flight (five when idempotent, see "Idempotence"), so its queue drains a
// bounded number of batches per round trip. Latency is then one round trip when idle, and the batches
// grow by themselves with the load until MaxBatchSize caps them: there
// is no fixed delay to tune, and no timer that fires without work to do.
// (pykafka waited up to 5 seconds, or for 70000 messages, before sending
// anything.) A partition that holds MinQueuedMessages does not wait for
// the broker's other partitions' requests; it goes out in a request of its
// own.
//
// Linger > 0 switches to the classic rule instead: a partition's messages
// wait until it holds MinQueuedMessages or its oldest message has waited
// Linger, then go out in one batch, whether or not the broker is busy.
// That trades latency for fewer, larger requests. Flush and Close send
// everything at once in either mode.
//
// # Ordering and retries
//
// Messages of one partition are written in the order Produce accepted
// them, retries included. Without idempotence a partition has at most one
// batch in flight, and a batch that fails with a retriable error goes back
// to the head of its partition's queue, so nothing behind it can overtake
// it. (pykafka, like the Java client without idempotence, could reorder on
// retry; here the price is that one partition moves one batch per round
// trip, which the batching above makes up for.) A retried request may have
// been written by a broker that failed to answer, so without idempotence
// retries can duplicate a message; they never lose an acknowledged one.
//
// # Idempotence
//
// With idempotence (the default) the producer gets a producer id and epoch
// from the cluster (InitProducerId) and numbers each partition's records
// in the batch headers. A broker writes a batch only if its sequence
// number follows the last one it wrote, and answers a batch it already
// has as a success: retries neither duplicate nor reorder. That allows up
// to MaxInFlightPerPartition (5) batches in flight per partition, once the
// partition's first batch is acknowledged (a broker takes any number as a
// producer's first, so until then one at a time); a batch
// that fails is sent again with its number, the batches behind it
// following in order. When a partition's sequence cannot continue (a batch
// failed for good, or the broker lost the producer's state), the producer
// waits until nothing is in flight, bumps its epoch and numbers the
// unsent batches afresh. Idempotence needs RequiredAcks AcksAll: choosing
// AcksLeader or AcksNone turns IdempotenceAuto off, and is a *ConfigError
// with IdempotenceOn.
type ProducerConfig struct {
	// Partitioner picks each message's partition. Default: a new
	// DefaultPartitioner() per producer, which places a keyed message by
	// Murmur2 of its key, as the Java client does, and spreads messages
	// with a nil key round-robin. RoundRobinPartitioner() spreads every
	// message, keyed or not, as pykafka's producer did.
	Partitioner Partitioner

	// Compression is the codec for batches. Default CompressionNone. Zstd
	// needs brokers of Kafka 2.1 or later (Produce v7).
	Compression Compression

	// MaxRetries is how often a batch that failed with a retriable error
	// (a leader move, a broken connection, a timeout) is sent again before
	// its messages are reported failed. Default DefaultMaxRetries; a
	// negative value means no retries. A round of metadata refresh that
	// finds no leader for a partition counts as one try of its messages.
	// When a batch runs out of retries, the messages queued behind it on
	// its partition fail with it: the budget is one per fault, not one per
	// batch, so a dead cluster fails a long queue in one budget's time.
	//
	// A broker that dies keeps its partitions until the cluster notices
	// (broker.session.timeout.ms, 9 s by default), and every try meanwhile
	// fails. The default of 15 retries, with the backoff capped at one
	// second, spans some 12 seconds and so rides that out; fewer retries
	// report such messages failed sooner.
	MaxRetries int

	// RetryBackoff is the wait before the first retry; it doubles with
	// every further retry up to one second (or RetryBackoff, if larger).
	// Default DefaultRetryBackoff.
	RetryBackoff time.Duration

	// RequiredAcks is when a broker acknowledges. Default AcksAll.
	RequiredAcks RequiredAcks

	// Idempotence makes brokers write each message once however often it
	// is retried, and keep each partition in order; see "Idempotence".
	// Default IdempotenceAuto: on when RequiredAcks is AcksAll (the
	// default) and the brokers support it (Kafka 0.11 and later).
	Idempotence Idempotence

	// AckTimeout is how long a broker may wait for the replicas AcksAll
	// asks for before it answers with a timeout error. It must be below
	// the client's Config.SocketTimeout, which bounds the whole round trip.
	// Default DefaultAckTimeout.
	AckTimeout time.Duration

	// MaxQueuedMessages bounds the messages a producer holds (queued or in
	// flight, until reported). Produce then blocks, or fails with
	// ErrQueueFull when ErrorOnQueueFull is set. Default
	// DefaultMaxQueuedMessages.
	MaxQueuedMessages int

	// MinQueuedMessages is the queue length at which a partition is sent
	// without waiting; see "When messages are sent". Sync producers use 1.
	// It may not exceed MaxQueuedMessages. Default DefaultMinQueuedMessages,
	// or MaxQueuedMessages when that is smaller.
	MinQueuedMessages int

	// Linger, when positive, is the longest a message waits for more to
	// join its batch; see "When messages are sent". Default 0: no timed
	// wait.
	Linger time.Duration

	// ErrorOnQueueFull makes Produce fail with ErrQueueFull instead of
	// blocking when MaxQueuedMessages are held.
	ErrorOnQueueFull bool

	// MaxBatchSize caps what one partition puts in one request (its
	// record batch), in bytes of uncompressed records plus overhead, and
	// so the size of a single message: a larger one is refused by Produce
	// with an error matching ErrMessageTooLarge. Brokers cap a batch
	// themselves (message.max.bytes, about 1 MiB by default): a batch a
	// broker refuses as too large is halved and sent again (an idempotent
	// or transactional producer's halves keep its sequence numbers: no new
	// epoch, and an open transaction goes on), and the producer's batches
	// stay within that half from then on, so raising MaxBatchSize above the
	// broker's limit costs one refusal per halving, not one per batch.
	// Default DefaultMaxBatchSize, or MaxRequestSize when only that is set.
	// It may not exceed MaxRequestSize.
	MaxBatchSize int

	// MaxRequestSize caps a produce request as a whole: the batches of the
	// partitions one broker leads that travel together. Default
	// DefaultMaxRequestSize, or MaxBatchSize when that is larger.
	// (pykafka's max_request_size capped both a request and a batch at
	// 1,000,012 bytes, so a loaded producer's request carried one
	// partition's full batch: 10 KiB records took 1.4x as long to reach a
	// three-broker cluster as in requests of several batches, and cost its
	// brokers 1.3-1.5x the CPU. Setting MaxRequestSize alone keeps that
	// behaviour.)
	MaxRequestSize int

	// Sync makes Producer.Produce wait until the message is acknowledged
	// and return its delivery error. DeliveryReports is then ignored. It is
	// pykafka's sync=True, for code written against Producer;
	// Topic.SyncProducer is the same with Produce also returning the
	// partition and offset the message got.
	Sync bool

	// DeliveryReports makes the producer send a DeliveryReport for every
	// message to the channel Reports returns. They must be received: the
	// producer waits when the channel is full (only a Stop whose context
	// ended stops waiting, and drops what does not fit).
	DeliveryReports bool

	// TransactionalID makes the producer transactional: what it produces
	// between BeginTransaction and CommitTransaction becomes visible to
	// consumers reading committed data all at once, or (AbortTransaction)
	// never. It needs idempotence (not IdempotenceOff) and AcksAll. Producers
	// sharing the id are one logical producer across restarts: the newest
	// fences the older ones. Default "": not transactional.
	TransactionalID string

	// TransactionTimeout is how long a transaction may stay open before
	// the coordinator aborts it (at most the brokers'
	// transaction.max.timeout.ms, 15 minutes by default). Default
	// DefaultTransactionTimeout.
	TransactionTimeout time.Duration

	// ManualStart leaves a new producer stopped: it accepts messages but
	// sends nothing until Start. By default it starts at once.
	ManualStart bool
}

// withDefaults validates c against the client's configuration and returns
// a copy with every default filled in.
func (c ProducerConfig) withDefaults(cl *Config) (ProducerConfig, error) {
	bad := func(field, format string, args ...any) (ProducerConfig, error) {
		return c, &ConfigError{Field: "ProducerConfig." + field, Reason: fmt.Sprintf(format, args...)}
	}
	for _, f := range []struct {
		name string
		d    time.Duration
	}{
		{"RetryBackoff", c.RetryBackoff},
		{"AckTimeout", c.AckTimeout},
		{"Linger", c.Linger},
		{"TransactionTimeout", c.TransactionTimeout},
	} {
		if f.d < 0 {
			return bad(f.name, "negative (%v)", f.d)
		}
	}
	switch {
	case c.Compression < CompressionNone || c.Compression > CompressionZstd:
		return bad("Compression", "unknown codec %d", int8(c.Compression))
	case c.RequiredAcks < AcksDefault || c.RequiredAcks > AcksAll:
		return bad("RequiredAcks", "unknown value %d", int8(c.RequiredAcks))
	case c.Idempotence < IdempotenceAuto || c.Idempotence > IdempotenceOff:
		return bad("Idempotence", "unknown value %d", int8(c.Idempotence))
	case c.Idempotence == IdempotenceOn && (c.RequiredAcks == AcksLeader || c.RequiredAcks == AcksNone):
		return bad("Idempotence", "IdempotenceOn needs RequiredAcks AcksAll, not %v", c.RequiredAcks)
	case c.MaxQueuedMessages < 0:
		return bad("MaxQueuedMessages", "negative (%d)", c.MaxQueuedMessages)
	case c.MinQueuedMessages < 0:
		return bad("MinQueuedMessages", "negative (%d)", c.MinQueuedMessages)
	case c.MaxRequestSize < 0 || c.MaxRequestSize > 0 && c.MaxRequestSize < minRequestSize:
		return bad("MaxRequestSize", "%d is below %d", c.MaxRequestSize, minRequestSize)
	case c.MaxBatchSize < 0 || c.MaxBatchSize > 0 && c.MaxBatchSize < minRequestSize:
		return bad("MaxBatchSize", "%d is below %d", c.MaxBatchSize, minRequestSize)
	case c.MaxBatchSize > 0 && c.MaxRequestSize > 0 && c.MaxBatchSize > c.MaxRequestSize:
		return bad("MaxBatchSize", "%d is above MaxRequestSize (%d)", c.MaxBatchSize, c.MaxRequestSize)
	case c.AckTimeout > time.Duration(math.MaxInt32)*time.Millisecond:
		return bad("AckTimeout", "%v does not fit a request", c.AckTimeout)
	case c.TransactionTimeout > time.Duration(math.MaxInt32)*time.Millisecond:
		return bad("TransactionTimeout", "%v does not fit a request", c.TransactionTimeout)
	case c.TransactionalID != "" && c.Idempotence == IdempotenceOff:
		return bad("TransactionalID", "a transactional producer is idempotent; Idempotence is off")
	case c.TransactionalID != "" && (c.RequiredAcks == AcksLeader || c.RequiredAcks == AcksNone):
		return bad("TransactionalID", "a transactional producer needs RequiredAcks AcksAll, not %v", c.RequiredAcks)
	}
	if c.TransactionTimeout == 0 {
		c.TransactionTimeout = DefaultTransactionTimeout
	}
	if c.TransactionalID != "" {
		c.Idempotence = IdempotenceOn
	}

	if c.RequiredAcks == AcksDefault {
		c.RequiredAcks = AcksAll
	}
	if c.Idempotence == IdempotenceAuto && c.RequiredAcks != AcksAll {
		c.Idempotence = IdempotenceOff
	}
	if c.Partitioner == nil {
		c.Partitioner = DefaultPartitioner()
	}
	if c.MaxRetries == 0 {
		c.MaxRetries = DefaultMaxRetries
	} else if c.MaxRetries < 0 {
		c.MaxRetries = 0
	}
	if c.RetryBackoff == 0 {
		c.RetryBackoff = DefaultRetryBackoff
	}
	if c.AckTimeout == 0 {
		c.AckTimeout = DefaultAckTimeout
	}
	if c.AckTimeout >= cl.SocketTimeout {
		return bad("AckTimeout", "%v is not below the client's SocketTimeout (%v)", c.AckTimeout, cl.SocketTimeout)
	}
	if c.MaxQueuedMessages == 0 {
		c.MaxQueuedMessages = DefaultMaxQueuedMessages
	}
	if c.MinQueuedMessages == 0 {
		c.MinQueuedMessages = min(DefaultMinQueuedMessages, c.MaxQueuedMessages)
	} else if c.MinQueuedMessages > c.MaxQueuedMessages {
		// A partition could never hold enough to be sent without waiting.
		return bad("MinQueuedMessages", "%d is above MaxQueuedMessages (%d)", c.MinQueuedMessages, c.MaxQueuedMessages)
	}
	if c.Sync {
		c.MinQueuedMessages = 1
		c.DeliveryReports = false
	}
	switch {
	case c.MaxBatchSize == 0 && c.MaxRequestSize > 0:
		c.MaxBatchSize = c.MaxRequestSize
	case c.MaxBatchSize == 0:
		c.MaxBatchSize = DefaultMaxBatchSize
	}
	if c.MaxRequestSize == 0 {
		c.MaxRequestSize = max(DefaultMaxRequestSize, c.MaxBatchSize)
	}
	return c, nil
}
