package kafka

import (
	"errors"

	"github.com/gregorkafka/gregor/conn"
	"github.com/gregorkafka/gregor/sasl"
)

// authFailed reports a broker's refusal to authenticate a new connection
// (rejected credentials, a mechanism it does not enable, a server that
// failed SCRAM's proof): dialing again would only be refused again, so the
// code that reconnects in a loop stops and hands the error to its caller.
// A re-authentication that failed on a live connection is not final by
// itself: it breaks the connection (a *conn.DisconnectedError), and the
// next connection's authentication decides.
func authFailed(err error) bool {
	var se *sasl.Error
	return errors.As(err, &se) && !errors.Is(err, conn.ErrDisconnected)
}
