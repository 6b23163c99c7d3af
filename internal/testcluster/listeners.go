package testcluster

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
)

// SecurityProtocol is a Kafka listener security protocol.
type SecurityProtocol string

const (
	Plaintext     SecurityProtocol = "PLAINTEXT"
	SSL           SecurityProtocol = "SSL"
	SASLPlaintext SecurityProtocol = "SASL_PLAINTEXT"
	SASLSSL       SecurityProtocol = "SASL_SSL"
)

// TLS reports whether the protocol runs over TLS.
func (p SecurityProtocol) TLS() bool { return p == SSL || p == SASLSSL }

// Listener is a client listener a broker opens besides its PLAINTEXT one, which stays the inter-broker listener
// and the one Addr, Bootstrap and the harness itself use.
type Listener struct {
	// Name is the listener name ("SSL", "MTLS"); unique per cluster, not PLAINTEXT or CONTROLLER.
	Name     string
	Protocol SecurityProtocol
	// ClientAuth requires a client certificate signed by the cluster's CA (ssl.client.auth=required).
	ClientAuth bool
	// Props are server properties scoped to this listener, written as listener.name.<name>.<key>=<value>
	// (e.g. "sasl.enabled.mechanisms" or "plain.sasl.jaas.config").
	Props map[string]string
}

// Listener names of SecuredListeners.
const (
	ListenerSSL  = "SSL"
	ListenerMTLS = "MTLS"
)

// SecuredListeners returns the listeners of the secured cluster kinds: SSL with server authentication only, and
// MTLS requiring a client certificate.
func SecuredListeners() []Listener {
	return []Listener{
		{Name: ListenerSSL, Protocol: SSL},
		{Name: ListenerMTLS, Protocol: SSL, ClientAuth: true},
	}
}

func checkListeners(ls []Listener) error {
	seen := map[string]bool{"PLAINTEXT": true, "CONTROLLER": true}
	for _, l := range ls {
		name := strings.ToUpper(l.Name)
		if name == "" || strings.ContainsAny(name, ":,= ") {
			return fmt.Errorf("testcluster: bad listener name %q", l.Name)
		}
		if seen[name] {
			return fmt.Errorf("testcluster: listener name %q used twice or reserved", l.Name)
		}
		seen[name] = true
		switch l.Protocol {
		case Plaintext, SSL, SASLPlaintext, SASLSSL:
		default:
			return fmt.Errorf("testcluster: listener %s: unknown security protocol %q", l.Name, l.Protocol)
		}
		if l.ClientAuth && !l.Protocol.TLS() {
			return fmt.Errorf("testcluster: listener %s: ClientAuth needs a TLS protocol", l.Name)
		}
	}
	return nil
}

func needsTLS(ls []Listener) bool {
	for _, l := range ls {
		if l.Protocol.TLS() {
			return true
		}
	}
	return false
}

// listenerProps adds the extra listeners to a broker's properties: listeners, advertised.listeners, the
// protocol map, and per-listener settings.
func (c *Cluster) listenerProps(b *Broker, props map[string]string) {
	protoMap := []string{"PLAINTEXT:PLAINTEXT"}
	if c.cfg.Mode == KRaft {
		protoMap = append(protoMap, "CONTROLLER:PLAINTEXT")
	}
	listeners := []string{props["listeners"]}
	advertised := []string{props["advertised.listeners"]}
	for _, l := range c.cfg.Listeners {
		name := strings.ToUpper(l.Name)
		ep := name + "://" + b.ListenerAddr(l.Name)
		listeners = append(listeners, ep)
		advertised = append(advertised, ep)
		protoMap = append(protoMap, name+":"+string(l.Protocol))
		prefix := "listener.name." + strings.ToLower(l.Name) + "."
		if l.Protocol.TLS() {
			auth := "none"
			if l.ClientAuth {
				auth = "required"
			}
			props[prefix+"ssl.client.auth"] = auth
		}
		for k, v := range l.Props {
			props[prefix+k] = v
		}
	}
	props["listeners"] = strings.Join(listeners, ",")
	props["advertised.listeners"] = strings.Join(advertised, ",")
	props["listener.security.protocol.map"] = strings.Join(protoMap, ",")
	props["inter.broker.listener.name"] = "PLAINTEXT"
	if needsTLS(c.cfg.Listeners) {
		props["ssl.keystore.type"] = "PEM"
		props["ssl.keystore.location"] = c.tls.brokerKeystore
		props["ssl.truststore.type"] = "PEM"
		props["ssl.truststore.location"] = c.tls.CAFile
	}
}

// ListenerAddr is the host:port of the broker's listener named name ("PLAINTEXT" included), or "" if it has none.
func (b *Broker) ListenerAddr(name string) string {
	if strings.EqualFold(name, "PLAINTEXT") {
		return b.Addr()
	}
	port, ok := b.listenerPorts[strings.ToUpper(name)]
	if !ok {
		return ""
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}

// ListenerNames lists the broker's extra listeners, sorted.
func (b *Broker) ListenerNames() []string {
	names := make([]string, 0, len(b.listenerPorts))
	for n := range b.listenerPorts {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// BootstrapFor lists the running brokers' addresses on the listener named name.
func (c *Cluster) BootstrapFor(name string) []string {
	var out []string
	for _, b := range c.runningBrokers() {
		if a := b.ListenerAddr(name); a != "" {
			out = append(out, a)
		}
	}
	return out
}
