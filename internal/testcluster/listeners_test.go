package testcluster

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCheckListeners(t *testing.T) {
	assert.NoError(t, checkListeners(SecuredListeners()))
	assert.NoError(t, checkListeners(append(SecuredListeners(), Listener{Name: "SASL_SSL", Protocol: SASLSSL, ClientAuth: true})))
	for name, ls := range map[string][]Listener{
		"reserved":         {{Name: "plaintext", Protocol: Plaintext}},
		"controller":       {{Name: "CONTROLLER", Protocol: SSL}},
		"duplicate":        {{Name: "A", Protocol: SSL}, {Name: "a", Protocol: SSL}},
		"empty name":       {{Protocol: SSL}},
		"bad name":         {{Name: "A:B", Protocol: SSL}},
		"unknown protocol": {{Name: "A", Protocol: "TLS"}},
		"auth without TLS": {{Name: "A", Protocol: SASLPlaintext, ClientAuth: true}},
	} {
		assert.Error(t, checkListeners(ls), name)
	}
}

func TestSharedKeyTellsListenersApart(t *testing.T) {
	assert.NotEqual(t, sharedKey(KRaftSingle), sharedKey(KRaftSecured))
	assert.NotEqual(t, sharedKey(KRaftSecured), sharedKey(ZooKeeperSecured))
	withProps := KRaftSecured
	withProps.Listeners = append(SecuredListeners(), Listener{Name: "X", Protocol: SASLPlaintext, Props: map[string]string{"k": "v"}})
	assert.NotEqual(t, sharedKey(KRaftSecured), sharedKey(withProps))
	assert.Equal(t, sharedKey(KRaftSecured), sharedKey(Config{Mode: KRaft, Listeners: SecuredListeners()}))
}
