package kafka

import (
	"errors"
	"slices"
)

// Pause stops fetching and delivering the partitions ids until Resume (the
// Java consumer's pause): Consume goes on with the other partitions,
// messages already fetched for these stay queued, and their positions do
// not move, so a commit stores the same offsets as before. A partition the
// consumer does not consume fails with a *PartitionError wrapping
// ErrPartitionNotConsumed; the others are paused regardless.
func (c *SimpleConsumer) Pause(ids ...int32) error {
	return c.setPaused(ids, true)
}

// Resume fetches and delivers paused partitions again, from where they
// stopped; see Pause. Resuming a partition not paused does nothing.
func (c *SimpleConsumer) Resume(ids ...int32) error {
	return c.setPaused(ids, false)
}

// Paused returns the partitions paused now, sorted.
func (c *SimpleConsumer) Paused() []int32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []int32
	for _, op := range c.parts {
		if op.paused {
			out = append(out, op.id)
		}
	}
	slices.Sort(out)
	return out
}

func (c *SimpleConsumer) setPaused(ids []int32, paused bool) error {
	var errs []error
	resumed := false
	c.mu.Lock()
	for _, id := range ids {
		op := c.byID[id]
		if op == nil {
			errs = append(errs, &PartitionError{Topic: c.topic.name, Partition: id, Err: ErrPartitionNotConsumed})
			continue
		}
		if op.paused == paused {
			continue
		}
		op.paused = paused
		c.pausedLocked(op, paused)
		if !paused {
			resumed = true
			if op.queue.len() > 0 && !op.inReady {
				c.ready.push(op)
				op.inReady = true
			}
		}
	}
	loops := make([]*fetchLoop, 0, len(c.loops))
	for _, l := range c.loops {
		loops = append(loops, l)
	}
	freed := c.roomFreedLocked() // what paused partitions hold stops counting
	c.mu.Unlock()
	kickAll(freed)
	if resumed {
		// Consume may wait for a message only these have; the fetch
		// loops skipped them.
		c.avail.Set()
		for _, l := range loops {
			l.kick()
		}
	}
	return errors.Join(errs...)
}

// Pause stops fetching and delivering partitions the consumer owns, until
// Resume; see SimpleConsumer.Pause. A partition stays paused through
// rebalances that leave it with the consumer; one that goes to another
// member is no longer paused when it comes back. A partition not owned now fails with a
// *PartitionError wrapping ErrPartitionNotConsumed. It may be called from
// AfterAssignCallback, before anything of the new partitions is delivered.
func (b *BalancedConsumer) Pause(ids ...int32) error {
	return b.setPaused(ids, true)
}

// Resume fetches and delivers paused partitions again; see Pause.
func (b *BalancedConsumer) Resume(ids ...int32) error {
	return b.setPaused(ids, false)
}

// Paused returns the partitions paused now, sorted.
func (b *BalancedConsumer) Paused() []int32 {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]int32, 0, len(b.pausedIDs))
	for tp := range b.pausedIDs {
		if tp.Topic == b.single {
			out = append(out, tp.Partition)
		}
	}
	slices.Sort(out)
	return out
}

func (b *BalancedConsumer) setPaused(ids []int32, paused bool) error {
	if b.single == "" && !b.isStopped() {
		return ErrSeveralTopics
	}
	return b.setPausedParts(topicParts{b.single: ids}, paused)
}

// PauseTopics is Pause by topic, for consumers of several topics: topic →
// partition ids.
func (b *BalancedConsumer) PauseTopics(parts map[string][]int32) error {
	return b.setPausedParts(parts, true)
}

// ResumeTopics is Resume by topic; see PauseTopics.
func (b *BalancedConsumer) ResumeTopics(parts map[string][]int32) error {
	return b.setPausedParts(parts, false)
}

// PausedTopics returns the partitions paused now by topic, sorted.
func (b *BalancedConsumer) PausedTopics() map[string][]int32 {
	b.mu.Lock()
	out := topicParts{}
	for tp := range b.pausedIDs {
		out[tp.Topic] = append(out[tp.Topic], tp.Partition)
	}
	b.mu.Unlock()
	return out.normalized()
}

func (b *BalancedConsumer) setPausedParts(parts topicParts, paused bool) error {
	if b.isStopped() {
		return ErrConsumerStopped
	}
	// Not while a rebalance replaces the consumer underneath.
	b.swap.Lock()
	defer b.swap.Unlock()
	var errs []error
	apply := map[*SimpleConsumer][]int32{}
	b.mu.Lock()
	for _, topic := range sortedTopics(parts) {
		inner := b.inners[topic]
		for _, id := range parts[topic] {
			if !b.owned.has(topic, id) {
				errs = append(errs, &PartitionError{Topic: topic, Partition: id, Err: ErrPartitionNotConsumed})
				continue
			}
			if inner != nil {
				apply[inner] = append(apply[inner], id)
			}
			if paused {
				b.pausedIDs[TopicPartition{topic, id}] = true
			} else {
				delete(b.pausedIDs, TopicPartition{topic, id})
			}
		}
	}
	b.mu.Unlock()
	for inner, ids := range apply {
		errs = append(errs, inner.setPaused(ids, paused))
	}
	return errors.Join(errs...)
}

// keepPaused forgets pauses of partitions not in parts and returns those
// of parts, for the consumers taking over parts.
func (b *BalancedConsumer) keepPaused(parts topicParts) topicParts {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := topicParts{}
	for tp := range b.pausedIDs {
		if parts.has(tp.Topic, tp.Partition) {
			out[tp.Topic] = append(out[tp.Topic], tp.Partition)
		} else {
			delete(b.pausedIDs, tp)
		}
	}
	return out
}
