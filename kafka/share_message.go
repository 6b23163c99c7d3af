package kafka

import (
	"strconv"
	"time"

	"github.com/gregorkafka/gregor/protocol"
)

// AckType is how a share group member acknowledges a record.
type AckType int8

// The acknowledgement types, with their wire values.
const (
	// AckAccept: the record is processed; nobody gets it again.
	AckAccept AckType = 1
	// AckRelease: give the record back; the group delivers it again (to any
	// member), with DeliveryCount one higher, until the group's
	// share.delivery.count.limit is reached.
	AckRelease AckType = 2
	// AckReject: the record cannot be processed; nobody gets it again.
	AckReject AckType = 3
)

// ackGap acknowledges an acquired offset that holds no record for the
// application (a transaction marker, a compacted-away record).
const ackGap AckType = 0

func (t AckType) String() string {
	switch t {
	case AckAccept:
		return "accept"
	case AckRelease:
		return "release"
	case AckReject:
		return "reject"
	case ackGap:
		return "gap"
	}
	return "AckType(" + strconv.Itoa(int(t)) + ")"
}

// ShareMessage is a record a ShareConsumer acquired for the application.
type ShareMessage struct {
	Message
	// DeliveryCount is how many times the group has handed this record out,
	// this time included: 1 on first delivery, 2 after one release or
	// expired lock, and so on.
	DeliveryCount int
	// LockExpires is when the record's acquisition lock runs out (on the
	// client's handler clock, counted from when the ShareFetch was sent):
	// acknowledged later, the record has already gone back to the group (the
	// broker may answer protocol.ErrInvalidRecordState, or take the late
	// acknowledgement without effect). Zero when the broker did not say.
	LockExpires time.Time

	// broker is the leader the record was acquired from, which its
	// acknowledgement must go to.
	broker  int32
	topicID protocol.UUID
}
