package kafka

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/gregorkafka/gregor/conn"
	"github.com/gregorkafka/gregor/protocol"
	"github.com/gregorkafka/gregor/sasl"
)

// TestConnConfigCarriesSASL checks that every kind of connection the
// client opens, seeds included, authenticates when SASL is set, and none
// does without it.
func TestConnConfigCarriesSASL(t *testing.T) {
	cl := offlineCluster(t, Config{SASL: &sasl.Plain{Username: "u", Password: "p"}})
	assert.NotNil(t, cl.cfg.connConfig(cl.log).Authenticate, "seed connections")
	b := newBroker(cl, 1, newBrokerAddr("127.0.0.1", 9092, ""))
	for _, p := range []purpose{purposeGeneral, purposeProduce, purposeFetch, purposeGroup, purposeOffsets} {
		assert.NotNil(t, b.connConfig(p).Authenticate, "%s connections", p)
	}
	plain := offlineCluster(t, Config{})
	assert.Nil(t, plain.cfg.connConfig(plain.log).Authenticate, "nil SASL means none")
}

func TestAuthFailed(t *testing.T) {
	refused := &sasl.Error{Mechanism: "PLAIN", Err: protocol.ErrSASLAuthenticationFailed}
	for _, c := range []struct {
		err   error
		final bool
	}{
		{&conn.AuthError{Address: "b:9092", Err: refused}, true},
		{fmt.Errorf("fetch: %w", &conn.AuthError{Address: "b:9092", Err: &sasl.Error{Mechanism: "X", Err: protocol.ErrUnsupportedSASLMechanism}}), true},
		{&NoBrokersAvailableError{Attempts: []BrokerAttempt{{Addr: "b:9092", Err: &conn.AuthError{Err: refused}}}}, true},
		// A re-authentication that failed on a live connection broke it;
		// the next connection decides.
		{&conn.DisconnectedError{Address: "b:9092", Err: &conn.AuthError{Err: refused}}, false},
		// The authentication did not finish in time: not an answer.
		{&conn.AuthError{Address: "b:9092", Err: context.DeadlineExceeded}, false},
		{&conn.DisconnectedError{Address: "b:9092", Err: conn.ErrClosed}, false},
		{protocol.ErrSASLAuthenticationFailed, false},
	} {
		assert.Equal(t, c.final, authFailed(c.err), "%v", c.err)
	}
}
