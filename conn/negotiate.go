package conn

import (
	"context"
	"encoding/binary"
	"time"

	"github.com/gregorkafka/gregor/protocol"
)

// negotiate runs the ApiVersions exchange. It asks at the highest version
// gregor implements; a broker that does not know that version answers
// UNSUPPORTED_VERSION in the v0 body layout, listing the ApiVersions range
// it does support (KIP-511), and the request is repeated once at the highest
// common version.
func (s *session) negotiate(ctx context.Context) (*protocol.Versions, error) {
	ours, _ := protocol.SupportedVersionRange(protocol.APIKeyAPIVersions)
	version := ours.Max
	for attempt := 0; ; attempt++ {
		resp, err := s.apiVersions(ctx, version)
		if err != nil {
			return nil, err
		}
		code := resp.ErrorCode
		if code == 0 {
			return protocol.NewVersions(resp), nil
		}
		if code != protocol.ErrUnsupportedVersion.Code || attempt > 0 {
			return nil, &HandshakeError{Address: s.bc.addr, Err: protocol.ErrorForCode(code)}
		}
		next, err := retryVersion(resp, version)
		if err != nil {
			return nil, &HandshakeError{Address: s.bc.addr, Err: err}
		}
		version = next
	}
}

// retryVersion picks the version to retry ApiVersions at after the broker
// refused version: the highest both support, or 0 when the broker did not
// say (brokers older than KIP-511).
func retryVersion(resp *protocol.APIVersionsResponse, refused int16) (int16, error) {
	ours, _ := protocol.SupportedVersionRange(protocol.APIKeyAPIVersions)
	for _, k := range resp.APIKeys {
		if k.APIKey != protocol.APIKeyAPIVersions {
			continue
		}
		hi := min(ours.Max, k.MaxVersion, refused-1)
		if hi < max(ours.Min, k.MinVersion) {
			return 0, &protocol.UnsupportedVersionError{
				APIKey: protocol.APIKeyAPIVersions, APIName: protocol.APIName(protocol.APIKeyAPIVersions),
				BrokerMin: k.MinVersion, BrokerMax: k.MaxVersion, OursMin: ours.Min, OursMax: ours.Max,
			}
		}
		return hi, nil
	}
	if refused == 0 {
		return 0, protocol.ErrUnsupportedVersion
	}
	return 0, nil
}

// apiVersions sends one ApiVersions request and decodes the answer, falling
// back to the v0 layout when the broker reports UNSUPPORTED_VERSION.
func (s *session) apiVersions(ctx context.Context, version int16) (*protocol.APIVersionsResponse, error) {
	req := &protocol.APIVersionsRequest{
		ClientSoftwareName:    s.bc.cfg.ClientSoftwareName,
		ClientSoftwareVersion: s.bc.cfg.ClientSoftwareVersion,
	}
	f, err := s.send(ctx, req, version, s.bc.cfg.RequestTimeout, nil)
	if err != nil {
		return nil, err
	}
	if err := f.wait(ctx); err != nil {
		if f.obs != nil && f.Done() {
			f.observe(s.bc.h.Now(), nil, err)
		}
		return nil, err
	}
	var start time.Time
	if f.obs != nil {
		start = s.bc.h.Now()
	}
	resp := protocol.NewAPIVersionsResponse()
	if err := decodeAPIVersions(f.frame, resp, version); err != nil {
		err = &ResponseError{Address: s.bc.addr, APIKey: protocol.APIKeyAPIVersions, Version: version, Err: err}
		if f.obs != nil {
			f.observe(start, nil, err)
		}
		return nil, err
	}
	if f.obs != nil {
		f.observe(start, resp, nil)
	}
	return resp, nil
}

// decodeAPIVersions decodes an ApiVersions response frame. Its header is
// always v0 (just the correlation id), so the error code sits right after
// it; UNSUPPORTED_VERSION means the body is in the v0 layout whatever
// version was asked for.
func decodeAPIVersions(frame []byte, resp *protocol.APIVersionsResponse, version int16) error {
	if len(frame) >= 6 && int16(binary.BigEndian.Uint16(frame[4:])) == protocol.ErrUnsupportedVersion.Code {
		version = 0
	}
	_, err := protocol.DecodeResponseFrame(frame, resp, version)
	return err
}
