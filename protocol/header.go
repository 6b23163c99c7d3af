package protocol

// RequestHeader precedes every request body.
//
// Version 0 has no client id (Kafka uses it only for ControlledShutdown v0),
// version 1 adds it and version 2, used by flexible requests, adds a tag
// section. The client id keeps the classic int16 length even in version 2 so
// that a broker can read the header of any request, including an
// ApiVersions request newer than it knows.
type RequestHeader struct {
	APIKey        int16
	APIVersion    int16
	CorrelationID int32
	ClientID      *string          // v1+; nil is sent as a null string
	UnknownTags   []RawTaggedField // v2+
}

// ResponseHeader precedes every response body: the correlation id, and in
// version 1 (flexible responses) a tag section.
type ResponseHeader struct {
	CorrelationID int32
	UnknownTags   []RawTaggedField // v1+
}

// RequestHeaderVersion returns the header version for a request of the API
// with key at version: 2 when the request version is flexible, 1 otherwise.
// It reports false for an API or version this package does not implement.
func RequestHeaderVersion(key, version int16) (int16, bool) {
	a := lookupAPI(key)
	if a == nil || version < a.minVersion || version > a.maxVersion {
		return 0, false
	}
	if version >= a.requestFlexible {
		return 2, true
	}
	return 1, true
}

// ResponseHeaderVersion returns the header version of a response of the API
// with key at version: 1 when the response version is flexible, 0 otherwise.
// ApiVersions responses always use version 0: the client reads the header
// before it knows which versions the broker speaks.
func ResponseHeaderVersion(key, version int16) (int16, bool) {
	a := lookupAPI(key)
	if a == nil || version < a.minVersion || version > a.maxVersion {
		return 0, false
	}
	return responseHeaderVersion(key, version >= a.responseFlexible), true
}

func requestHeaderVersion(flexible bool) int16 {
	if flexible {
		return 2
	}
	return 1
}

func responseHeaderVersion(key int16, flexible bool) int16 {
	if flexible && key != APIKeyAPIVersions {
		return 1
	}
	return 0
}

// AppendTo appends the header encoded at headerVersion (0, 1 or 2).
func (h *RequestHeader) AppendTo(dst []byte, headerVersion int16) ([]byte, error) {
	dst = AppendInt16(dst, h.APIKey)
	dst = AppendInt16(dst, h.APIVersion)
	dst = AppendInt32(dst, h.CorrelationID)
	if headerVersion >= 1 {
		if h.ClientID != nil && len(*h.ClientID) > MaxStringLen {
			return dst, stringTooLong(len(*h.ClientID))
		}
		dst = AppendNullableString(dst, h.ClientID)
	}
	if headerVersion >= 2 {
		dst = AppendRawTaggedFields(dst, h.UnknownTags)
	}
	return dst, nil
}

// decode reads the fields of headerVersion; the tag section of version 2
// is kept in UnknownTags since the header defines no tagged fields.
func (h *RequestHeader) decode(d *Decoder, headerVersion int16) {
	h.APIKey = d.ReadInt16()
	h.APIVersion = d.ReadInt16()
	h.CorrelationID = d.ReadInt32()
	h.ClientID = nil
	if headerVersion >= 1 {
		h.ClientID = d.ReadNullableString()
	}
	h.UnknownTags = nil
	if headerVersion >= 2 {
		h.UnknownTags = d.ReadRawTaggedFields()
	}
}

// AppendTo appends the header encoded at headerVersion (0 or 1).
func (h *ResponseHeader) AppendTo(dst []byte, headerVersion int16) []byte {
	dst = AppendInt32(dst, h.CorrelationID)
	if headerVersion >= 1 {
		dst = AppendRawTaggedFields(dst, h.UnknownTags)
	}
	return dst
}
