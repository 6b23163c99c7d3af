package main

import (
	"crypto/tls"
	"crypto/x509"
	"flag"
	"os"
	"strconv"
	"strings"
)

// Environment variables standing in for the TLS flags, as $KAFKA_BROKERS
// does for --brokers.
const (
	envTLS         = "KAFKA_TLS"
	envTLSCA       = "KAFKA_TLS_CA"
	envTLSCert     = "KAFKA_TLS_CERT"
	envTLSKey      = "KAFKA_TLS_KEY"
	envTLSInsecure = "KAFKA_TLS_INSECURE"
)

// tlsFlags are the global TLS settings. Any of the file flags or
// --tls-insecure turns TLS on.
type tlsFlags struct {
	enabled  bool
	ca       string
	cert     string
	key      string
	insecure bool
}

func (f *tlsFlags) fromEnv(getenv func(string) string) {
	f.enabled = envBool(getenv(envTLS))
	f.ca = strings.TrimSpace(getenv(envTLSCA))
	f.cert = strings.TrimSpace(getenv(envTLSCert))
	f.key = strings.TrimSpace(getenv(envTLSKey))
	f.insecure = envBool(getenv(envTLSInsecure))
}

func envBool(s string) bool {
	b, err := strconv.ParseBool(strings.TrimSpace(s))
	return err == nil && b
}

func (f *tlsFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&f.enabled, "tls", f.enabled, "connect over TLS, verifying brokers against the system's CAs (or $"+envTLS+")")
	fs.StringVar(&f.ca, "tls-ca", f.ca, "PEM `file` of the CA certificates to trust instead of the system's; implies --tls (or $"+envTLSCA+")")
	fs.StringVar(&f.cert, "tls-cert", f.cert, "PEM `file` of the client certificate for mutual TLS, with --tls-key (or $"+envTLSCert+")")
	fs.StringVar(&f.key, "tls-key", f.key, "PEM `file` of the client certificate's private key (or $"+envTLSKey+")")
	fs.BoolVar(&f.insecure, "tls-insecure", f.insecure, "TLS without verifying the brokers' certificates (testing only; or $"+envTLSInsecure+")")
}

// config returns the tls.Config the flags describe, nil for plaintext. A
// file that cannot be read or parsed is a usage error: nothing was sent.
func (f *tlsFlags) config() (*tls.Config, error) {
	if !f.enabled && f.ca == "" && f.cert == "" && f.key == "" && !f.insecure {
		return nil, nil
	}
	cfg := &tls.Config{InsecureSkipVerify: f.insecure}
	if f.ca != "" {
		pem, err := os.ReadFile(f.ca)
		if err != nil {
			return nil, usagef("bad --tls-ca: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, usagef("bad --tls-ca %q: no PEM certificate in it", f.ca)
		}
		cfg.RootCAs = pool
	}
	if (f.cert == "") != (f.key == "") {
		return nil, usagef("--tls-cert and --tls-key go together")
	}
	if f.cert != "" {
		cert, err := tls.LoadX509KeyPair(f.cert, f.key)
		if err != nil {
			return nil, usagef("bad --tls-cert/--tls-key: %v", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}
