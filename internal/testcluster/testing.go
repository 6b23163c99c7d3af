package testcluster

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
)

// Main runs a package's tests and then closes every cluster they started, whatever the outcome. Use it as
//
//	func TestMain(m *testing.M) { testcluster.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	CloseAll()
	os.Exit(code)
}

// ForTest starts a cluster owned by one test and closed when it ends. Use it for tests that stop or kill
// brokers; others should share one with Shared.
func ForTest(t testing.TB, cfg Config) *Cluster {
	t.Helper()
	skipShort(t)
	cfg.Logf = t.Logf
	c, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("starting %s cluster: %v", cfg.Name(), err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

var shared struct {
	sync.Mutex
	m map[string]*sharedCluster
}

type sharedCluster struct {
	once sync.Once
	c    *Cluster
	err  error
}

// Shared returns a cluster of the given kind shared by all tests in the package, starting it on first use.
// It stays up until Main's CloseAll. A failed start is remembered, so later tests fail at once instead of
// retrying a slow start. Tests must not stop brokers of a shared cluster.
func Shared(t testing.TB, cfg Config) *Cluster {
	t.Helper()
	skipShort(t)
	key := sharedKey(cfg)
	shared.Lock()
	if shared.m == nil {
		shared.m = map[string]*sharedCluster{}
	}
	sc := shared.m[key]
	if sc == nil {
		sc = &sharedCluster{}
		shared.m[key] = sc
	}
	shared.Unlock()
	sc.once.Do(func() { sc.c, sc.err = Start(context.Background(), cfg) })
	if sc.err != nil {
		t.Fatalf("starting shared %s cluster: %v", cfg.Name(), sc.err)
	}
	return sc.c
}

// sharedKey names what makes two shared clusters the same: kind, version
// and broker settings.
func sharedKey(cfg Config) string {
	cfg = cfg.withDefaults()
	key := cfg.Name() + "@" + cfg.Version
	props := make([]string, 0, len(cfg.BrokerProps))
	for k, v := range cfg.BrokerProps {
		props = append(props, k+"="+v)
	}
	sort.Strings(props)
	for _, p := range props {
		key += "," + p
	}
	for _, l := range cfg.Listeners {
		key += fmt.Sprintf(";%s:%s:%t", l.Name, l.Protocol, l.ClientAuth)
		lp := make([]string, 0, len(l.Props))
		for k, v := range l.Props {
			lp = append(lp, k+"="+v)
		}
		sort.Strings(lp)
		key += "," + strings.Join(lp, ",")
	}
	for _, extra := range cfg.ExtraClasspath {
		key += ",cp=" + extra
	}
	features := make([]string, 0, len(cfg.Features))
	for name, level := range cfg.Features {
		features = append(features, fmt.Sprintf(",feature:%s=%d", name, level))
	}
	sort.Strings(features)
	return key + strings.Join(features, "")
}

// Kinds lists the four cluster kinds every integration test runs against.
func Kinds() []Config {
	return []Config{KRaftSingle, KRaftTriple, ZooKeeperSingle, ZooKeeperTriple}
}

// skipShort skips cluster tests under -short ("make unit"); the full suite never runs with -short.
func skipShort(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("needs a real Kafka cluster; skipped with -short")
	}
}
