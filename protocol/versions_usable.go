package protocol

// usableMax caps version negotiation for APIs whose newer versions (in the
// release the codecs are generated from) ask callers for something gregor's
// callers do not fill in yet: Produce 13, OffsetCommit 10 and OffsetFetch 10
// name topics by ID, Fetch 18 and ListOffsets 11 change replica and
// isolation handling, and so on. The codecs still encode and decode every
// version (round-trip and fuzz tests cover them); only the version picked
// for a broker stays at one the callers are written for. Raise a cap together
// with the caller that uses the new version. Produce 12 and TxnOffsetCommit
// 5 (KIP-890) are usable; a transactional producer on the classic
// protocol still sends 11 and 4, as the broker takes the version as the
// producer's choice of protocol.
var usableMax = map[int16]int16{
	APIKeyProduce:               12,
	APIKeyFetch:                 17,
	APIKeyListOffsets:           10,
	APIKeyMetadata:              12,
	APIKeyOffsetCommit:          9,
	APIKeyOffsetFetch:           9,
	APIKeyDescribeGroups:        5,
	APIKeyInitProducerID:        5,
	APIKeyDescribeCluster:       1,
	APIKeyConsumerGroupDescribe: 0,
	APIKeyTxnOffsetCommit:       5,
}

// UsableVersionRange is SupportedVersionRange with the cap negotiation
// applies: the versions gregor will send the API with key at.
func UsableVersionRange(key int16) (VersionRange, bool) {
	r, ok := SupportedVersionRange(key)
	if c, capped := usableMax[key]; ok && capped {
		r.Max = min(r.Max, c)
	}
	return r, ok
}
