package protocol

import (
	"math"
	"strconv"
)

// Message is a request or response body. Implementations are the generated
// *XxxRequest and *XxxResponse types.
type Message interface {
	// APIKey is the key of the API the message belongs to.
	APIKey() int16
	// IsFlexible reports whether version uses compact encodings and tagged
	// fields (and so the flexible request/response header).
	IsFlexible(version int16) bool
	// SupportedVersions is the version range of the message's schema.
	SupportedVersions() (minVersion, maxVersion int16)
	// AppendTo appends the body encoded at version to dst. It fails only
	// for a version outside SupportedVersions or a string longer than
	// MaxStringLen; it allocates only if dst must grow.
	AppendTo(dst []byte, version int16) ([]byte, error)
	// DecodeFrom replaces the message with the body decoded from src at
	// version. Decoded byte slices alias src, and slices already in the
	// message are reused when large enough.
	DecodeFrom(src []byte, version int16) error
}

// Request is a request body; it knows its response type.
type Request interface {
	Message
	// NewResponse returns an empty response of the matching type.
	NewResponse() Message
}

// RequestOf is a Request whose response type is Resp. Every generated
// request implements it, so a generic function taking a RequestOf[Resp]
// infers Resp from the request it is given.
type RequestOf[Resp Message] interface {
	Request
	EmptyResponse() Resp
}

// noFlexibleVersions marks an API with no flexible versions in apiInfo.
const noFlexibleVersions = math.MaxInt16

// apiInfo is what the generated apiTable knows about one API.
type apiInfo struct {
	name                              string // "" for keys not generated
	minVersion, maxVersion            int16
	requestFlexible, responseFlexible int16 // first flexible version
	newRequest                        func() Request
	newResponse                       func() Message
}

func lookupAPI(key int16) *apiInfo {
	if key < 0 || int(key) >= len(apiTable) || apiTable[key].name == "" {
		return nil
	}
	return &apiTable[key]
}

// APIName returns the name Kafka uses for the API with key ("Metadata",
// "ApiVersions"), or "Unknown(<key>)" for a key this package does not
// implement.
func APIName(key int16) string {
	if a := lookupAPI(key); a != nil {
		return a.name
	}
	return "Unknown(" + strconv.Itoa(int(key)) + ")"
}

// APIKeys returns the keys of every API this package implements, ascending.
func APIKeys() []int16 {
	var keys []int16
	for k := range apiTable {
		if apiTable[k].name != "" {
			keys = append(keys, int16(k))
		}
	}
	return keys
}

// NewRequest returns an empty request for the API with key, with schema
// defaults applied, or false if the key is not implemented.
func NewRequest(key int16) (Request, bool) {
	if a := lookupAPI(key); a != nil {
		return a.newRequest(), true
	}
	return nil, false
}

// NewResponse returns an empty response for the API with key, or false if
// the key is not implemented.
func NewResponse(key int16) (Message, bool) {
	if a := lookupAPI(key); a != nil {
		return a.newResponse(), true
	}
	return nil, false
}
