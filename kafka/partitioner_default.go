package kafka

// DefaultPartitioner returns the partitioner a ProducerConfig without one
// gets: a message with a key goes to the partition Murmur2 of the key picks,
// where the Java client (and franz-go and sarama) put it, so one key's
// messages stay on one partition and in order; a message with a nil key
// goes round-robin, one partition after the other. Each call returns a new
// cycle for the unkeyed messages.
//
// pykafka's producer placed every message round-robin, keyed or not; use
// RoundRobinPartitioner for that.
func DefaultPartitioner() Partitioner { return new(keyedPartitioner) }

type keyedPartitioner struct{ rr roundRobin }

func (k *keyedPartitioner) Partition(msg *Message, n int) (int32, error) {
	return k.pick(msg.Key, 0, n)
}

func (k *keyedPartitioner) pick(key []byte, _ int32, n int) (int32, error) {
	if key == nil {
		return k.rr.pick(nil, 0, n)
	}
	return int32((Murmur2(key) & 0x7fffffff) % uint32(n)), nil
}
