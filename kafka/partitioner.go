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
// An error makes Produce fail with it.
type Partitioner interface {
	Partition(msg *Message, numPartitions int) (int32, error)
}

// PartitionerFunc adapts a function to a Partitioner.
type PartitionerFunc func(msg *Message, numPartitions int) (int32, error)

// Partition calls f.
func (f PartitionerFunc) Partition(msg *Message, numPartitions int) (int32, error) {
	return f(msg, numPartitions)
}

// RoundRobinPartitioner returns a partitioner that cycles through the
// partitions, one message each. Each call returns a new cycle.
func RoundRobinPartitioner() Partitioner {
	var next atomic.Uint32
	return PartitionerFunc(func(_ *Message, n int) (int32, error) {
		return int32((next.Add(1) - 1) % uint32(n)), nil
	})
}

// RandomPartitioner returns a partitioner that picks a partition at random
// for every message.
func RandomPartitioner() Partitioner {
	return PartitionerFunc(func(_ *Message, n int) (int32, error) {
		return int32(rand.IntN(n)), nil
	})
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
	return PartitionerFunc(func(msg *Message, n int) (int32, error) {
		if msg.Key == nil {
			return -1, ErrNilKey
		}
		return int32((hash(msg.Key) & 0x7fffffff) % uint32(n)), nil
	})
}

// ManualPartitioner returns a partitioner that sends each message to its
// Message.Partition.
func ManualPartitioner() Partitioner {
	return PartitionerFunc(func(msg *Message, _ int) (int32, error) {
		return msg.Partition, nil
	})
}
