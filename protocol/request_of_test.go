package protocol

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every generated request names its response type through EmptyResponse,
// the same type NewResponse makes, so generic callers can infer it.
func TestEveryRequestIsRequestOf(t *testing.T) {
	var _ RequestOf[*ProduceResponse] = (*ProduceRequest)(nil)
	for _, key := range APIKeys() {
		req := lookupAPI(key).newRequest()
		m := reflect.ValueOf(req).MethodByName("EmptyResponse")
		require.True(t, m.IsValid(), "%s has no EmptyResponse", APIName(key))
		got := m.Call(nil)[0].Interface()
		assert.IsType(t, req.NewResponse(), got, APIName(key))
		assert.Equal(t, key, got.(Message).APIKey(), APIName(key))
	}
}
