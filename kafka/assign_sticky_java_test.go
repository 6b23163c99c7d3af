package kafka

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/internal/testcluster"
)

// TestStickyAssignorsWithJavaConsumer runs a Java client member with two
// gregor members under the sticky and the cooperative-sticky assignor,
// either side leading. Each side reads the other's user data: the
// group settles on the assignor, every partition has one owner, and when
// a gregor member leaves, the other keeps all it had.
func TestStickyAssignorsWithJavaConsumer(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Java consumers")
	}
	tc := testcluster.Shared(t, testcluster.KRaftSingle)
	h := newHandler(t, "goroutine") // the protocol, not the runtime, is under test
	for _, java := range []struct {
		assignor    Assignor
		class       string
		gregorLeads bool
	}{
		{StickyAssignor(), "StickyAssignor", false},
		{CooperativeStickyAssignor(), "CooperativeStickyAssignor", false},
		{CooperativeStickyAssignor(), "CooperativeStickyAssignor", true},
	} {
		t.Run(fmt.Sprintf("%s/gregor-leads=%v", java.assignor.Name(), java.gregorLeads), func(t *testing.T) {
			env := newGroupEnv(t, managedKRaft, tc, h, 10, 1)
			cfg := BalancedConsumerConfig{Assignor: java.assignor}
			var a, b *BalancedConsumer
			if java.gregorLeads {
				// The first member to join leads.
				a, b = env.consumer(t, cfg), env.consumer(t, cfg)
				env.waitSplit(t, a, b)
			}
			before := env.produceRound(t, "before", 1)
			jc := startConsoleConsumer(t, env,
				"--consumer-property", "group.protocol=classic",
				"--consumer-property", "partition.assignment.strategy=org.apache.kafka.clients.consumer."+java.class,
				"--consumer-property", "client.id=java-member",
				"--consumer-property", "heartbeat.interval.ms=300",
				"--consumer-property", "session.timeout.ms=6000")
			if !java.gregorLeads {
				eventually(t, env.ctx, h, "the Java consumer alone", func() bool { return jc.has(before) })
				a, b = env.consumer(t, cfg), env.consumer(t, cfg)
			}
			settled := func(members int) map[string][]int32 {
				var owned map[string][]int32
				eventually(t, env.ctx, h, fmt.Sprintf("%d members sharing every partition", members), func() bool {
					d, err := env.cl.Cluster().DescribeGroup(env.ctx, env.group)
					if err != nil || d.State != GroupStateStable || len(d.Members) != members {
						return false
					}
					owned = map[string][]int32{}
					seen := map[int32]bool{}
					for _, m := range d.Members {
						for _, tp := range m.Assignment {
							for _, p := range tp.Partitions {
								if seen[p] {
									return false
								}
								seen[p] = true
								owned[m.ClientID] = append(owned[m.ClientID], p)
							}
						}
					}
					return len(seen) == 10
				})
				return owned
			}
			first := settled(3)
			d, err := env.cl.Cluster().DescribeGroup(env.ctx, env.group)
			require.NoError(t, err)
			assert.Equal(t, java.assignor.Name(), d.Protocol)
			for id, ps := range first {
				if strings.HasPrefix(id, "java") {
					assert.NotEmpty(t, ps, "the Java member has a share")
				}
			}
			env.waitSplitOf(t, 10-len(firstJava(first)), a, b)
			aParts := a.Partitions()

			stopConsumer(t, env.ctx, b)
			settled(2)
			eventually(t, env.ctx, h, "a keeps its partitions", func() bool {
				return len(a.Partitions()) == 5
			})
			assert.Subset(t, a.Partitions(), aParts, "a kept what it had")
		})
	}
}

func firstJava(owned map[string][]int32) []int32 {
	for id, ps := range owned {
		if strings.HasPrefix(id, "java") {
			return ps
		}
	}
	return nil
}

// waitSplitOf waits until the consumers own n partitions between them.
func (e *groupEnv) waitSplitOf(t *testing.T, n int, consumers ...*BalancedConsumer) {
	t.Helper()
	eventually(t, e.ctx, e.h, "the gregor members' share", func() bool {
		total := 0
		for _, c := range consumers {
			total += len(c.Partitions())
		}
		return total == n
	})
}
