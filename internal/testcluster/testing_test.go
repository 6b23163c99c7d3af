package testcluster

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSharedKey(t *testing.T) {
	plain := KRaftSingle
	withProps := KRaftSingle
	withProps.BrokerProps = map[string]string{"auto.create.topics.enable": "false", "a": "b"}
	sameProps := KRaftSingle
	sameProps.BrokerProps = map[string]string{"a": "b", "auto.create.topics.enable": "false"}

	assert.NotEqual(t, sharedKey(plain), sharedKey(withProps), "broker settings make another cluster")
	assert.Equal(t, sharedKey(withProps), sharedKey(sameProps), "map order does not matter")
	assert.NotEqual(t, sharedKey(KRaftSingle), sharedKey(ZooKeeperSingle))
	assert.NotEqual(t, sharedKey(KRaftSingle), sharedKey(KRaftTriple))
}

func TestFeaturesNameAndFormat(t *testing.T) {
	tv1 := Config{Mode: KRaft, Brokers: 1, Features: map[string]int16{"transaction.version": 1, "group.version": 0}}
	assert.Equal(t, "kraft-1-group.version=0-transaction.version=1", tv1.Name())
	assert.NotEqual(t, sharedKey(KRaftSingle), sharedKey(tv1), "a cluster with other feature levels is not the shared default")
	c := &Cluster{cfg: tv1.withDefaults(), clusterID: "id"}
	args := c.formatArgs(&Broker{ID: 1, props: "server.properties"})
	assert.Equal(t, []string{"format", "-t", "id", "-c", "server.properties",
		"--feature", "group.version=0", "--feature", "transaction.version=1"}, args)
}

func TestQuickFailover(t *testing.T) {
	quick := KRaftTriple.QuickFailover()
	assert.Equal(t, "3000", quick.BrokerProps["broker.session.timeout.ms"])
	assert.Equal(t, "500", quick.BrokerProps["broker.heartbeat.interval.ms"])
	assert.Nil(t, KRaftTriple.BrokerProps, "the kind it came from is left as it was")
	assert.Equal(t, KRaftTriple.Name(), quick.Name())

	own := KRaftTriple
	own.BrokerProps = map[string]string{"broker.session.timeout.ms": "5000", "a": "b"}
	quick = own.QuickFailover()
	assert.Equal(t, "5000", quick.BrokerProps["broker.session.timeout.ms"], "the test's own settings win")
	assert.Equal(t, "b", quick.BrokerProps["a"])
	assert.Len(t, own.BrokerProps, 2, "the caller's map is not written to")

	assert.Nil(t, ZooKeeperTriple.QuickFailover().BrokerProps, "ZooKeeper mode has no broker heartbeats to the controller")
}
