package protocol

import (
	"errors"
	"strconv"
)

// Error is a Kafka error code as returned by brokers in responses. The
// sentinels (ErrOffsetOutOfRange, ErrNotLeaderOrFollower, ...) are generated
// from the protocol's error table; compare with errors.Is, which also works
// through fmt.Errorf("...: %w", err) wrapping.
type Error struct {
	Code      int16
	Name      string // the protocol's name, e.g. "NOT_LEADER_OR_FOLLOWER"
	Retriable bool   // the broker expects the same request to succeed later
}

// Error formats as "kafka: NAME (code)".
func (e *Error) Error() string {
	return "kafka: " + e.Name + " (" + strconv.Itoa(int(e.Code)) + ")"
}

// Is reports whether target is an *Error with the same code, so that errors
// built by ErrorForCode for codes this table does not know still compare
// equal to each other.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t != nil && e != nil && t.Code == e.Code
}

// ErrorForCode returns nil for code 0, the sentinel for a known code, and a
// new non-retriable *Error named "UNKNOWN_CODE_<n>" for a code the table does
// not know (a newer broker). Known codes do not allocate.
func ErrorForCode(code int16) error {
	if code == 0 {
		return nil
	}
	if i := int(code) + 1; i >= 0 && i < len(errorTable) {
		if e := errorTable[i]; e != nil {
			return e
		}
	}
	return &Error{Code: code, Name: "UNKNOWN_CODE_" + strconv.Itoa(int(code))}
}

// IsRetriable reports whether err is, or wraps, a Kafka error the protocol
// marks retriable. Errors that are not Kafka errors are not retriable.
func IsRetriable(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Retriable
}
