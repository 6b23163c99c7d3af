package protocol

import "strconv"

// VersionRange is an inclusive range of API versions.
type VersionRange struct{ Min, Max int16 }

// SupportedVersionRange returns the versions of the API with key that this
// package can encode and decode (the schema's range), or false for an API it
// does not implement.
func SupportedVersionRange(key int16) (VersionRange, bool) {
	if a := lookupAPI(key); a != nil {
		return VersionRange{a.minVersion, a.maxVersion}, true
	}
	return VersionRange{}, false
}

// Versions holds the outcome of version negotiation with one broker: for
// every API both sides implement, the highest version both support. It is
// built once per connection from the broker's ApiVersions response; lookups
// index an array by API key and do not allocate on success.
type Versions struct {
	broker [len(apiTable)]VersionRange
	known  [len(apiTable)]bool  // the broker listed the key
	picked [len(apiTable)]int16 // highest common version, -1 if none
	// features are the cluster's finalized feature levels (name → max
	// level) as the broker listed them, nil when it listed none.
	features map[string]int16
}

// NewVersions negotiates against the API list of a broker's ApiVersions
// response. The response's error code is not looked at: a broker answering
// UNSUPPORTED_VERSION still lists its ApiVersions range, and deciding to
// retry is the caller's business.
func NewVersions(resp *APIVersionsResponse) *Versions {
	v := &Versions{}
	for i := range v.picked {
		v.picked[i] = -1
	}
	for _, k := range resp.APIKeys {
		if k.APIKey < 0 || int(k.APIKey) >= len(apiTable) || k.MinVersion > k.MaxVersion {
			continue
		}
		v.broker[k.APIKey] = VersionRange{k.MinVersion, k.MaxVersion}
		v.known[k.APIKey] = true
		ours, ok := UsableVersionRange(k.APIKey)
		if !ok {
			continue
		}
		if hi := min(ours.Max, k.MaxVersion); hi >= max(ours.Min, k.MinVersion) {
			v.picked[k.APIKey] = hi
		}
	}
	if resp.FinalizedFeaturesEpoch >= 0 && len(resp.FinalizedFeatures) > 0 {
		v.features = make(map[string]int16, len(resp.FinalizedFeatures))
		for _, f := range resp.FinalizedFeatures {
			v.features[f.Name] = f.MaxVersionLevel
		}
	}
	return v
}

// FinalizedFeature returns the level the cluster finalized for the feature
// name (such as "transaction.version"), or false when the broker listed
// none: a ZooKeeper-mode broker, or one older than the feature.
func (v *Versions) FinalizedFeature(name string) (int16, bool) {
	level, ok := v.features[name]
	return level, ok
}

// Version returns the highest version of the API with key that both gregor
// and the broker support, or false if there is none.
func (v *Versions) Version(key int16) (int16, bool) {
	if key < 0 || int(key) >= len(v.picked) || v.picked[key] < 0 {
		return -1, false
	}
	return v.picked[key], true
}

// Pick is Version with an error that explains a failure: an
// *UnsupportedVersionError naming the API and both ranges.
func (v *Versions) Pick(key int16) (int16, error) {
	if ver, ok := v.Version(key); ok {
		return ver, nil
	}
	e := &UnsupportedVersionError{APIKey: key, APIName: APIName(key), BrokerMin: -1, BrokerMax: -1, OursMin: -1, OursMax: -1}
	if r, ok := v.BrokerRange(key); ok {
		e.BrokerMin, e.BrokerMax = r.Min, r.Max
	}
	if r, ok := UsableVersionRange(key); ok {
		e.OursMin, e.OursMax = r.Min, r.Max
	}
	return -1, e
}

// BrokerRange returns the versions the broker listed for the API with key,
// or false if it did not list it (or gregor does not implement it).
func (v *Versions) BrokerRange(key int16) (VersionRange, bool) {
	if key < 0 || int(key) >= len(v.known) || !v.known[key] {
		return VersionRange{}, false
	}
	return v.broker[key], true
}

// UnsupportedVersionError reports that gregor and a broker share no version
// of an API. A range of -1..-1 means that side does not implement the API.
type UnsupportedVersionError struct {
	APIKey               int16
	APIName              string
	BrokerMin, BrokerMax int16
	OursMin, OursMax     int16
}

// Is makes errors.Is(err, ErrUnsupportedVersion) hold, as it does for a
// broker's UNSUPPORTED_VERSION error code, so callers need one test for both.
func (e *UnsupportedVersionError) Is(target error) bool { return ErrUnsupportedVersion.Is(target) }

// Is makes errors.Is(err, ErrUnsupportedVersion) hold for a message used at a
// version outside its schema.
func (e *VersionError) Is(target error) bool { return ErrUnsupportedVersion.Is(target) }

func (e *UnsupportedVersionError) Error() string {
	api := e.APIName + " (key " + strconv.Itoa(int(e.APIKey)) + ")"
	switch {
	case e.OursMax < 0:
		return "protocol: gregor does not implement the " + api + " API"
	case e.BrokerMax < 0:
		return "protocol: the broker does not support the " + api + " API"
	}
	return "protocol: no common version of " + api + ": broker supports " + rangeString(e.BrokerMin, e.BrokerMax) +
		", gregor " + rangeString(e.OursMin, e.OursMax)
}

func rangeString(lo, hi int16) string {
	return strconv.Itoa(int(lo)) + "-" + strconv.Itoa(int(hi))
}
