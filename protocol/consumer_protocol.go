package protocol

// The consumer group protocol embeds two versioned structures in the bytes
// fields of JoinGroup and SyncGroup: a member's subscription (JoinGroup
// protocol metadata) and its assignment (SyncGroup assignment). Each is
// written as an int16 version followed by the structure at that version.
//
// A newer version than this package knows is decoded with the fields of the
// newest known version and the rest ignored, as the Java client does: the
// schema promises that later versions only append fields.

// EncodeConsumerSubscription returns s encoded at version with its version
// prefix.
func EncodeConsumerSubscription(s *ConsumerProtocolSubscription, version int16) ([]byte, error) {
	return appendVersioned(nil, s, version)
}

// DecodeConsumerSubscription decodes a version-prefixed subscription and
// returns it with the version found on the wire.
func DecodeConsumerSubscription(b []byte) (*ConsumerProtocolSubscription, int16, error) {
	s := new(ConsumerProtocolSubscription)
	v, err := decodeVersioned(b, s, "ConsumerProtocolSubscription")
	if err != nil {
		return nil, v, err
	}
	return s, v, nil
}

// EncodeConsumerAssignment returns a encoded at version with its version
// prefix.
func EncodeConsumerAssignment(a *ConsumerProtocolAssignment, version int16) ([]byte, error) {
	return appendVersioned(nil, a, version)
}

// DecodeConsumerAssignment decodes a version-prefixed assignment and returns
// it with the version found on the wire.
func DecodeConsumerAssignment(b []byte) (*ConsumerProtocolAssignment, int16, error) {
	a := new(ConsumerProtocolAssignment)
	v, err := decodeVersioned(b, a, "ConsumerProtocolAssignment")
	if err != nil {
		return nil, v, err
	}
	return a, v, nil
}

type versionedData interface {
	SupportedVersions() (minVersion, maxVersion int16)
	AppendTo(dst []byte, version int16) ([]byte, error)
	DecodeFrom(src []byte, version int16) error
}

func appendVersioned(dst []byte, m versionedData, version int16) ([]byte, error) {
	start := len(dst)
	dst = AppendInt16(dst, version)
	dst, err := m.AppendTo(dst, version)
	if err != nil {
		return dst[:start], err
	}
	return dst, nil
}

func decodeVersioned(b []byte, m versionedData, name string) (int16, error) {
	d := Decoder{src: b}
	v := d.ReadInt16()
	if d.err != nil {
		return v, setDecodeContext(d.err, name, -1)
	}
	lo, hi := m.SupportedVersions()
	if v < lo {
		return v, &VersionError{Message: name, Version: v, Min: lo, Max: hi}
	}
	return v, m.DecodeFrom(b[d.off:], min(v, hi))
}
