package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/gregorkafka/gregor/internal/testcluster"
)

// printSASL prints how a client reaches the SASL listeners, copying the CA of the SASL_SSL listener to dir
// (when given).
func printSASL(c *testcluster.Cluster, dir string) error {
	ca := c.TLS().CAFile
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		var err error
		if ca, err = copyInto(dir, ca); err != nil {
			return err
		}
	}
	plain := strings.Join(c.BootstrapFor(testcluster.ListenerSASL), ",")
	secure := strings.Join(c.BootstrapFor(testcluster.ListenerSASLSSL), ",")
	fmt.Printf("sasl_plaintext: %s\n", plain)
	fmt.Printf("sasl_ssl:       %s\n", secure)
	fmt.Printf("ca:             %s\n", ca)
	fmt.Printf("mechanisms:     %s\n", strings.Join(testcluster.AllSASLMechanisms, ", "))
	fmt.Printf("user:           %s  password %s  (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)\n", testcluster.SASLUser, testcluster.SASLPassword)
	fmt.Printf("oauthbearer:    any unsecured JWT (alg none) with a sub and an exp claim\n\n")
	fmt.Printf("kafka-tools over SASL_SSL with SCRAM:\n  KAFKA_SASL_PASSWORD=%s kafka-tools --brokers %s --tls-ca %s --sasl-mechanism SCRAM-SHA-512 --sasl-user %s print_topics\n\n",
		testcluster.SASLPassword, secure, ca, testcluster.SASLUser)
	fmt.Printf(`Go (SASL_SSL with SCRAM-SHA-512):
  caPEM, _ := os.ReadFile(%q)
  pool := x509.NewCertPool()
  pool.AppendCertsFromPEM(caPEM)
  client, err := kafka.NewClient(ctx, kafka.Config{
      Hosts: []string{%q},
      TLS:   &tls.Config{RootCAs: pool},
      SASL:  &sasl.SCRAM{Hash: sasl.SHA512, Username: %q, Password: %q},
  })

`, ca, secure, testcluster.SASLUser, testcluster.SASLPassword)
	return nil
}
