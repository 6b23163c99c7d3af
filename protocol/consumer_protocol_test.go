package protocol

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestConsumerSubscriptionGolden(t *testing.T) {
	s := NewConsumerProtocolSubscription()
	s.Topics = []string{"a", "bc"}
	s.UserData = []byte{9}
	s.OwnedPartitions = []ConsumerProtocolSubscriptionTopicPartition{{Topic: "a", Partitions: []int32{0, 2}}}
	s.GenerationID = 5
	s.RackID = stringPtr("r1")

	b, err := EncodeConsumerSubscription(s, 3)
	require.NoError(t, err)
	require.Equal(t, cat(
		[]byte{0, 3},                                // version
		[]byte{0, 0, 0, 2}, str16("a"), str16("bc"), // Topics
		[]byte{0, 0, 0, 1, 9},                                                      // UserData
		[]byte{0, 0, 0, 1}, str16("a"), []byte{0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 2}, // OwnedPartitions
		[]byte{0, 0, 0, 5}, // GenerationID
		str16("r1"),        // RackID
	), b)

	got, v, err := DecodeConsumerSubscription(b)
	require.NoError(t, err)
	require.Equal(t, int16(3), v)
	require.Equal(t, s, got)

	// v0 has only Topics and UserData; the rest decodes to defaults.
	b, err = EncodeConsumerSubscription(s, 0)
	require.NoError(t, err)
	require.Equal(t, cat([]byte{0, 0}, []byte{0, 0, 0, 2}, str16("a"), str16("bc"), []byte{0, 0, 0, 1, 9}), b)
	got, v, err = DecodeConsumerSubscription(b)
	require.NoError(t, err)
	require.Equal(t, int16(0), v)
	require.Equal(t, int32(-1), got.GenerationID)
	require.Nil(t, got.RackID)
	require.Nil(t, got.OwnedPartitions)
}

// TestConsumerProtocolNewerVersion decodes a version from the future by
// reading the fields of the newest known version and ignoring the rest.
func TestConsumerProtocolNewerVersion(t *testing.T) {
	a := NewConsumerProtocolAssignment()
	a.AssignedPartitions = []ConsumerProtocolAssignmentTopicPartition{{Topic: "t", Partitions: []int32{1}}}
	a.UserData = []byte("ud")
	b, err := EncodeConsumerAssignment(a, 3)
	require.NoError(t, err)
	b[1] = 7                              // claim version 7
	b = append(b, 0xde, 0xad, 0xbe, 0xef) // and fields we do not know
	got, v, err := DecodeConsumerAssignment(b)
	require.NoError(t, err)
	require.Equal(t, int16(7), v)
	require.Equal(t, a, got)

	s := NewConsumerProtocolSubscription()
	s.Topics = []string{"x"}
	b, err = EncodeConsumerSubscription(s, 3)
	require.NoError(t, err)
	b[1] = 4
	gs, v, err := DecodeConsumerSubscription(append(b, 1, 2, 3))
	require.NoError(t, err)
	require.Equal(t, int16(4), v)
	require.Equal(t, s, gs)
}

func TestConsumerProtocolErrors(t *testing.T) {
	_, _, err := DecodeConsumerSubscription(nil)
	require.ErrorIs(t, err, ErrTruncated)
	_, _, err = DecodeConsumerAssignment([]byte{0xff, 0xff, 0, 0})
	var ve *VersionError
	require.ErrorAs(t, err, &ve)
	_, _, err = DecodeConsumerAssignment([]byte{0, 1, 0, 0, 0, 5})
	require.ErrorIs(t, err, ErrTruncated)
	_, err = EncodeConsumerAssignment(NewConsumerProtocolAssignment(), 4)
	require.ErrorAs(t, err, &ve)
}
