package protocol

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestHeaderVersions(t *testing.T) {
	for _, tc := range []struct {
		key, version  int16
		req, resp     int16
		supportedByUs bool
	}{
		{APIKeyMetadata, 8, 1, 0, true},
		{APIKeyMetadata, 9, 2, 1, true},
		{APIKeyAPIVersions, 2, 1, 0, true},
		{APIKeyAPIVersions, 3, 2, 0, true}, // response header stays v0
		{APIKeySaslHandshake, 1, 1, 0, true},
		{APIKeyDescribeCluster, 0, 2, 1, true},
		{APIKeyMetadata, 14, 0, 0, false},
		{4, 0, 0, 0, false}, // LeaderAndIsr: removed from Kafka 4
	} {
		rv, ok := RequestHeaderVersion(tc.key, tc.version)
		require.Equal(t, tc.supportedByUs, ok, "%d v%d", tc.key, tc.version)
		require.Equal(t, tc.req, rv, "%s v%d request", APIName(tc.key), tc.version)
		sv, ok := ResponseHeaderVersion(tc.key, tc.version)
		require.Equal(t, tc.supportedByUs, ok)
		require.Equal(t, tc.resp, sv, "%s v%d response", APIName(tc.key), tc.version)
	}
}

func TestRequestFrameRoundTrip(t *testing.T) {
	client := "c1"
	for _, c := range allMessages() {
		for _, v := range c.versions() {
			req, ok := c.filled(v, fillFull, 1).(Request)
			if !ok {
				break // responses and data types
			}
			prefix := []byte("xyz")
			frame, err := AppendRequestFrame(prefix, req, v, 42, &client)
			require.NoError(t, err)
			require.Equal(t, "xyz", string(frame[:3]))
			size := binary.BigEndian.Uint32(frame[3:])
			require.Equal(t, len(frame)-7, int(size))

			hdr, body, err := DecodeRequestFrame(frame[7:])
			require.NoError(t, err)
			require.Equal(t, req.APIKey(), hdr.APIKey)
			require.Equal(t, v, hdr.APIVersion)
			require.Equal(t, int32(42), hdr.CorrelationID)
			require.Equal(t, "c1", *hdr.ClientID)
			got, _ := NewRequest(hdr.APIKey)
			require.NoError(t, got.DecodeFrom(body, v))
			require.Equal(t, req, got, "%s v%d", c.name, v)
		}
	}
}

func TestResponseFrameRoundTrip(t *testing.T) {
	for _, key := range APIKeys() {
		resp, _ := NewResponse(key)
		lo, hi := resp.SupportedVersions()
		for v := lo; v <= hi; v++ {
			c := msgCase{new: func() testMessage { r, _ := NewResponse(key); return r }, flexible: resp.IsFlexible}
			want := c.filled(v, fillFull, 1).(Message)
			frame, err := AppendResponseFrame(nil, want, v, -7)
			require.NoError(t, err)
			require.Equal(t, len(frame)-4, int(binary.BigEndian.Uint32(frame)))

			corr, err := ResponseCorrelationID(frame[4:])
			require.NoError(t, err)
			require.Equal(t, int32(-7), corr)

			got, _ := NewResponse(key)
			corr, err = DecodeResponseFrame(frame[4:], got, v)
			require.NoError(t, err)
			require.Equal(t, int32(-7), corr)
			require.Equal(t, want, got, "%s v%d", APIName(key), v)
		}
	}
}

