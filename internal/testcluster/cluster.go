package testcluster

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gregorkafka/gregor/protocol"
)

// Cluster is a running set of brokers (and ZooKeeper, in ZooKeeper mode).
type Cluster struct {
	cfg       Config
	rel       release
	dir       string
	classpath string
	clusterID string // KRaft storage cluster id

	zk  *ZooKeeperNode
	tls *TLSMaterial // nil without TLS listeners

	mu      sync.Mutex
	brokers []*Broker

	closeOnce sync.Once
	closeErr  error
}

// Broker is one broker node of a Cluster.
type Broker struct {
	ID       int32
	Port     int
	ctrlPort int // KRaft controller listener
	// listenerPorts maps Config.Listeners' upper-cased names to their ports.
	listenerPorts map[string]int
	dir           string
	props         string

	mu   sync.Mutex // guards proc, replaced on restart
	proc *process
}

func (b *Broker) process() *process {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.proc
}

// Pid is the process id of the broker's JVM, 0 when it is not running. bench/ uses it to have the broker
// collect garbage between runs.
func (b *Broker) Pid() int {
	p := b.process()
	if p == nil || p.exited() {
		return 0
	}
	return p.cmd.Process.Pid
}

// Addr is the broker's PLAINTEXT listener, host:port.
func (b *Broker) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(b.Port)) }

// Running reports whether the broker process is alive.
func (b *Broker) Running() bool {
	p := b.process()
	return p != nil && !p.exited()
}

// StartupTimeout bounds how long a cluster may take to become ready.
const StartupTimeout = 3 * time.Minute

