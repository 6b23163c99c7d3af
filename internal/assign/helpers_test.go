package assign

import (
	"context"
	"testing"
	"time"

	"github.com/gregorkafka/gregor/internal/testcluster"
)

func TestMain(m *testing.M) { testcluster.Main(m) }

// testCtx is bounded, so a hang fails the test instead of the whole run.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}
