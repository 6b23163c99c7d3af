package prim

import "github.com/gregorkafka/gregor/handler"

var (
	_ handler.UntypedQueue = (*Bounded)(nil)
	_ handler.UntypedQueue = (*Unbounded)(nil)
	_ handler.Event        = (*Event)(nil)
	_ handler.Lock         = (*Lock)(nil)
)
