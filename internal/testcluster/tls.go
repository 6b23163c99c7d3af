package testcluster

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"

	"github.com/gregorkafka/gregor/internal/testcerts"
)

// TLSMaterial is what a client needs to reach a cluster's TLS listeners: the CA that signed the brokers'
// certificates and a client certificate the brokers trust (for listeners with ClientAuth). The brokers'
// certificates name 127.0.0.1 and localhost. Everything is generated when the cluster starts and also written
// as PEM files under the cluster's directory.
type TLSMaterial struct {
	CA *testcerts.CA
	// CAPool trusts the cluster's CA only.
	CAPool *x509.CertPool
	// ClientCert is signed by the cluster's CA (common name "gregor-client").
	ClientCert tls.Certificate

	// PEM files: the CA certificate, the client's certificate chain and its unencrypted PKCS#8 key.
	CAFile, ClientCertFile, ClientKeyFile string

	brokerKeystore string // the brokers' key and chain, Kafka's ssl.keystore.type=PEM
}

// ClientConfig returns a tls.Config trusting the cluster's CA, carrying the client certificate when withCert is
// set (for a listener with ClientAuth).
func (m *TLSMaterial) ClientConfig(withCert bool) *tls.Config {
	cfg := &tls.Config{RootCAs: m.CAPool}
	if withCert {
		cfg.Certificates = []tls.Certificate{m.ClientCert}
	}
	return cfg
}

// newTLSMaterial generates a CA, a broker certificate for the loopback host and a client certificate, and
// writes them to dir.
func newTLSMaterial(dir string) (*TLSMaterial, error) {
	ca, err := testcerts.NewCA("gregor test CA")
	if err != nil {
		return nil, err
	}
	broker, err := ca.Issue(testcerts.Leaf{CommonName: "broker", Hosts: []string{"127.0.0.1", "localhost"}})
	if err != nil {
		return nil, err
	}
	client, err := ca.Issue(testcerts.Leaf{CommonName: "gregor-client", Client: true})
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	m := &TLSMaterial{
		CA:             ca,
		CAPool:         ca.Pool(),
		ClientCert:     client.TLS,
		CAFile:         filepath.Join(dir, "ca.pem"),
		ClientCertFile: filepath.Join(dir, "client.pem"),
		ClientKeyFile:  filepath.Join(dir, "client-key.pem"),
		brokerKeystore: filepath.Join(dir, "broker-keystore.pem"),
	}
	files := map[string][]byte{
		m.CAFile:         ca.PEM(),
		m.ClientCertFile: client.CertPEM,
		m.ClientKeyFile:  client.KeyPEM,
		// Kafka's PEM key store: the private key, then the certificate chain.
		m.brokerKeystore: append(append([]byte(nil), broker.KeyPEM...), broker.CertPEM...),
	}
	for path, data := range files {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return nil, err
		}
	}
	return m, nil
}
