package protocol

// The consumer group protocol embeds two versioned structures in the bytes
// fields of JoinGroup and SyncGroup: a member's subscription (JoinGroup
// protocol metadata) and its assignment (SyncGroup assignment). Each is
// written as an int16 version followed by the structure at that version.
//
// A newer version than this package knows is decoded with the fields of the
// newest known version and the rest ignored, as the Java client does: the
// schema promises that later versions only append fields.
//
// The decoders also accept a structure that stops early, at the boundary
// between two top-level fields after the first: the missing trailing fields
// take their defaults. pykafka-era clients write assignments that claim version 1 but end
// after the partitions (no user data), and a group led by one must still work.
// A structure that ends inside a field, or holds an impossible length, is
// still an error.

// EncodeConsumerSubscription returns s encoded at version with its version
// prefix.
func EncodeConsumerSubscription(s *ConsumerProtocolSubscription, version int16) ([]byte, error) {
	return appendVersioned(nil, s, version)
}

// DecodeConsumerSubscription decodes a version-prefixed subscription and
// returns it with the version found on the wire.
func DecodeConsumerSubscription(b []byte) (*ConsumerProtocolSubscription, int16, error) {
	s := new(ConsumerProtocolSubscription)
	v, err := decodeVersioned(b, "ConsumerProtocolSubscription", 3, s.decodeTrailingOptional)
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
	v, err := decodeVersioned(b, "ConsumerProtocolAssignment", 3, a.decodeTrailingOptional)
	if err != nil {
		return nil, v, err
	}
	return a, v, nil
}

type versionedData interface {
	AppendTo(dst []byte, version int16) ([]byte, error)
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

// decodeVersioned reads the version prefix and decodes the rest with decode
// at that version, capped at the newest one known (maxVersion).
func decodeVersioned(b []byte, name string, maxVersion int16, decode func(*Decoder, int16)) (int16, error) {
	d := Decoder{src: b}
	v := d.ReadInt16()
	if d.err != nil {
		return v, setDecodeContext(d.err, name, -1)
	}
	if v < 0 {
		return v, &VersionError{Message: name, Version: v, Min: 0, Max: maxVersion}
	}
	decode(&d, min(v, maxVersion))
	if d.err != nil {
		return v, setDecodeContext(d.err, name, v)
	}
	return v, nil
}

// decodeTrailingOptional decodes s field by field and stops, leaving the
// defaults, when the input ends exactly before a top-level field.
func (s *ConsumerProtocolSubscription) decodeTrailingOptional(d *Decoder, version int16) {
	s.Default()
	if n := d.readArrayLenF(false, false, 2); n > 0 {
		s.Topics = make([]string, n)
		for i := range s.Topics {
			s.Topics[i] = d.readStr(false)
		}
	}
	if d.err != nil || d.Remaining() == 0 {
		return
	}
	s.UserData = d.readNullBytesF(false, true)
	if version < 1 || d.err != nil || d.Remaining() == 0 {
		return
	}
	if n := d.readArrayLenF(false, false, 6); n > 0 {
		s.OwnedPartitions = make([]ConsumerProtocolSubscriptionTopicPartition, n)
		for i := range s.OwnedPartitions {
			s.OwnedPartitions[i].decode(d, version)
		}
	}
	if version < 2 || d.err != nil || d.Remaining() == 0 {
		return
	}
	s.GenerationID = d.ReadInt32()
	if version < 3 || d.err != nil || d.Remaining() == 0 {
		return
	}
	s.RackID = d.readNullStr(false, true)
}

// decodeTrailingOptional decodes a field by field and stops, leaving the
// defaults, when the input ends exactly before a top-level field.
func (a *ConsumerProtocolAssignment) decodeTrailingOptional(d *Decoder, version int16) {
	a.Default()
	if n := d.readArrayLenF(false, false, 6); n > 0 {
		a.AssignedPartitions = make([]ConsumerProtocolAssignmentTopicPartition, n)
		for i := range a.AssignedPartitions {
			a.AssignedPartitions[i].decode(d, version)
		}
	}
	if d.err != nil || d.Remaining() == 0 {
		return
	}
	a.UserData = d.readNullBytesF(false, true)
}
