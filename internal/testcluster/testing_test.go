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
