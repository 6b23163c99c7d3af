package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/gregorkafka/gregor/internal/testcluster"
)

// printTLS copies the cluster's CA and client certificate to dir (when given) and prints how a client reaches
// the SSL and mutual-TLS listeners.
func printTLS(c *testcluster.Cluster, m *testcluster.TLSMaterial, dir string) error {
	ca, cert, key := m.CAFile, m.ClientCertFile, m.ClientKeyFile
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		var err error
		for _, f := range []*string{&ca, &cert, &key} {
			if *f, err = copyInto(dir, *f); err != nil {
				return err
			}
		}
	}
	ssl := strings.Join(c.BootstrapFor(testcluster.ListenerSSL), ",")
	mtls := strings.Join(c.BootstrapFor(testcluster.ListenerMTLS), ",")
	fmt.Printf("ssl:       %s\n", ssl)
	fmt.Printf("mtls:      %s  (client certificate required)\n", mtls)
	fmt.Printf("ca:        %s\nclient:    %s\nclient key: %s\n\n", ca, cert, key)
	fmt.Printf("kafka-tools over SSL:\n  kafka-tools --brokers %s --tls-ca %s print_topics\n", ssl, ca)
	fmt.Printf("kafka-tools over mutual TLS:\n  kafka-tools --brokers %s --tls-ca %s --tls-cert %s --tls-key %s print_topics\n\n", mtls, ca, cert, key)
	fmt.Printf(`Go (mutual TLS; drop Certificates for the SSL listener):
  caPEM, _ := os.ReadFile(%q)
  pool := x509.NewCertPool()
  pool.AppendCertsFromPEM(caPEM)
  cert, _ := tls.LoadX509KeyPair(%q, %q)
  client, err := kafka.NewClient(ctx, kafka.Config{
      Hosts: []string{%q},
      TLS:   &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}},
  })

`, ca, cert, key, mtls)
	return nil
}

func copyInto(dir, path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	dst, err := filepath.Abs(filepath.Join(dir, filepath.Base(path)))
	if err != nil {
		return "", err
	}
	return dst, os.WriteFile(dst, b, 0o600)
}
