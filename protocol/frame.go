package protocol

import (
	"encoding/binary"
	"math"
)

// A frame is a 4-byte big-endian size followed by that many bytes: a header
// and a body. The functions here build and split frames; reading and writing
// them is conn's job. "frame" arguments are the bytes after the size prefix.

// AppendRequestFrame appends a complete request frame (size, header, body) to
// dst. The header version follows from req.IsFlexible(version). The size is
// filled in after the body is appended, so the request is encoded once,
// straight into dst. On error dst is returned at its original length.
func AppendRequestFrame(dst []byte, req Message, version int16, correlationID int32, clientID *string) ([]byte, error) {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	h := RequestHeader{APIKey: req.APIKey(), APIVersion: version, CorrelationID: correlationID, ClientID: clientID}
	dst, err := h.AppendTo(dst, requestHeaderVersion(req.IsFlexible(version)))
	if err == nil {
		dst, err = req.AppendTo(dst, version)
	}
	if err != nil {
		return dst[:start], err
	}
	return finishFrame(dst, start)
}

// AppendResponseFrame appends a complete response frame to dst; it is the
// broker side of DecodeResponseFrame, for fake brokers in tests.
func AppendResponseFrame(dst []byte, resp Message, version int16, correlationID int32) ([]byte, error) {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	h := ResponseHeader{CorrelationID: correlationID}
	dst = h.AppendTo(dst, responseHeaderVersion(resp.APIKey(), resp.IsFlexible(version)))
	dst, err := resp.AppendTo(dst, version)
	if err != nil {
		return dst[:start], err
	}
	return finishFrame(dst, start)
}

func finishFrame(dst []byte, start int) ([]byte, error) {
	size := len(dst) - start - 4
	if size > math.MaxInt32 {
		return dst[:start], &encodeError{kind: ErrMalformed, detail: "frame larger than 2 GiB"}
	}
	binary.BigEndian.PutUint32(dst[start:], uint32(size))
	return dst, nil
}

// ResponseCorrelationID returns the correlation id that starts every
// response frame, so a connection can route the frame to the waiting request
// before decoding it.
func ResponseCorrelationID(frame []byte) (int32, error) {
	if len(frame) < 4 {
		return 0, &decodeError{kind: ErrTruncated, detail: "response frame shorter than a correlation id", message: "ResponseHeader"}
	}
	return int32(binary.BigEndian.Uint32(frame)), nil
}

// DecodeResponseFrame decodes the header and then the body into resp, which
// must be the response type of the request sent at version. The correlation
// id is returned even when the body fails to decode.
func DecodeResponseFrame(frame []byte, resp Message, version int16) (correlationID int32, err error) {
	d := Decoder{src: frame}
	hv := responseHeaderVersion(resp.APIKey(), resp.IsFlexible(version))
	correlationID = d.ReadInt32()
	if hv >= 1 {
		d.skipTaggedFields()
	}
	if d.err != nil {
		return correlationID, setDecodeContext(d.err, "ResponseHeader", hv)
	}
	return correlationID, resp.DecodeFrom(frame[d.off:], version)
}

// DecodeRequestFrame splits a request frame into its header and body, the
// broker side of AppendRequestFrame, for fake brokers in tests. Decode the
// body with NewRequest(hdr.APIKey) and DecodeFrom(body, hdr.APIVersion).
//
// For an API this package does not implement, or a version outside its
// range, the header version cannot be known; the header is then read as
// version 1 and returned with a *VersionError, so the caller can still answer
// with an UNSUPPORTED_VERSION error under the right correlation id.
func DecodeRequestFrame(frame []byte) (hdr RequestHeader, body []byte, err error) {
	d := Decoder{src: frame}
	hdr.decode(&d, 1)
	if d.err != nil {
		return hdr, nil, setDecodeContext(d.err, "RequestHeader", 1)
	}
	hv, ok := RequestHeaderVersion(hdr.APIKey, hdr.APIVersion)
	if !ok {
		ve := &VersionError{Message: APIName(hdr.APIKey) + "Request", Version: hdr.APIVersion, Min: 0, Max: -1}
		if a := lookupAPI(hdr.APIKey); a != nil {
			ve.Min, ve.Max = a.minVersion, a.maxVersion
		}
		return hdr, d.Rest(), ve
	}
	if hv >= 2 {
		hdr.UnknownTags = d.ReadRawTaggedFields()
		if d.err != nil {
			return hdr, nil, setDecodeContext(d.err, "RequestHeader", hv)
		}
	}
	return hdr, d.Rest(), nil
}
