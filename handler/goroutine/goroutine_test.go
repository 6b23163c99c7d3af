package goroutine_test

import (
	"testing"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/handler/goroutine"
	"github.com/gregorkafka/gregor/handler/handlertest"
)

func TestConformance(t *testing.T) {
	handlertest.Run(t, func(t *testing.T) handler.Handler { return goroutine.New() })
}
