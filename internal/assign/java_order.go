package assign

import (
	"slices"
	"unicode/utf16"
)

// compareJava orders strings as Java's String.compareTo does: by UTF-16
// code unit, which differs from Go's byte order only for characters beyond
// U+FFFF against those in U+E000..U+FFFF.
func compareJava(a, b string) int {
	if isASCII(a) && isASCII(b) {
		switch {
		case a < b:
			return -1
		case a > b:
			return 1
		}
		return 0
	}
	return slices.Compare(utf16.Encode([]rune(a)), utf16.Encode([]rune(b)))
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
