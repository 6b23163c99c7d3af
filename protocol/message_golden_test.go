package protocol

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// Golden encodings written out by hand from the protocol specification. Each
// byte group is commented with the field it encodes.

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func str16(s string) []byte   { return append([]byte{0, byte(len(s))}, s...) }
func compact(s string) []byte { return append([]byte{byte(len(s) + 1)}, s...) }

func goldenRoundTrip(t *testing.T, m Message, version int16, want []byte) {
	t.Helper()
	got, err := m.AppendTo(nil, version)
	require.NoError(t, err)
	require.Equal(t, want, got)
	back, _ := NewResponse(m.APIKey())
	if _, isReq := m.(Request); isReq {
		back, _ = NewRequest(m.APIKey())
	}
	require.NoError(t, back.DecodeFrom(want, version))
	require.Equal(t, m, back)
}

func TestGoldenAPIVersionsRequestFrames(t *testing.T) {
	client := "gregor"

	// v0: header v1 and an empty body.
	got, err := AppendRequestFrame(nil, NewAPIVersionsRequest(), 0, 1, &client)
	require.NoError(t, err)
	require.Equal(t, cat(
		[]byte{0, 0, 0, 16}, // frame size
		[]byte{0, 18},       // api key 18
		[]byte{0, 0},        // version 0
		[]byte{0, 0, 0, 1},  // correlation id
		str16("gregor"),     // client id, int16 length
	), got)

	// v3: header v2 (client id still int16-length, then an empty tag
	// section) and a flexible body with compact strings.
	req := NewAPIVersionsRequest()
	req.ClientSoftwareName = "gregor"
	req.ClientSoftwareVersion = "0.1.0"
	got, err = AppendRequestFrame(nil, req, 3, 7, &client)
	require.NoError(t, err)
	require.Equal(t, cat(
		[]byte{0, 0, 0, 31},
		[]byte{0, 18, 0, 3, 0, 0, 0, 7},
		str16("gregor"),
		[]byte{0},         // header tag section: no fields
		compact("gregor"), // ClientSoftwareName
		compact("0.1.0"),  // ClientSoftwareVersion
		[]byte{0},         // body tag section
	), got)
}

func TestGoldenMetadataRequest(t *testing.T) {
	// v1 with one topic: int32 count, int16-length name.
	req := NewMetadataRequest()
	req.Topics = []MetadataRequestTopic{{Name: stringPtr("a")}}
	goldenRoundTrip(t, req, 1, cat([]byte{0, 0, 0, 1}, str16("a")))

	// v1 with nil topics: a null array, which asks for every topic.
	goldenRoundTrip(t, NewMetadataRequest(), 1, []byte{0xff, 0xff, 0xff, 0xff})

	// v12: compact array (count+1), zero topic id, compact nullable name,
	// per-topic tag section, AllowAutoTopicCreation (default true),
	// IncludeTopicAuthorizedOperations, top-level tag section.
	// IncludeClusterAuthorizedOperations exists only in v8-10.
	req = NewMetadataRequest()
	req.Topics = []MetadataRequestTopic{{Name: stringPtr("a")}}
	req.IncludeClusterAuthorizedOperations = true // not encoded at v12
	want := cat(
		[]byte{2},
		make([]byte, 16),
		compact("a"),
		[]byte{0},
		[]byte{1},
		[]byte{0},
		[]byte{0},
	)
	got, err := req.AppendTo(nil, 12)
	require.NoError(t, err)
	require.Equal(t, want, got)
	back := NewMetadataRequest()
	require.NoError(t, back.DecodeFrom(want, 12))
	require.False(t, back.IncludeClusterAuthorizedOperations, "absent field decodes to its default")
	require.Equal(t, "a", *back.Topics[0].Name)

	// v12 null topic name (allowed from v10) and null topics.
	req = NewMetadataRequest()
	req.Topics = []MetadataRequestTopic{{TopicID: UUID{15: 9}}}
	goldenRoundTrip(t, req, 12, cat([]byte{2}, append(make([]byte, 15), 9), []byte{0, 0}, []byte{1, 0, 0}))
	goldenRoundTrip(t, NewMetadataRequest(), 12, []byte{0, 1, 0, 0})
}

func TestGoldenAPIVersionsResponseTaggedFields(t *testing.T) {
	resp := NewAPIVersionsResponse()
	resp.APIKeys = []APIVersionsResponseAPIKey{{APIKey: 18, MinVersion: 0, MaxVersion: 4}}
	resp.SupportedFeatures = []APIVersionsResponseSupportedFeatureKey{{Name: "f", MinVersion: 1, MaxVersion: 2}}
	resp.FinalizedFeaturesEpoch = 5
	resp.UnknownTags = []RawTaggedField{{Tag: 9, Data: []byte{0xab}}}
	goldenRoundTrip(t, resp, 3, cat(
		[]byte{0, 0},                    // ErrorCode
		[]byte{2, 0, 18, 0, 0, 0, 4, 0}, // ApiKeys: one entry, its tag section
		[]byte{0, 0, 0, 0},              // ThrottleTimeMs
		[]byte{3},                       // three tagged fields follow, in tag order:
		[]byte{0, 8},                    // tag 0 (SupportedFeatures), 8 bytes
		[]byte{2}, compact("f"), []byte{0, 1, 0, 2, 0},
		[]byte{1, 8, 0, 0, 0, 0, 0, 0, 0, 5}, // tag 1 (FinalizedFeaturesEpoch)
		[]byte{9, 1, 0xab},                   // unknown tag 9, kept raw
	))
	// FinalizedFeatures (tag 2) and ZkMigrationReady (tag 3) are at their
	// defaults and so left out; at v2 no tagged field is written at all.
	goldenRoundTrip(t, resp2(), 2, cat([]byte{0, 35}, []byte{0, 0, 0, 0}, []byte{0, 0, 0, 10}))
}

