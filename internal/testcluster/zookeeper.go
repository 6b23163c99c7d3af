package testcluster

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
)

// ZooKeeperNode is the single ZooKeeper server of a ZooKeeper-mode cluster.
type ZooKeeperNode struct {
	Port int
	proc *process
}

// Connect is the ZooKeeper connect string.
func (z *ZooKeeperNode) Connect() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(z.Port)) }

func startZooKeeper(ctx context.Context, c *Cluster) (*ZooKeeperNode, error) {
	ports, err := freePorts(1)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(c.dir, "zookeeper")
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
		return nil, err
	}
	// A short tick allows session timeouts of 1-10 s, so session-expiry tests run in seconds.
	cfg := fmt.Sprintf("tickTime=500\ndataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\n"+
		"admin.enableServer=false\nforceSync=no\n4lw.commands.whitelist=ruok,srvr,stat,cons\nmaxClientCnxns=0\n",
		filepath.Join(dir, "data"), ports[0])
	conf := filepath.Join(dir, "zoo.cfg")
	if err := os.WriteFile(conf, []byte(cfg), 0o644); err != nil {
		return nil, err
	}
	p, err := startJVM(jvmSpec{
		name: "zookeeper", classpath: c.classpath, mainClass: "org.apache.zookeeper.server.quorum.QuorumPeerMain",
		args: []string{conf}, dir: dir, tag: c.cfg.Tag, log4j2: c.rel.log4j2,
	})
	if err != nil {
		return nil, err
	}
	z := &ZooKeeperNode{Port: ports[0], proc: p}
	if err := p.waitFor(ctx, "serving", func(ctx context.Context) error { return ruok(ctx, z.Connect()) }); err != nil {
		p.kill()
		return nil, err
	}
	return z, nil
}

// ruok asks ZooKeeper the four-letter "ruok"; a serving server answers "imok".
func ruok(ctx context.Context, addr string) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	if _, err := conn.Write([]byte("ruok")); err != nil {
		return err
	}
	b, err := io.ReadAll(conn)
	if err != nil {
		return err
	}
	if string(b) != "imok" {
		return fmt.Errorf("zookeeper answered %q", b)
	}
	return nil
}
