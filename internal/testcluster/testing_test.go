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
