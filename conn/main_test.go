package conn

import (
	"testing"

	"github.com/gregorkafka/gregor/internal/testcluster"
)

func TestMain(m *testing.M) { testcluster.Main(m) }
