package zookeeper

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

// Connect is a parsed ZooKeeper connect string.
type Connect struct {
	Servers []string // host:port
	Chroot  string   // "" or "/path", no trailing slash
}

const defaultPort = "2181"

// ParseConnect parses "h1:2181,h2:2181/chroot". A server without a
// port gets 2181; IPv6 hosts need brackets ("[::1]:2181").
func ParseConnect(s string) (Connect, error) {
	var zc Connect
	hosts := s
	if i := strings.IndexByte(s, '/'); i >= 0 {
		hosts, zc.Chroot = s[:i], s[i:]
		if zc.Chroot == "/" {
			zc.Chroot = ""
		}
		if zc.Chroot != "" {
			if strings.HasSuffix(zc.Chroot, "/") {
				return zc, fmt.Errorf("chroot %q ends with /", zc.Chroot)
			}
			for _, part := range strings.Split(zc.Chroot[1:], "/") {
				if part == "" || part == "." || part == ".." {
					return zc, fmt.Errorf("bad chroot %q", zc.Chroot)
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
			h = net.JoinHostPort(host, defaultPort)
		}
		if err := checkHostPort(h); err != nil {
			return zc, fmt.Errorf("bad server %q: %v", h, err)
		}
		zc.Servers = append(zc.Servers, h)
	}
	return zc, nil
}

// checkHostPort accepts "host:port" with a non-empty host and a port in
// 1..65535, as kafka's Config does for Hosts.
func checkHostPort(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return err
	}
	if host == "" {
		return errors.New("empty host")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || strings.TrimSpace(port) != port {
		return fmt.Errorf("bad port %q", port)
	}
	return nil
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

// Logger routes the ZooKeeper library's log lines to slog at debug level.
type Logger struct{ L *slog.Logger }

func (z Logger) Printf(format string, args ...any) {
	z.L.Debug("kafka: zookeeper: " + fmt.Sprintf(format, args...))
}

// Brokers opens a ZooKeeper session, reads the PLAINTEXT endpoints of the
// registered brokers (by id) and closes the session: the bootstrap read of
// a client given Config.ZooKeeperHosts.
//
// The ZooKeeper library dials through the handler (Dialer) but runs
// goroutines of its own for the session, outside the handler (DESIGN.md,
// "ZooKeeper"). Its calls take no context, so they run as a task that the
// caller stops waiting for when ctx or timeout ends; closing the session
// then fails them.
func Brokers(ctx context.Context, h handler.Handler, connect string, timeout time.Duration, log *slog.Logger) ([]string, error) {
	zc, err := ParseConnect(connect)
	if err != nil {
		return nil, err
	}
	zconn, _, err := zk.Connect(zc.Servers, max(timeout, 4*time.Second),
		zk.WithLogger(Logger{log}), zk.WithLogInfo(false), zk.WithEventCallback(func(zk.Event) {}),
		zk.WithDialer(Dialer(h)))
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
		addrs, err := readBrokers(zconn, zc.Chroot, log)
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