func resp2() *APIVersionsResponse {
	r := NewAPIVersionsResponse()
	r.ErrorCode = 35
	r.ThrottleTimeMs = 10
	return r
}

// TestLargeTaggedField covers a tagged field of 128 bytes or more, whose size
// needs a two-byte varint and so moves the value after it is written.
func TestLargeTaggedField(t *testing.T) {
	resp := NewAPIVersionsResponse()
	for i := 0; i < 40; i++ {
		resp.SupportedFeatures = append(resp.SupportedFeatures,
			APIVersionsResponseSupportedFeatureKey{Name: "feature", MinVersion: 1, MaxVersion: int16(i)})
	}
	resp.ZkMigrationReady = true
	b, err := resp.AppendTo(nil, 3)
	require.NoError(t, err)
	// ErrorCode(2) + empty ApiKeys(1) + ThrottleTimeMs(4), then 2 tags.
	require.Equal(t, byte(2), b[7])
	require.Equal(t, byte(0), b[8]) // tag 0
	size := 1 + 40*(8+2+2+1)
	require.Equal(t, []byte{byte(size) | 0x80, byte(size >> 7)}, b[9:11])
	require.Equal(t, []byte{3, 1, 1}, b[len(b)-3:]) // tag 3, size 1, true
	got := NewAPIVersionsResponse()
	require.NoError(t, got.DecodeFrom(b, 3))
	require.Equal(t, resp, got)
}

func TestTaggedStructField(t *testing.T) {
	// FetchResponse partitions carry CurrentLeader as tagged field 1 from
	// v12; it is written only when it differs from its default (-1, -1).
	resp := NewFetchResponse()
	p := FetchResponsePartition{}
	p.Default()
	p.PartitionIndex = 3
	resp.Responses = []FetchResponseTopic{{Topic: "t", Partitions: []FetchResponsePartition{p}}}
	plain, err := resp.AppendTo(nil, 12)
	require.NoError(t, err)

	resp.Responses[0].Partitions[0].CurrentLeader = FetchResponseLeaderIDAndEpoch{LeaderID: 2, LeaderEpoch: 7}
	tagged, err := resp.AppendTo(nil, 12)
	require.NoError(t, err)
	// tag 1, size 9: int32, int32, empty tag section.
	require.Equal(t, len(plain)+11, len(tagged))
	require.Contains(t, string(tagged), string([]byte{1, 9, 0, 0, 0, 2, 0, 0, 0, 7, 0}))

	got := NewFetchResponse()
	require.NoError(t, got.DecodeFrom(tagged, 12))
	require.Equal(t, resp, got)
	require.NoError(t, got.DecodeFrom(plain, 12))
	require.Equal(t, int32(-1), got.Responses[0].Partitions[0].CurrentLeader.LeaderID)
}

func TestUnknownTagsKeptInOrder(t *testing.T) {
	// At v12 FetchRequest knows tag 0 only (tag 1 arrives in v15), so tag 1
	// is preserved raw and re-encoded after tag 0.
	in := cat(
		[]byte{0, 0, 0, 0},                                         // ReplicaID
		[]byte{0, 0, 0, 0}, []byte{0, 0, 0, 0}, []byte{0, 0, 0, 0}, // MaxWaitMs, MinBytes, MaxBytes
		[]byte{0},                              // IsolationLevel
		[]byte{0, 0, 0, 0}, []byte{0, 0, 0, 0}, // SessionID, SessionEpoch
		[]byte{1},   // Topics: empty
		[]byte{1},   // ForgottenTopicsData: empty
		compact(""), // RackID
		[]byte{2},
		[]byte{1, 2, 0xaa, 0xbb}, // unknown at v12, listed first on the wire
		[]byte{0, 2}, compact("c"),
	)
	req := NewFetchRequest()
	require.NoError(t, req.DecodeFrom(in, 12))
	require.Equal(t, "c", *req.ClusterID)
	require.Equal(t, []RawTaggedField{{Tag: 1, Data: []byte{0xaa, 0xbb}}}, req.UnknownTags)
	out, err := req.AppendTo(nil, 12)
	require.NoError(t, err)
	require.Equal(t, cat(in[:len(in)-9], []byte{2, 0, 2}, compact("c"), []byte{1, 2, 0xaa, 0xbb}), out)
}

func TestTaggedFieldSizeMismatch(t *testing.T) {
	// Tag 1 (FinalizedFeaturesEpoch, an int64) declared with 9 bytes.
	b := cat([]byte{0, 0, 1, 0, 0, 0, 0}, []byte{1, 1, 9}, make([]byte, 9))
	err := NewAPIVersionsResponse().DecodeFrom(b, 3)
	require.ErrorIs(t, err, ErrMalformed)
	// ... and with 7 bytes: the value runs out inside the field.
	b = cat([]byte{0, 0, 1, 0, 0, 0, 0}, []byte{1, 1, 7}, make([]byte, 7))
	err = NewAPIVersionsResponse().DecodeFrom(b, 3)
	require.ErrorIs(t, err, ErrTruncated)
}
