package kafka

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hookRecorder implements every hook interface and keeps what it is told.
type hookRecorder struct {
	mu          sync.Mutex
	connects    []BrokerConnectEvent
	disconnects []BrokerDisconnectEvent
	writes      []BrokerWriteEvent
	reads       []BrokerReadEvent
	throttles   []BrokerThrottleEvent
	produced    []ProduceBatchEvent
	fetched     []FetchBatchEvent
	groups      []GroupEvent
	zk          []ZooKeeperEvent
}

func (r *hookRecorder) OnBrokerConnect(e BrokerConnectEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.connects = append(r.connects, e)
}

func (r *hookRecorder) OnBrokerDisconnect(e BrokerDisconnectEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.disconnects = append(r.disconnects, e)
}

func (r *hookRecorder) OnBrokerWrite(e BrokerWriteEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.writes = append(r.writes, e)
}

func (r *hookRecorder) OnBrokerRead(e BrokerReadEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reads = append(r.reads, e)
}

func (r *hookRecorder) OnBrokerThrottle(e BrokerThrottleEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.throttles = append(r.throttles, e)
}

func (r *hookRecorder) OnProduceBatch(e ProduceBatchEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.produced = append(r.produced, e)
}

func (r *hookRecorder) OnFetchBatch(e FetchBatchEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fetched = append(r.fetched, e)
}

func (r *hookRecorder) OnGroupEvent(e GroupEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.groups = append(r.groups, e)
}

func (r *hookRecorder) OnZooKeeperEvent(e ZooKeeperEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.zk = append(r.zk, e)
}

// readHookOnly implements one interface.
type readHookOnly struct{ n int }

func (r *readHookOnly) OnBrokerRead(BrokerReadEvent) { r.n++ }

func TestHooksSortedByInterface(t *testing.T) {
	rec, ro := &hookRecorder{}, &readHookOnly{}
	hk, err := newHooks([]Hook{rec, ro})
	require.NoError(t, err)
	assert.Len(t, hk.read, 2)
	assert.Len(t, hk.connect, 1)
	assert.Len(t, hk.zk, 1)
	assert.NotNil(t, hk.observer(BrokerMeta{NodeID: 1}))

	empty, err := newHooks(nil)
	require.NoError(t, err)
	assert.Nil(t, empty.observer(BrokerMeta{NodeID: 1}), "no broker hook: connections are not observed")
	only, err := newHooks([]Hook{&struct{ GroupHook }{}})
	require.NoError(t, err)
	assert.Nil(t, only.observer(BrokerMeta{NodeID: 1}))
}

func TestConfigRejectsHookImplementingNothing(t *testing.T) {
	_, err := Config{Hooks: []Hook{&readHookOnly{}, "not a hook"}}.withDefaults()
	var ce *ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "Hooks[1]", ce.Field)
	assert.Contains(t, ce.Error(), "string")
}
