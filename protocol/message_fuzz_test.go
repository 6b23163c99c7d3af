package protocol

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The fuzz targets feed arbitrary bytes to the decoders. Beyond "no panic, no
// hang, no huge allocation" (Decoder bounds every count by the input size),
// each checks that whatever decodes also re-encodes, and that decoding the
// re-encoding gives the same value.

// fuzzSelect maps the first two input bytes to an API key and a version in
// its range, so one corpus covers every message.
func fuzzSelect(data []byte) (key, version int16, body []byte, ok bool) {
	if len(data) < 2 {
		return 0, 0, nil, false
	}
	keys := APIKeys()
	key = keys[int(data[0])%len(keys)]
	r, _ := SupportedVersionRange(key)
	version = r.Min + int16(int(data[1])%int(r.Max-r.Min+1))
	return key, version, data[2:], true
}

func fuzzSeeds(f *testing.F, requests bool) {
	keys := APIKeys()
	for i, key := range keys {
		r, _ := SupportedVersionRange(key)
		for v := r.Min; v <= r.Max; v++ {
			var m testMessage
			var flexible func(int16) bool
			if requests {
				req, _ := NewRequest(key)
				m, flexible = req, req.IsFlexible
			} else {
				resp, _ := NewResponse(key)
				m, flexible = resp, resp.IsFlexible
			}
			(&filler{version: v, flexible: flexible(v), elems: 1}).fill(m)
			b, err := m.AppendTo([]byte{byte(i), byte(v - r.Min)}, v)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
}

func checkReencode(t *testing.T, first Message, fresh func() Message, version int16) {
	b, err := first.AppendTo(nil, version)
	require.NoError(t, err, "a decoded message must encode")
	second := fresh()
	require.NoError(t, second.DecodeFrom(b, version), "our own encoding must decode")
	require.Equal(t, first, second)
}

func FuzzDecodeResponses(f *testing.F) {
	fuzzSeeds(f, false)
	f.Fuzz(func(t *testing.T, data []byte) {
		key, v, body, ok := fuzzSelect(data)
		if !ok {
			return
		}
		fresh := func() Message { m, _ := NewResponse(key); return m }
		m := fresh()
		if m.DecodeFrom(body, v) != nil {
			return
		}
		checkReencode(t, m, fresh, v)
	})
}

func FuzzDecodeRequests(f *testing.F) {
	fuzzSeeds(f, true)
	f.Fuzz(func(t *testing.T, data []byte) {
		key, v, body, ok := fuzzSelect(data)
		if !ok {
			return
		}
		fresh := func() Message { m, _ := NewRequest(key); return m }
		m := fresh()
		if m.DecodeFrom(body, v) != nil {
			return
		}
		checkReencode(t, m, fresh, v)
	})
}

func FuzzConsumerProtocol(f *testing.F) {
	for v := int16(0); v <= 3; v++ {
		s := NewConsumerProtocolSubscription()
		(&filler{version: v, elems: 2}).fill(s)
		b, _ := EncodeConsumerSubscription(s, v)
		f.Add(b)
		a := NewConsumerProtocolAssignment()
		(&filler{version: v, elems: 2}).fill(a)
		b, _ = EncodeConsumerAssignment(a, v)
		f.Add(b)
	}
	for _, b := range [][]byte{pykafkaSubscription, pykafkaAssignment, pykafkaEmptyTopic, pykafkaNoTopics} {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if s, v, err := DecodeConsumerSubscription(data); err == nil {
			b, err := EncodeConsumerSubscription(s, min(v, 3))
			require.NoError(t, err)
			again, _, err := DecodeConsumerSubscription(b)
			require.NoError(t, err)
			require.Equal(t, s, again)
		}
		if a, v, err := DecodeConsumerAssignment(data); err == nil {
			b, err := EncodeConsumerAssignment(a, min(v, 3))
			require.NoError(t, err)
			again, _, err := DecodeConsumerAssignment(b)
			require.NoError(t, err)
			require.Equal(t, a, again)
		}
	})
}

func FuzzFrames(f *testing.F) {
	client := "fuzz"
	for _, key := range APIKeys() {
		req, _ := NewRequest(key)
		r, _ := SupportedVersionRange(key)
		b, _ := AppendRequestFrame(nil, req, r.Max, 1, &client)
		f.Add(b[4:])
		resp, _ := NewResponse(key)
		b, _ = AppendResponseFrame(nil, resp, r.Max, 1)
		f.Add(b[4:])
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		hdr, body, err := DecodeRequestFrame(frame)
		if err == nil {
			req, ok := NewRequest(hdr.APIKey)
			require.True(t, ok, "a header without error names a known API")
			_ = req.DecodeFrom(body, hdr.APIVersion)
		}
		_, _ = ResponseCorrelationID(frame)
		for _, key := range []int16{APIKeyAPIVersions, APIKeyMetadata} {
			resp, _ := NewResponse(key)
			r, _ := SupportedVersionRange(key)
			_, _ = DecodeResponseFrame(frame, resp, r.Max)
		}
	})
}