// Start launches a cluster and returns once it serves requests. On any failure everything already started is
// stopped again. The caller must Close the cluster.
func Start(ctx context.Context, cfg Config) (*Cluster, error) {
	cfg = cfg.withDefaults()
	rel, ok := releases[cfg.Version]
	if !ok {
		return nil, fmt.Errorf("testcluster: Kafka %s is not pinned", cfg.Version)
	}
	if cfg.Mode == ZooKeeper && !rel.zookeeper {
		return nil, fmt.Errorf("testcluster: Kafka %s cannot run in ZooKeeper mode", cfg.Version)
	}
	if err := checkListeners(cfg.Listeners); err != nil {
		return nil, err
	}
	if _, err := lookTool("java", "Java 17+ runs the Kafka and ZooKeeper servers"); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, StartupTimeout)
	defer cancel()
	cp, err := Classpath(ctx, cfg.Version)
	if err != nil {
		return nil, err
	}
	for _, extra := range cfg.ExtraClasspath {
		cp += string(os.PathListSeparator) + extra
	}
	sweepStaleDirs()
	dir, err := os.MkdirTemp("", fmt.Sprintf("gregor-testcluster-%d-", os.Getpid()))
	if err != nil {
		return nil, err
	}
	c := &Cluster{cfg: cfg, rel: rel, dir: dir, classpath: cp}
	register(c)
	if err := c.start(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func (c *Cluster) start(ctx context.Context) error {
	if c.cfg.Mode == ZooKeeper {
		zk, err := startZooKeeper(ctx, c)
		if err != nil {
			return err
		}
		c.zk = zk
	} else {
		c.clusterID = newClusterID()
	}
	if needsTLS(c.cfg.Listeners) {
		m, err := newTLSMaterial(filepath.Join(c.dir, "tls"))
		if err != nil {
			return err
		}
		c.tls = m
	}
	perBroker := 2 + len(c.cfg.Listeners)
	ports, err := freePorts(perBroker * c.cfg.Brokers)
	if err != nil {
		return err
	}
	for i := 0; i < c.cfg.Brokers; i++ {
		p := ports[perBroker*i:]
		b := &Broker{ID: int32(i + 1), Port: p[0], ctrlPort: p[1], listenerPorts: map[string]int{}}
		for j, l := range c.cfg.Listeners {
			b.listenerPorts[strings.ToUpper(l.Name)] = p[2+j]
		}
		b.dir = filepath.Join(c.dir, fmt.Sprintf("broker-%d", b.ID))
		if err := os.MkdirAll(b.dir, 0o755); err != nil {
			return err
		}
		c.brokers = append(c.brokers, b)
	}
	// Each KRaft node's storage format is a JVM run of its own: run them side by side.
	errs := make([]error, len(c.brokers))
	var wg sync.WaitGroup
	for i, b := range c.brokers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.configure(ctx, b)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if c.zk != nil && needsSASL(c.cfg.Listeners) {
		if err := c.addScramUsersZK(ctx); err != nil {
			return err
		}
	}
	c.cfg.Logf("testcluster: starting %s (Kafka %s) in %s", c.cfg.Name(), c.cfg.Version, c.dir)
	// KRaft controllers need a quorum to elect a leader, so all nodes start before any is waited for.
	for _, b := range c.brokers {
		if err := c.launch(b); err != nil {
			return err
		}
	}
	return c.WaitReady(ctx)
}

// configure writes server.properties and, in KRaft mode, formats the node's storage.
func (c *Cluster) configure(ctx context.Context, b *Broker) error {
	props := baseProps(c.cfg.Brokers)
	dataDir := filepath.Join(b.dir, "data")
	props["log.dirs"] = dataDir
	props["advertised.listeners"] = "PLAINTEXT://" + b.Addr()
	if c.cfg.Mode == ZooKeeper {
		props["broker.id"] = strconv.Itoa(int(b.ID))
		props["listeners"] = "PLAINTEXT://" + b.Addr()
		props["zookeeper.connect"] = c.zk.Connect()
		props["zookeeper.session.timeout.ms"] = "6000"
	} else {
		var voters []string
		for _, o := range c.brokers {
			voters = append(voters, fmt.Sprintf("%d@127.0.0.1:%d", o.ID, o.ctrlPort))
		}
		props["process.roles"] = "broker,controller"
		props["node.id"] = strconv.Itoa(int(b.ID))
		props["controller.quorum.voters"] = strings.Join(voters, ",")
		props["listeners"] = fmt.Sprintf("PLAINTEXT://%s,CONTROLLER://127.0.0.1:%d", b.Addr(), b.ctrlPort)
		props["controller.listener.names"] = "CONTROLLER"
		props["inter.broker.listener.name"] = "PLAINTEXT"
		props["listener.security.protocol.map"] = "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"
		if c.cfg.Perf {
			// The active controller otherwise appends a no-op record to the metadata log every 500 ms, which
			// every broker then applies: on one core, each one held up the produce requests of the moment by
			// 2-5 ms (a burst of slow acknowledgements every 0.5 s; p99 1.09 ms against 0.67 without).
			props["metadata.max.idle.interval.ms"] = "0"
		}
	}
	if len(c.cfg.Listeners) > 0 {
		c.listenerProps(b, props)
	}
	for k, v := range c.cfg.BrokerProps {
		props[k] = v
	}
	b.props = filepath.Join(b.dir, "server.properties")
	if err := writeProps(b.props, props); err != nil {
		return err
	}
	if c.cfg.Mode != KRaft {
		return nil
	}
	fmtDir := filepath.Join(b.dir, "format")
	if err := os.MkdirAll(fmtDir, 0o755); err != nil {
		return err
	}
	p, err := startJVM(jvmSpec{
		name: fmt.Sprintf("storage format for node %d", b.ID), classpath: c.classpath,
		mainClass: "kafka.tools.StorageTool", args: c.formatArgs(b),
		dir: fmtDir, tag: c.cfg.Tag, log4j2: c.rel.log4j2,
	})
	if err != nil {
		return err
	}
	select {
	case <-p.done:
	case <-ctx.Done():
		p.kill()
		return fmt.Errorf("testcluster: formatting node %d: %w", b.ID, ctx.Err())
	}
	if p.exitErr != nil {
		return fmt.Errorf("testcluster: formatting node %d: %v%s", b.ID, p.exitErr, p.diagnostics())
	}
	return nil
}

// formatArgs are the KRaft storage tool's arguments for b, creating the SCRAM users of SASL listeners.
func (c *Cluster) formatArgs(b *Broker) []string {
	args := []string{"format", "-t", c.clusterID, "-c", b.props}
	if needsSASL(c.cfg.Listeners) {
		args = append(args, scramFormatArgs()...)
	}
	names := make([]string, 0, len(c.cfg.Features))
	for name := range c.cfg.Features {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		args = append(args, "--feature", name+"="+strconv.Itoa(int(c.cfg.Features[name])))
	}
	return args
}

func (c *Cluster) launch(b *Broker) error {
	p, err := startJVM(jvmSpec{
		name: fmt.Sprintf("broker %d", b.ID), classpath: c.classpath, mainClass: "kafka.Kafka",
		args: []string{b.props}, dir: b.dir, tag: c.cfg.Tag, log4j2: c.rel.log4j2, perf: c.cfg.Perf,
	})
	if err != nil {
		return err
	}
	b.mu.Lock()
	b.proc = p
	b.mu.Unlock()
	return nil
}

// WaitReady blocks until every running broker answers Metadata listing all running brokers and a controller.
func (c *Cluster) WaitReady(ctx context.Context) error {
	want := map[int32]bool{}
	running := c.runningBrokers()
	for _, b := range running {
		want[b.ID] = true
	}
	for _, b := range running {
		err := b.process().waitFor(ctx, "ready", func(ctx context.Context) error {
			md, err := metadataFrom(ctx, b.Addr(), nil)
			if err != nil {
				return err
			}
			if md.ControllerID < 0 {
				return errors.New("no controller yet")
			}
			seen := map[int32]bool{}
			for _, mb := range md.Brokers {
				seen[mb.NodeID] = true
			}
			for id := range want {
				if !seen[id] {
					return fmt.Errorf("broker %d not yet registered", id)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	c.cfg.Logf("testcluster: %s ready at %s", c.cfg.Name(), strings.Join(c.Bootstrap(), ","))
	return nil
}

func metadataFrom(ctx context.Context, addr string, topics []string) (*protocol.MetadataResponse, error) {
	rc, err := dialRaw(ctx, addr)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return rc.metadata(topics)
}

// TLS returns the CA and client certificate of the cluster's TLS listeners, or nil when it has none.
func (c *Cluster) TLS() *TLSMaterial { return c.tls }

// Config returns the cluster's configuration with defaults filled in.
func (c *Cluster) Config() Config { return c.cfg }

// Dir is the cluster's temporary directory (broker data and logs).
func (c *Cluster) Dir() string { return c.dir }

// Classpath is the Kafka class path the cluster runs with (for Kafka's own tools).
func (c *Cluster) Classpath() string { return c.classpath }

// Brokers returns every broker, running or not, ordered by id.
func (c *Cluster) Brokers() []*Broker {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*Broker(nil), c.brokers...)
}

func (c *Cluster) runningBrokers() []*Broker {
	var out []*Broker
	for _, b := range c.Brokers() {
		if b.Running() {
			out = append(out, b)
		}
	}
	return out
}

// Broker returns the broker with the given id, or nil.
func (c *Cluster) Broker(id int32) *Broker {
	for _, b := range c.Brokers() {
		if b.ID == id {
			return b
		}
	}
	return nil
}

// Bootstrap lists the running brokers' addresses.
func (c *Cluster) Bootstrap() []string {
	var out []string
	for _, b := range c.runningBrokers() {
		out = append(out, b.Addr())
	}
	return out
}

// ZooKeeperConnect is the ZooKeeper connect string ("" in KRaft mode).
func (c *Cluster) ZooKeeperConnect() string {
	if c.zk == nil {
		return ""
	}
	return c.zk.Connect()
}

// StopBroker shuts a broker down in order (SIGTERM), as an operator would.
func (c *Cluster) StopBroker(id int32) error {
	b := c.Broker(id)
	if b == nil || b.process() == nil {
		return fmt.Errorf("testcluster: no broker %d", id)
	}
	b.process().stop(60 * time.Second)
	return nil
}

// KillBroker kills a broker with SIGKILL, as a crash would.
func (c *Cluster) KillBroker(id int32) error {
	b := c.Broker(id)
	if b == nil || b.process() == nil {
		return fmt.Errorf("testcluster: no broker %d", id)
	}
	b.process().kill()
	return nil
}

// RestartBroker starts a stopped or killed broker again on the same port and data and waits until the
// cluster is ready.
func (c *Cluster) RestartBroker(ctx context.Context, id int32) error {
	b := c.Broker(id)
	if b == nil {
		return fmt.Errorf("testcluster: no broker %d", id)
	}
	if b.Running() {
		return fmt.Errorf("testcluster: broker %d is running", id)
	}
	if err := c.launch(b); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, StartupTimeout)
	defer cancel()
	return c.WaitReady(ctx)
}

// Close stops every process and removes the cluster's directory. It is safe to call more than once and from
// several goroutines; every call returns after the cleanup has finished.
func (c *Cluster) Close() error {
	c.closeOnce.Do(func() { c.closeErr = c.close() })
	return c.closeErr
}

func (c *Cluster) close() error {
	var wg sync.WaitGroup
	for _, b := range c.Brokers() {
		if p := b.process(); p != nil {
			wg.Add(1)
			go func(p *process) {
				defer wg.Done()
				// No orderly shutdown: nothing survives the cluster, and a lone survivor of three would
				// otherwise retry controlled shutdown against peers that are already gone.
				p.kill()
			}(p)
		}
	}
	wg.Wait()
	if c.zk != nil {
		c.zk.proc.kill()
	}
	unregister(c)
	if os.Getenv("GREGOR_KEEP_CLUSTER_DIR") != "" {
		return nil
	}
	return os.RemoveAll(c.dir)
}

// freePorts reserves n distinct loopback ports by binding them at once and then releasing them.
func freePorts(n int) ([]int, error) {
	ls := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// newClusterID makes a KRaft cluster id the way Kafka does: 16 random bytes, URL-safe base64 without padding,
// never starting with '-' (the storage tool would read it as a flag).
func newClusterID() string {
	for {
		var b [16]byte
		_, _ = rand.Read(b[:])
		id := base64.RawURLEncoding.EncodeToString(b[:])
		if id[0] != '-' {
			return id
		}
	}
}
