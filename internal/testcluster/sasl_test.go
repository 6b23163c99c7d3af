package testcluster

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSASLListeners(t *testing.T) {
	require.NoError(t, checkListeners(SASLListeners()))
	assert.True(t, needsSASL(SASLListeners()))
	assert.False(t, needsSASL(SecuredListeners()))
	assert.NotEqual(t, sharedKey(KRaftSASL), sharedKey(KRaftSecured))

	l := SASLListener("R", SASLPlaintext, 2500, MechPlain, MechOAuthBearer)
	assert.Equal(t, "PLAIN,OAUTHBEARER", l.Props["sasl.enabled.mechanisms"])
	assert.Contains(t, l.Props["plain.sasl.jaas.config"], `user_alice="alice-secret"`)
	assert.Contains(t, l.Props["oauthbearer.sasl.jaas.config"], "OAuthBearerLoginModule required")
	assert.Equal(t, "2500", l.Props["plain.connections.max.reauth.ms"])
	assert.Equal(t, "2500", l.Props["oauthbearer.connections.max.reauth.ms"])
	_, ok := SASLListener("S", SASLSSL, 0, MechScramSHA256).Props["scram-sha-256.connections.max.reauth.ms"]
	assert.False(t, ok, "no session limit unless asked")

	c := &Cluster{cfg: KRaftSASL, clusterID: "id"}
	args := strings.Join(c.formatArgs(&Broker{props: "p"}), " ")
	assert.Contains(t, args, "--add-scram SCRAM-SHA-256=[name=alice,password=alice-secret]")
	assert.Contains(t, args, "--add-scram SCRAM-SHA-512=[name=alice,password=alice-secret]")
	plain := &Cluster{cfg: KRaftSingle, clusterID: "id"}
	assert.NotContains(t, strings.Join(plain.formatArgs(&Broker{props: "p"}), " "), "scram")
}

func TestUnsecuredJWT(t *testing.T) {
	parts := strings.Split(UnsecuredJWT("alice", time.Minute), ".")
	require.Len(t, parts, 3)
	assert.Empty(t, parts[2], "no signature")
	var header, claims map[string]any
	for i, v := range []*map[string]any{&header, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(b, v))
	}
	assert.Equal(t, "none", header["alg"])
	assert.Equal(t, "alice", claims["sub"])
	assert.Greater(t, claims["exp"], claims["iat"])
}
