package protocol

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func init() {
	if crcFoldable {
		crcImpls = append(crcImpls, crcImpl{"fold", crcFoldUpdate})
	}
	if crcWide {
		crcImpls = append(crcImpls, crcImpl{"wide", func(crc uint32, p []byte) uint32 {
			if len(p) < crcWideMin {
				return crcUpdate(crc, p)
			}
			return crcWideUpdate(crc, p)
		}})
	}
}

func TestCRCInstrSlow(t *testing.T) {
	assert.True(t, crcInstrSlow("AuthenticAMD", 0x17), "Zen 1 to Zen 2")
	assert.True(t, crcInstrSlow("HygonGenuine", 0x18))
	assert.False(t, crcInstrSlow("AuthenticAMD", 0x19), "Zen 3 and 4")
	assert.False(t, crcInstrSlow("AuthenticAMD", 0x1a), "Zen 5")
	assert.False(t, crcInstrSlow("GenuineIntel", 6))

	vendor, family := cpuVendorFamily()
	assert.Len(t, vendor, 12)
	assert.NotZero(t, family)
	t.Logf("%s family %#x: crcUpdate folds: %v", vendor, family, crcFold)
}
