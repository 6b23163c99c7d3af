package kafka

import "crypto/sha1"

// SHA1Partitioner returns a partitioner that places a message as pykafka's
// hashing_partitioner does: the key's SHA-1 digest, read as one big-endian
// 160-bit number, modulo the partition count, with partitions in id order.
// Producers that share keyed topics with pykafka producers need it to put
// each key on the same partition (murmur2, HashPartitioner's default,
// agrees with the Java client instead). A message with a nil key fails with
// ErrNilKey, as pykafka refuses a None key.
func SHA1Partitioner() Partitioner { return sha1Partitioner{} }

type sha1Partitioner struct{}

func (sha1Partitioner) Partition(msg *Message, n int) (int32, error) {
	return sha1Partitioner{}.pick(msg.Key, 0, n)
}

func (sha1Partitioner) pick(key []byte, _ int32, n int) (int32, error) {
	if key == nil {
		return -1, ErrNilKey
	}
	return sha1Mod(key, n), nil
}

// sha1Mod is int(sha1(key).hexdigest(), 16) % n, one byte at a time:
// r*256+255 stays far below 2^64 for any partition count.
func sha1Mod(key []byte, n int) int32 {
	sum := sha1.Sum(key)
	var r uint64
	for _, b := range sum {
		r = (r<<8 | uint64(b)) % uint64(n)
	}
	return int32(r)
}
