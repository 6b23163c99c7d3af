package protocol

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRoundTripAllMessages encodes every generated message at every version,
// filled three ways, and checks that decoding gives back the same value and
// that re-encoding gives the same bytes.
func TestRoundTripAllMessages(t *testing.T) {
	for _, c := range allMessages() {
		t.Run(c.name, func(t *testing.T) {
			// Decoding into one reused value also checks that decode leaves
			// nothing behind from the previous message.
			reused := c.zero()
			for _, v := range c.versions() {
				for _, mode := range []fillMode{fillFull, fillNull, fillEmpty} {
					want := c.filled(v, mode, 2)
					b, err := want.AppendTo(nil, v)
					require.NoError(t, err, "v%d %s", v, mode)

					got := c.zero()
					require.NoError(t, got.DecodeFrom(b, v), "v%d %s", v, mode)
					require.Equal(t, want, got, "v%d %s", v, mode)

					require.NoError(t, reused.DecodeFrom(b, v), "v%d %s", v, mode)
					require.Equal(t, want, reused, "v%d %s reused", v, mode)

					again, err := got.AppendTo(nil, v)
					require.NoError(t, err)
					require.Equal(t, b, again, "v%d %s re-encoding", v, mode)
				}
			}
		})
	}
}

// TestDefaultsRoundTrip checks that a message holding only its defaults
// survives a round trip at every version.
func TestDefaultsRoundTrip(t *testing.T) {
	for _, c := range allMessages() {
		for _, v := range c.versions() {
			want := c.new()
			b, err := want.AppendTo(nil, v)
			require.NoError(t, err)
			got := c.zero()
			require.NoError(t, got.DecodeFrom(b, v))
			require.Equal(t, want, got, "%s v%d", c.name, v)
		}
	}
}

// TestTruncatedInput chops a valid encoding of every message and version at
// every byte offset; each prefix must fail with ErrTruncated, never panic or
// succeed.
func TestTruncatedInput(t *testing.T) {
	for _, c := range allMessages() {
		for _, v := range c.versions() {
			b, err := c.filled(v, fillFull, 2).AppendTo(nil, v)
			require.NoError(t, err)
			m := c.zero()
			for i := 0; i < len(b); i++ {
				err := m.DecodeFrom(b[:i:i], v)
				if !errors.Is(err, ErrTruncated) {
					t.Fatalf("%s v%d cut at %d of %d: got %v, want ErrTruncated", c.name, v, i, len(b), err)
				}
			}
		}
	}
}

func TestVersionOutOfRange(t *testing.T) {
	for _, c := range allMessages() {
		lo, hi := c.new().SupportedVersions()
		for _, v := range []int16{lo - 1, hi + 1} {
			m := c.new()
			dst := []byte("keep")
			out, err := m.AppendTo(dst, v)
			var ve *VersionError
			require.ErrorAs(t, err, &ve, "%s v%d", c.name, v)
			require.Equal(t, v, ve.Version)
			require.ErrorIs(t, err, ErrUnsupportedVersion)
			require.Equal(t, "keep", string(out))
			require.ErrorAs(t, m.DecodeFrom([]byte{0, 0, 0, 0}, v), &ve)
		}
	}
}

// TestTrailingBytesIgnored documents that bytes after a complete message are
// not an error, as in Kafka's own clients.
func TestTrailingBytesIgnored(t *testing.T) {
	req := NewMetadataRequest()
	req.Topics = []MetadataRequestTopic{{Name: stringPtr("a")}}
	b, err := req.AppendTo(nil, 12)
	require.NoError(t, err)
	got := NewMetadataRequest()
	require.NoError(t, got.DecodeFrom(append(b, 1, 2, 3), 12))
	require.Equal(t, req, got)
}

func TestStringTooLong(t *testing.T) {
	long := make([]byte, MaxStringLen+1)
	for _, v := range []int16{3, 4} {
		req := NewAPIVersionsRequest()
		req.ClientSoftwareName = string(long)
		_, err := req.AppendTo(nil, v)
		require.ErrorIs(t, err, ErrStringTooLong, "v%d", v)
	}
	// Nested strings fail the same way, through the element encoders.
	resp := NewMetadataResponse()
	resp.Brokers = []MetadataResponseBroker{{Host: string(long)}}
	_, err := resp.AppendTo(nil, 1)
	require.ErrorIs(t, err, ErrStringTooLong)
}

// TestNullWhereNotAllowed checks both directions for a field nullable only
// in later versions: nil is written as empty, and null on the wire is
// rejected.
func TestNullWhereNotAllowed(t *testing.T) {
	// MetadataRequest.Topics is nullable from v1; at v0 nil means empty.
	b, err := (&MetadataRequest{}).AppendTo(nil, 0)
	require.NoError(t, err)
	require.Equal(t, []byte{0, 0, 0, 0}, b)

	err = NewMetadataRequest().DecodeFrom([]byte{0xff, 0xff, 0xff, 0xff}, 0)
	require.ErrorIs(t, err, ErrMalformed)
	require.NoError(t, NewMetadataRequest().DecodeFrom([]byte{0xff, 0xff, 0xff, 0xff}, 1))
}

func TestHostileCounts(t *testing.T) {
	// A count of 2^31-1 topics in a few bytes must fail fast with an error
	// instead of allocating.
	for _, v := range []int16{1, 12} {
		var b []byte
		if v >= 9 {
			b = AppendUvarint(nil, 1<<31)
		} else {
			b = AppendInt32(nil, 1<<31-1)
		}
		b = append(b, make([]byte, 64)...)
		allocs := testing.AllocsPerRun(10, func() {
			err := NewMetadataResponse().DecodeFrom(b, v)
			if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrMalformed) {
				panic(fmt.Sprintf("v%d: %v", v, err))
			}
		})
		require.Less(t, allocs, 10.0)
	}
}

func TestDecodeErrorNamesMessage(t *testing.T) {
	err := NewMetadataResponse().DecodeFrom([]byte{0, 0}, 12)
	require.ErrorIs(t, err, ErrTruncated)
	require.Contains(t, err.Error(), "MetadataResponse v12")
}
