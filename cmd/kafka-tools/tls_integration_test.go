package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/gregorkafka/gregor/internal/testcluster"
)

// TestKafkaToolsTLS runs commands against the SSL and mutual-TLS listeners
// of a real broker, with the TLS settings as flags and from the environment.
func TestKafkaToolsTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("needs a real Kafka cluster")
	}
	bin := buildTool(t, t.TempDir())
	c := testcluster.Shared(t, testcluster.KRaftSecured)
	m := c.TLS()
	ssl := tool{bin: bin, brokers: strings.Join(c.BootstrapFor(testcluster.ListenerSSL), ",")}
	mtls := tool{bin: bin, brokers: strings.Join(c.BootstrapFor(testcluster.ListenerMTLS), ",")}

	t.Run("SSL", func(t *testing.T) {
		ssl.ok(t, "create_topic", "tls-tools", "-p", "2", "--tls-ca", m.CAFile)
		out := ssl.runInput(t, "a\nb\nc\n", "produce", "tls-tools", "--tls-ca", m.CAFile)
		assert.Equal(t, exitOK, out.code, out.stderr)
		got := ssl.ok(t, "consume_topic", "tls-tools", "--from", "earliest", "--limit", "3", "--tls-ca", m.CAFile)
		assert.ElementsMatch(t, []string{"a", "b", "c"}, strings.Fields(got))
		assert.Contains(t, ssl.ok(t, "print_topics", "--tls-insecure"), "tls-tools")
		// Verification is on by default: the system's CAs do not know the test CA.
		ssl.fails(t, exitError, "certificate", "print_topics", "--tls")
	})

	t.Run("MutualTLS", func(t *testing.T) {
		ssl.ok(t, "create_topic", "tls-tools-m", "--tls-ca", m.CAFile)
		withEnv := mtls
		withEnv.env = []string{envTLSCA + "=" + m.CAFile, envTLSCert + "=" + m.ClientCertFile, envTLSKey + "=" + m.ClientKeyFile}
		assert.Contains(t, withEnv.ok(t, "desc_topic", "tls-tools-m"), "tls-tools-m")
		assert.Contains(t, mtls.ok(t, "print_offsets", "tls-tools-m", "latest",
			"--tls-ca", m.CAFile, "--tls-cert", m.ClientCertFile, "--tls-key", m.ClientKeyFile), "0")
		mtls.fails(t, exitError, "bad certificate", "print_topics", "--tls-ca", m.CAFile)
		mtls.fails(t, exitUsage, "--tls-cert and --tls-key", "print_topics", "--tls-ca", m.CAFile, "--tls-cert", m.ClientCertFile)
	})
}
