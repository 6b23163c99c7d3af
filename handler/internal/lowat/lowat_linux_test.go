package lowat

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestReleaseAtLeast(t *testing.T) {
	for rel, want := range map[string]bool{
		"6.18.44-fc-v1147":  true,
		"5.8.0":             true,
		"5.15.0-91-generic": true,
		"5.7.19":            false,
		"4.19.0-26-amd64":   false,
		"3.10.0-1160.el7":   false,
		"5.8-rc1":           true,
		"garbage":           false,
		"":                  false,
	} {
		b := append([]byte(rel), 0, 0)
		assert.Equal(t, want, releaseAtLeast(b, 5, 8), rel)
	}
}
