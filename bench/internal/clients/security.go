package clients

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"

	"github.com/gregorkafka/gregor/bench/internal/workload"
)

// tlsConfig is the TLS configuration of a spec's listener: nil for plaintext, else trusting only the CA in
// Spec.TLSCAFile. Every client gets the same one.
func tlsConfig(s *workload.Spec) (*tls.Config, error) {
	if s.TLSCAFile == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(s.TLSCAFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("no certificate in %s", s.TLSCAFile)
	}
	return &tls.Config{RootCAs: pool}, nil
}

// mustTLS is tlsConfig for adapters whose constructors cannot return an error; benchclient checks the file
// before any adapter runs (CheckSecurity).
func mustTLS(s *workload.Spec) *tls.Config {
	cfg, err := tlsConfig(s)
	if err != nil {
		panic(err)
	}
	return cfg
}

// CheckSecurity reports a spec's TLS file that cannot be used, before a run starts.
func CheckSecurity(s *workload.Spec) error {
	_, err := tlsConfig(s)
	return err
}
