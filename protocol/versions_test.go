package protocol

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func brokerVersions(keys ...APIVersionsResponseAPIKey) *Versions {
	resp := NewAPIVersionsResponse()
	resp.APIKeys = keys
	return NewVersions(resp)
}

func TestVersionsPickHighestCommon(t *testing.T) {
	v := brokerVersions(
		APIVersionsResponseAPIKey{APIKey: APIKeyMetadata, MinVersion: 0, MaxVersion: 8},
		APIVersionsResponseAPIKey{APIKey: APIKeyFetch, MinVersion: 4, MaxVersion: 40},
		APIVersionsResponseAPIKey{APIKey: APIKeyProduce, MinVersion: 13, MaxVersion: 14},
		APIVersionsResponseAPIKey{APIKey: 999, MinVersion: 0, MaxVersion: 1}, // unknown to us
		APIVersionsResponseAPIKey{APIKey: 30000, MinVersion: 0, MaxVersion: 1},
	)
	got, err := v.Pick(APIKeyMetadata)
	require.NoError(t, err)
	require.Equal(t, int16(8), got, "broker max below ours")

	got, ok := v.Version(APIKeyFetch)
	require.True(t, ok)
	ours, _ := UsableVersionRange(APIKeyFetch)
	require.Equal(t, ours.Max, got, "our max below the broker's")
	codec, _ := SupportedVersionRange(APIKeyFetch)
	require.Less(t, got, codec.Max, "negotiation stops at the version callers are written for, not the codec's")

	r, ok := v.BrokerRange(APIKeyFetch)
	require.True(t, ok)
	require.Equal(t, VersionRange{4, 40}, r)

	// No overlap: the broker only speaks Produce versions newer than ours.
	_, err = v.Pick(APIKeyProduce)
	var ue *UnsupportedVersionError
	require.ErrorAs(t, err, &ue)
	require.Equal(t, UnsupportedVersionError{
		APIKey: APIKeyProduce, APIName: "Produce",
		BrokerMin: 13, BrokerMax: 14, OursMin: 0, OursMax: oursProduce(),
	}, *ue)
	require.Contains(t, err.Error(), "Produce")
	require.ErrorIs(t, err, ErrUnsupportedVersion, "same test as the broker's error code")
	require.NotErrorIs(t, err, ErrUnknownServerError)

	// The broker did not list the API.
	_, err = v.Pick(APIKeyJoinGroup)
	require.ErrorAs(t, err, &ue)
	require.Equal(t, int16(-1), ue.BrokerMax)
	require.Contains(t, err.Error(), "broker does not support the JoinGroup")

	// We do not implement the API.
	_, err = v.Pick(999)
	require.ErrorAs(t, err, &ue)
	require.Contains(t, err.Error(), "gregor does not implement")

	for _, k := range []int16{-1, 30000} {
		_, ok = v.Version(k)
		require.False(t, ok)
		_, ok = v.BrokerRange(k)
		require.False(t, ok)
	}
}

func oursProduce() int16 {
	r, _ := UsableVersionRange(APIKeyProduce)
	return r.Max
}

func TestVersionsFinalizedFeatures(t *testing.T) {
	resp := NewAPIVersionsResponse()
	resp.FinalizedFeaturesEpoch = 7
	resp.FinalizedFeatures = []APIVersionsResponseFinalizedFeatureKey{
		{Name: "metadata.version", MinVersionLevel: 1, MaxVersionLevel: 27},
		{Name: "transaction.version", MinVersionLevel: 0, MaxVersionLevel: 2},
	}
	v := NewVersions(resp)
	level, ok := v.FinalizedFeature("transaction.version")
	require.True(t, ok)
	require.Equal(t, int16(2), level)
	_, ok = v.FinalizedFeature("group.version")
	require.False(t, ok)

	// Levels are valid only with an epoch (KIP-584): none means none.
	resp.FinalizedFeaturesEpoch = -1
	_, ok = NewVersions(resp).FinalizedFeature("transaction.version")
	require.False(t, ok)
	_, ok = brokerVersions().FinalizedFeature("transaction.version")
	require.False(t, ok)
}

func TestVersionsLookupDoesNotAllocate(t *testing.T) {
	v := brokerVersions(APIVersionsResponseAPIKey{APIKey: APIKeyMetadata, MinVersion: 0, MaxVersion: 12})
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := v.Pick(APIKeyMetadata); err != nil {
			panic(err)
		}
	})
	require.Zero(t, allocs)
}

func TestSupportedVersionRangeMatchesMessages(t *testing.T) {
	for _, key := range APIKeys() {
		r, ok := SupportedVersionRange(key)
		require.True(t, ok)
		req, _ := NewRequest(key)
		lo, hi := req.SupportedVersions()
		require.Equal(t, VersionRange{lo, hi}, r)
		require.Equal(t, key, req.APIKey())
		require.Equal(t, key, req.NewResponse().APIKey())
		require.NotContains(t, APIName(key), "Unknown")
	}
	require.Equal(t, "ApiVersions", APIName(APIKeyAPIVersions))
	require.Equal(t, "Unknown(999)", APIName(999))
	_, ok := NewRequest(999)
	require.False(t, ok)
	_, ok = NewResponse(-3)
	require.False(t, ok)
	require.Len(t, APIKeys(), 89, "every API Kafka "+SchemaRelease+" defines")
}
