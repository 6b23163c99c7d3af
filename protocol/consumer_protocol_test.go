package protocol

import (
	"encoding/hex"
	"errors"
	"slices"
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

// pykafka 2.8's bytes, as its MemberAssignment and ConsumerGroupProtocolMetadata
// write them: assignments claim version 1 and end after the partitions.
var (
	pykafkaSubscription = hexBytes("000000000001000a64756d6d79746f7069630000000c746573747573657264617461")
	pykafkaAssignment   = hexBytes("00010000000100066f7264657273000000020000000000000002")
	pykafkaEmptyTopic   = hexBytes("00010000000100066f726465727300000000")
	pykafkaNoTopics     = hexBytes("000100000000")
)

func TestConsumerProtocolPykafkaBytes(t *testing.T) {
	a, v, err := DecodeConsumerAssignment(pykafkaAssignment)
	require.NoError(t, err)
	require.Equal(t, int16(1), v)
	require.Equal(t, []ConsumerProtocolAssignmentTopicPartition{{Topic: "orders", Partitions: []int32{0, 2}}}, a.AssignedPartitions)
	require.Nil(t, a.UserData)

	a, _, err = DecodeConsumerAssignment(pykafkaEmptyTopic)
	require.NoError(t, err)
	require.Equal(t, []ConsumerProtocolAssignmentTopicPartition{{Topic: "orders"}}, a.AssignedPartitions)

	a, _, err = DecodeConsumerAssignment(pykafkaNoTopics)
	require.NoError(t, err)
	require.Empty(t, a.AssignedPartitions)

	s, v, err := DecodeConsumerSubscription(pykafkaSubscription)
	require.NoError(t, err)
	require.Equal(t, int16(0), v)
	require.Equal(t, []string{"dummytopic"}, s.Topics)
	require.Equal(t, []byte("testuserdata"), s.UserData)
}

// TestConsumerProtocolTrailingFieldsMissing cuts every version's encoding at
// each top-level field boundary after the first (decoded, with defaults after
// the cut) and at every other byte (an error).
func TestConsumerProtocolTrailingFieldsMissing(t *testing.T) {
	full := NewConsumerProtocolSubscription()
	full.Topics = []string{"a", "bc"}
	full.UserData = []byte{9}
	full.OwnedPartitions = []ConsumerProtocolSubscriptionTopicPartition{{Topic: "a", Partitions: []int32{0, 2}}}
	full.GenerationID = 5
	full.RackID = stringPtr("r1")
	// Where each top-level field ends (see TestConsumerSubscriptionGolden),
	// and the value decoded from the bytes up to there.
	ends := []int{2, 13, 18, 37, 41, 45}
	prefix := func(fields int) *ConsumerProtocolSubscription {
		s := NewConsumerProtocolSubscription()
		set := []func(){
			func() { s.Topics = full.Topics },
			func() { s.UserData = full.UserData },
			func() { s.OwnedPartitions = full.OwnedPartitions },
			func() { s.GenerationID = full.GenerationID },
			func() { s.RackID = full.RackID },
		}
		for _, f := range set[:fields] {
			f()
		}
		return s
	}
	for v := int16(0); v <= 3; v++ {
		b, err := EncodeConsumerSubscription(full, v)
		require.NoError(t, err)
		fields := int(v) + 2
		require.Len(t, b, ends[fields], "v%d", v)
		for n := 0; n <= len(b); n++ {
			got, _, err := DecodeConsumerSubscription(b[:n])
			if k := slices.Index(ends, n); k >= 1 && k <= fields {
				require.NoError(t, err, "v%d cut at %d", v, n)
				require.Equal(t, prefix(k), got, "v%d cut at %d", v, n)
				continue
			}
			require.ErrorIs(t, err, ErrTruncated, "v%d cut at %d", v, n)
		}
	}

	a := NewConsumerProtocolAssignment()
	a.AssignedPartitions = []ConsumerProtocolAssignmentTopicPartition{{Topic: "t", Partitions: []int32{1}}}
	a.UserData = []byte("ud")
	for v := int16(0); v <= 3; v++ {
		b, err := EncodeConsumerAssignment(a, v)
		require.NoError(t, err)
		aends := map[int]*ConsumerProtocolAssignment{
			17: {AssignedPartitions: a.AssignedPartitions},
			23: a,
		}
		require.Len(t, b, 23)
		for n := 0; n <= len(b); n++ {
			got, _, err := DecodeConsumerAssignment(b[:n])
			if w, ok := aends[n]; ok {
				require.NoError(t, err, "v%d cut at %d", v, n)
				require.Equal(t, w, got, "v%d cut at %d", v, n)
				continue
			}
			require.ErrorIs(t, err, ErrTruncated, "v%d cut at %d", v, n)
		}
	}
}

// TestConsumerProtocolCorruptStaysAnError: leniency covers only fields that
// are absent, not ones that are present and wrong.
func TestConsumerProtocolCorruptStaysAnError(t *testing.T) {
	// A negative topic count, a negative string length, a count promising more
	// than remains, a null topic list.
	for _, b := range [][]byte{
		{0, 1, 0xff, 0xff, 0xff, 0xfe},
		{0, 1, 0, 0, 0, 1, 0xff, 0xfe},
		{0, 1, 0, 0, 0, 9, 0, 1, 'x', 0, 0, 0, 0},
		{0, 1, 0xff, 0xff, 0xff, 0xff},
	} {
		_, _, err := DecodeConsumerAssignment(b)
		require.Error(t, err, "% x", b)
		require.True(t, errors.Is(err, ErrTruncated) || errors.Is(err, ErrMalformed), "% x: %v", b, err)
		_, _, err = DecodeConsumerSubscription(b)
		require.Error(t, err, "% x", b)
	}
	// User data whose length runs past the end.
	_, _, err := DecodeConsumerAssignment(append(slices.Clone(pykafkaAssignment), 0, 0, 0, 4, 1))
	require.ErrorIs(t, err, ErrTruncated)
}

func hexBytes(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}
