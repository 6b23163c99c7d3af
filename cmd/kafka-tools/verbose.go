package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/gregorkafka/gregor/kafka"
)

// requestLog is the hook -v registers: one line on stderr per request
// written ("->") and per response read ("<-"), naming the broker, the
// connection, the API and version, the bytes and, for responses, the time
// on the wire.
type requestLog struct {
	mu sync.Mutex
	w  io.Writer
}

func brokerName(m kafka.BrokerMeta) string {
	if m.NodeID < 0 {
		return fmt.Sprintf("seed %s", m.Addr)
	}
	return fmt.Sprintf("broker %d %s", m.NodeID, m.Addr)
}

func (l *requestLog) printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, format, args...)
}

func (l *requestLog) OnBrokerWrite(e kafka.BrokerWriteEvent) {
	if e.Err != nil {
		l.printf("-> %s %s %s v%d %d B: %v\n", brokerName(e.BrokerMeta), e.Conn, e.API(), e.Version, e.Bytes, e.Err)
		return
	}
	l.printf("-> %s %s %s v%d %d B\n", brokerName(e.BrokerMeta), e.Conn, e.API(), e.Version, e.Bytes)
}

func (l *requestLog) OnBrokerRead(e kafka.BrokerReadEvent) {
	if e.Err != nil {
		l.printf("<- %s %s %s v%d: %v\n", brokerName(e.BrokerMeta), e.Conn, e.API(), e.Version, e.Err)
		return
	}
	l.printf("<- %s %s %s v%d %d B %s\n", brokerName(e.BrokerMeta), e.Conn, e.API(), e.Version, e.Bytes,
		e.Wire.Round(time.Microsecond))
}