func TestGoldenResponseFrames(t *testing.T) {
	// ApiVersions v3 response: header v0, no tag section after the
	// correlation id even though the body is flexible.
	resp := NewAPIVersionsResponse()
	frame, err := AppendResponseFrame(nil, resp, 3, 5)
	require.NoError(t, err)
	require.Equal(t, cat(
		[]byte{0, 0, 0, 12},
		[]byte{0, 0, 0, 5}, // correlation id, then the body directly
		[]byte{0, 0}, []byte{1}, []byte{0, 0, 0, 0}, []byte{0},
	), frame)

	// Heartbeat v4 response: header v1 with its empty tag section.
	hb := NewHeartbeatResponse()
	hb.ErrorCode = 27
	frame, err = AppendResponseFrame(nil, hb, 4, 5)
	require.NoError(t, err)
	require.Equal(t, cat(
		[]byte{0, 0, 0, 12},
		[]byte{0, 0, 0, 5}, []byte{0}, // correlation id, header tags
		[]byte{0, 0, 0, 0}, []byte{0, 27}, []byte{0}, // throttle, error, body tags
	), frame)

	// A header tag section is skipped when decoding.
	withTags := cat([]byte{0, 0, 0, 5}, []byte{1, 3, 1, 0xff}, []byte{0, 0, 0, 0, 0, 27, 0})
	got := NewHeartbeatResponse()
	corr, err := DecodeResponseFrame(withTags, got, 4)
	require.NoError(t, err)
	require.Equal(t, int32(5), corr)
	require.Equal(t, int16(27), got.ErrorCode)
}

func TestDecodeResponseFrameErrors(t *testing.T) {
	_, err := ResponseCorrelationID([]byte{1, 2})
	require.ErrorIs(t, err, ErrTruncated)

	corr, err := DecodeResponseFrame([]byte{0, 0, 0, 9, 0}, NewHeartbeatResponse(), 4)
	require.ErrorIs(t, err, ErrTruncated)
	require.Equal(t, int32(9), corr, "correlation id survives a bad body")

	_, err = DecodeResponseFrame([]byte{0, 0, 0, 9, 5}, NewHeartbeatResponse(), 4)
	require.ErrorIs(t, err, ErrTruncated, "header tag count with no tags")
}

func TestDecodeRequestFrameUnsupported(t *testing.T) {
	client := "c"
	// An ApiVersions request newer than we know: the header is still
	// returned so the broker side can answer UNSUPPORTED_VERSION.
	frame := cat([]byte{0, 18, 0, 99, 0, 0, 0, 3}, str16(client), []byte{0, 0})
	hdr, _, err := DecodeRequestFrame(frame)
	var ve *VersionError
	require.ErrorAs(t, err, &ve)
	require.Equal(t, int16(99), ve.Version)
	require.Equal(t, int16(4), ve.Max)
	require.Equal(t, int32(3), hdr.CorrelationID)

	// An API we do not implement at all.
	hdr, _, err = DecodeRequestFrame(cat([]byte{0, 4, 0, 0, 0, 0, 0, 8}, str16(client)))
	require.ErrorAs(t, err, &ve)
	require.Contains(t, err.Error(), "not implemented")
	require.Equal(t, int32(8), hdr.CorrelationID)

	_, _, err = DecodeRequestFrame([]byte{0, 3, 0})
	require.ErrorIs(t, err, ErrTruncated)
}

func TestAppendRequestFrameErrors(t *testing.T) {
	long := string(make([]byte, MaxStringLen+1))
	dst := []byte("keep")
	out, err := AppendRequestFrame(dst, NewMetadataRequest(), 12, 1, &long)
	require.ErrorIs(t, err, ErrStringTooLong)
	require.Equal(t, "keep", string(out))

	out, err = AppendRequestFrame(dst, NewMetadataRequest(), 40, 1, nil)
	var ve *VersionError
	require.True(t, errors.As(err, &ve))
	require.Equal(t, "keep", string(out))

	// A nil client id is sent as a null string.
	out, err = AppendRequestFrame(nil, NewAPIVersionsRequest(), 0, 1, nil)
	require.NoError(t, err)
	require.Equal(t, []byte{0, 0, 0, 10, 0, 18, 0, 0, 0, 0, 0, 1, 0xff, 0xff}, out)
}

func TestRequestFrameEncodeAllocs(t *testing.T) {
	req := NewMetadataRequest()
	req.Topics = []MetadataRequestTopic{{Name: stringPtr("topic")}}
	client := "client"
	buf := make([]byte, 0, 1024)
	allocs := testing.AllocsPerRun(100, func() {
		var err error
		buf, err = AppendRequestFrame(buf[:0], req, 12, 1, &client)
		if err != nil {
			panic(err)
		}
	})
	require.Zero(t, allocs)
}
