package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/gregorkafka/gregor/kafka"
	"github.com/gregorkafka/gregor/sasl"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // the command could not do its work
	exitUsage = 2 // the command line is wrong; nothing was attempted
)

// usageError is a problem with the command line: exit code 2, and the
// command's usage line after the message.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// dialTimeoutError is a deadline that fired while the command still had
// time: the per-connection dial timeout, not --timeout.
type dialTimeoutError struct {
	limit time.Duration
	err   error
}

func (e *dialTimeoutError) Error() string { return e.err.Error() }
func (e *dialTimeoutError) Unwrap() error { return e.err }

// errNotFound marks an unknown topic or group found by the CLI itself.
var errNotFound = errors.New("not found")

// notFoundError names what was not found.
type notFoundError struct{ what string }

func (e *notFoundError) Error() string { return e.what + " does not exist" }

func (e *notFoundError) Is(target error) bool { return target == errNotFound }

func unknownTopic(name string) error { return &notFoundError{what: fmt.Sprintf("topic %q", name)} }

func unknownGroup(name string) error { return &notFoundError{what: fmt.Sprintf("group %q", name)} }

// exitCode maps an action's error to the process exit code.
func exitCode(err error) int {
	var ue *usageError
	var ce *kafka.ConfigError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue), errors.As(err, &ce):
		return exitUsage
	default:
		return exitError
	}
}

// oneLine renders err as a single line for stderr. errors.Join and some
// broker messages span lines; a log scraper or a shell script wants one.
func oneLine(err error, timeout time.Duration) string {
	msg := err.Error()
	var ce *kafka.ConfigError
	var nb *kafka.NoBrokersAvailableError
	var se *sasl.Error
	var dt *dialTimeoutError
	switch {
	case errors.As(err, &ce):
		msg = "bad " + configFlag(ce.Field) + ": " + ce.Reason
	case errors.As(err, &dt):
		msg = fmt.Sprintf("no broker answered within the dial timeout of %v (raise --dial-timeout): %s", dt.limit, msg)
	case errors.Is(err, context.DeadlineExceeded) && timeout > 0:
		msg = fmt.Sprintf("timed out after %v (raise --timeout): %s", timeout, msg)
	case errors.As(err, &se):
		// The cluster answered: it refused the credentials or the mechanism.
		msg = se.Error()
	case errors.As(err, &nb):
		msg = "cannot reach the cluster: " + unreachable(nb)
	}
	msg = strings.ReplaceAll(msg, "kafka: kafka: ", "kafka: ")
	return strings.Join(strings.Fields(msg), " ")
}

// unreachable lists each address tried with the network's own reason,
// without the layers of wrapping in between.
func unreachable(e *kafka.NoBrokersAvailableError) string {
	if len(e.Attempts) == 0 {
		return "no broker to try"
	}
	parts := make([]string, len(e.Attempts))
	for i, a := range e.Attempts {
		reason := a.Err
		var op *net.OpError
		if errors.As(reason, &op) {
			reason = op
		}
		parts[i] = a.Addr + ": " + reason.Error()
	}
	return strings.Join(parts, "; ")
}

// configFlag names the flag behind a kafka.Config field.
func configFlag(field string) string {
	switch {
	case strings.HasPrefix(field, "Hosts"):
		return "--brokers address"
	case field == "ZooKeeperHosts":
		return "--zookeeper connect string"
	default:
		return "setting " + field
	}
}
