package kafka

import (
	"math/rand/v2"
	"sync/atomic"
)

// Partitioner picks the partition of each message a Producer accepts.
//
// Partition returns a partition id in [0, numPartitions): Kafka numbers a
// topic's partitions 0 to numPartitions-1. It is called from any goroutine
// that calls Produce, concurrently, so it must be safe for concurrent use.
// An error makes Produce fail with it. The message is the producer's copy;
// changes to it are ignored.
type Partitioner interface {
	Partition(msg *Message, numPartitions int) (int32, error)
}

// PartitionerFunc adapts a function to a Partitioner.
type PartitionerFunc func(msg *Message, numPartitions int) (int32, error)

// Partition calls f.
func (f PartitionerFunc) Partition(msg *Message, numPartitions int) (int32, error) {
	return f(msg, numPartitions)
}

// builtinPartitioner is implemented by the partitioners of this package.
// The producer calls pick instead of Partition: it needs only the key and
// the requested partition, so the message need not escape to the heap.
type builtinPartitioner interface {
	Partitioner
	pick(key []byte, partition int32, numPartitions int) (int32, error)
}

// RoundRobinPartitioner returns a partitioner that cycles through the
// partitions, one message each. Each call returns a new cycle.
func RoundRobinPartitioner() Partitioner { return new(roundRobin) }

type roundRobin struct{ next atomic.Uint32 }

func (r *roundRobin) Partition(msg *Message, n int) (int32, error) { return r.pick(nil, 0, n) }

func (r *roundRobin) pick(_ []byte, _ int32, n int) (int32, error) {
	return int32((r.next.Add(1) - 1) % uint32(n)), nil
}

// RandomPartitioner returns a partitioner that picks a partition at random
// for every message.
func RandomPartitioner() Partitioner { return randomPartitioner{} }

type randomPartitioner struct{}

func (randomPartitioner) Partition(msg *Message, n int) (int32, error) {
	return randomPartitioner{}.pick(nil, 0, n)
}

func (randomPartitioner) pick(_ []byte, _ int32, n int) (int32, error) {
	return int32(rand.IntN(n)), nil
}

// HashPartitioner returns a partitioner that places a message by the hash
// of its key: hash(key) & 0x7fffffff modulo the partition count. A nil
// hash means Murmur2, which puts a key where the Java client's default
// partitioner does. A message with a nil key fails with ErrNilKey; an
// empty key is hashed like any other.
func HashPartitioner(hash func(key []byte) uint32) Partitioner {
	if hash == nil {
		hash = Murmur2
	}
	return hashPartitioner{hash: hash}
}

type hashPartitioner struct{ hash func([]byte) uint32 }

func (h hashPartitioner) Partition(msg *Message, n int) (int32, error) {
	return h.pick(msg.Key, 0, n)
}

func (h hashPartitioner) pick(key []byte, _ int32, n int) (int32, error) {
	if key == nil {
		return -1, ErrNilKey
	}
	return int32((h.hash(key) & 0x7fffffff) % uint32(n)), nil
}

// ManualPartitioner returns a partitioner that sends each message to its
// Message.Partition.
func ManualPartitioner() Partitioner { return manualPartitioner{} }

type manualPartitioner struct{}

func (manualPartitioner) Partition(msg *Message, _ int) (int32, error) { return msg.Partition, nil }

func (manualPartitioner) pick(_ []byte, partition int32, _ int) (int32, error) { return partition, nil }
