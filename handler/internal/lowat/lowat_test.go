package lowat

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestWantNeverExceedsRest(t *testing.T) {
	for _, rest := range []int{0, 1, Min - 1, Min, Min + 1, Max - 1, Max, Max + 1, 64 << 20} {
		w := Want(rest)
		assert.GreaterOrEqual(t, w, 1, "rest %d", rest)
		if rest >= 1 {
			assert.LessOrEqual(t, w, rest, "rest %d", rest)
		}
		assert.LessOrEqual(t, w, Max, "rest %d", rest)
	}
	assert.Equal(t, 1, Want(Min-1))
	assert.Equal(t, Min, Want(Min))
	assert.Equal(t, Max, Want(64<<20))
}
