package kafka

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/gregorkafka/gregor/handler"
)

// zkConnect is a parsed ZooKeeper connect string.
type zkConnect struct {
	servers []string // host:port
	chroot  string   // "" or "/path", no trailing slash
}

const defaultZooKeeperPort = "2181"

// parseZooKeeperConnect parses "h1:2181,h2:2181/chroot". A server without a
// port gets 2181; IPv6 hosts need brackets ("[::1]:2181").
func parseZooKeeperConnect(s string) (zkConnect, error) {
	var zc zkConnect
	hosts := s
	if i := strings.IndexByte(s, '/'); i >= 0 {
		hosts, zc.chroot = s[:i], s[i:]
		if zc.chroot == "/" {
			zc.chroot = ""
		}
		if zc.chroot != "" {
			if strings.HasSuffix(zc.chroot, "/") {
				return zc, fmt.Errorf("chroot %q ends with /", zc.chroot)
			}
			for _, part := range strings.Split(zc.chroot[1:], "/") {
				if part == "" || part == "." || part == ".." {
					return zc, fmt.Errorf("bad chroot %q", zc.chroot)
				}
			}
		}
	}
	if strings.TrimSpace(hosts) == "" {
		return zc, errors.New("no servers")
	}
	for _, h := range strings.Split(hosts, ",") {
		h = strings.TrimSpace(h)
		if h == "" {
			return zc, fmt.Errorf("empty server in %q", s)
		}
		if _, _, err := net.SplitHostPort(h); err != nil {
			// No port: either a bare host or a bracketed IPv6 address.
			host := strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
			if strings.ContainsAny(host, "[]") || (strings.Contains(host, ":") && !strings.HasPrefix(h, "[")) {
				return zc, fmt.Errorf("bad server %q", h)
			}
			h = net.JoinHostPort(host, defaultZooKeeperPort)
		}
		if err := checkHostPort(h); err != nil {
			return zc, fmt.Errorf("bad server %q: %v", h, err)
		}
		zc.servers = append(zc.servers, h)
	}
	return zc, nil
}

// ParseZooKeeperConnect splits a ZooKeeper connect string as Config.ZooKeeperHosts takes it,
// "h1:2181,h2:2181/chroot", into servers (host:port, port 2181 by default) and a chroot ("" or "/path").
func ParseZooKeeperConnect(s string) (servers []string, chroot string, err error) {
	zc, err := parseZooKeeperConnect(s)
	return zc.servers, zc.chroot, err
}

// zkBrokerRegistration is the JSON a broker writes to /brokers/ids/<id>.
type zkBrokerRegistration struct {
	Host      string            `json:"host"`
	Port      int               `json:"port"`
	Endpoints []string          `json:"endpoints"`
	Protocols map[string]string `json:"listener_security_protocol_map"`
}

// parseBrokerRegistration returns the broker's PLAINTEXT endpoint,
// "host:port". Registrations list endpoints as "LISTENER://host:port" and
// map listener names to security protocols; older ones name the protocol
// directly and carry the PLAINTEXT endpoint in host and port as well.
func parseBrokerRegistration(data []byte) (string, error) {
	var reg zkBrokerRegistration
	if err := json.Unmarshal(data, &reg); err != nil {
		return "", fmt.Errorf("broker registration: %w", err)
	}
	for _, ep := range reg.Endpoints {
		listener, hostPort, ok := strings.Cut(ep, "://")
		if !ok {
			continue
		}
		proto := listener
		if p, ok := reg.Protocols[listener]; ok {
			proto = p
		}
		if !strings.EqualFold(proto, "PLAINTEXT") {
			continue
		}
		if err := checkHostPort(hostPort); err == nil {
			return hostPort, nil
		}
	}
	if reg.Host != "" && reg.Port > 0 && reg.Port <= 65535 {
		return net.JoinHostPort(reg.Host, strconv.Itoa(reg.Port)), nil
	}
	return "", errors.New("broker registration has no PLAINTEXT endpoint")
}

// zkLogger routes the ZooKeeper library's log lines to slog at debug level.
type zkLogger struct{ l *slog.Logger }

func (z zkLogger) Printf(format string, args ...any) {
	z.l.Debug("kafka: zookeeper: " + fmt.Sprintf(format, args...))
}

// brokersFromZooKeeper opens a ZooKeeper session, reads the PLAINTEXT
// endpoints of the registered brokers (by id) and closes the session.
//
// The ZooKeeper library dials through the handler (zkDialer) but runs
// goroutines of its own for the session, outside the handler (DESIGN.md,
// "ZooKeeper"). Its calls take no context, so they run as a task that the
// caller stops waiting for when ctx or timeout ends; closing the session
// then fails them.
func brokersFromZooKeeper(ctx context.Context, h handler.Handler, connect string, timeout time.Duration, log *slog.Logger) ([]string, error) {
	zc, err := parseZooKeeperConnect(connect)
	if err != nil {
		return nil, err
	}
	zconn, _, err := zk.Connect(zc.servers, max(timeout, 4*time.Second),
		zk.WithLogger(zkLogger{log}), zk.WithLogInfo(false), zk.WithEventCallback(func(zk.Event) {}),
		zk.WithDialer(zkDialer(h)))
	if err != nil {
		return nil, fmt.Errorf("kafka: zookeeper %s: %w", connect, err)
	}
	defer zconn.Close()

	type result struct {
		addrs []string
		err   error
	}
	q := handler.NewQueue[*result](h, 1)
	h.Go("kafka-zookeeper-brokers", func() {
		addrs, err := readBrokers(zconn, zc.chroot, log)
		_ = q.TryPut(&result{addrs: addrs, err: err})
	})
	wctx, cancel := handler.WithTimeout(ctx, h, timeout)
	defer cancel()
	r, err := q.Get(wctx)
	if err == nil {
		err = r.err
	}
	if err != nil {
		return nil, fmt.Errorf("kafka: reading brokers from zookeeper %s: %w", connect, err)
	}
	return r.addrs, nil
}

func readBrokers(zconn *zk.Conn, chroot string, log *slog.Logger) ([]string, error) {
	path := chroot + "/brokers/ids"
	ids, _, err := zconn.Children(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	sort.Slice(ids, func(i, j int) bool {
		a, errA := strconv.Atoi(ids[i])
		b, errB := strconv.Atoi(ids[j])
		if errA != nil || errB != nil {
			return ids[i] < ids[j]
		}
		return a < b
	})
	var addrs []string
	for _, id := range ids {
		data, _, err := zconn.Get(path + "/" + id)
		if errors.Is(err, zk.ErrNoNode) {
			continue // the broker went away since the listing
		}
		if err != nil {
			return nil, fmt.Errorf("%s/%s: %w", path, id, err)
		}
		addr, err := parseBrokerRegistration(data)
		if err != nil {
			log.Warn("kafka: skipping broker registered in zookeeper", "id", id, "error", err)
			continue
		}
		addrs = append(addrs, addr)
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("%s: no brokers with a PLAINTEXT endpoint registered", path)
	}
	return addrs, nil
}
