package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/gregorkafka/gregor/internal/testcluster"
)

// TestKafkaToolsSASL runs commands against the SASL listeners of a real
// broker: SCRAM over SASL_SSL with the password from the environment,
// PLAIN with a password file, OAUTHBEARER with a token file, and the
// errors of wrong or missing credentials.
func TestKafkaToolsSASL(t *testing.T) {
	if testing.Short() {
		t.Skip("needs a real Kafka cluster")
	}
	dir := t.TempDir()
	bin := buildTool(t, dir)
	c := testcluster.Shared(t, testcluster.KRaftSASL)
	user := testcluster.SASLUser
	saslSSL := tool{bin: bin, brokers: strings.Join(c.BootstrapFor(testcluster.ListenerSASLSSL), ","),
		env: []string{envTLSCA + "=" + c.TLS().CAFile, envSASLPassword + "=" + testcluster.SASLPassword}}
	saslPlain := tool{bin: bin, brokers: strings.Join(c.BootstrapFor(testcluster.ListenerSASL), ",")}
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}

	t.Run("SCRAM over SASL_SSL", func(t *testing.T) {
		scram := []string{"--sasl-mechanism", "SCRAM-SHA-512", "--sasl-user", user}
		saslSSL.ok(t, append([]string{"create_topic", "sasl-tools", "-p", "2"}, scram...)...)
		out := saslSSL.runInput(t, "a\nb\nc\n", append([]string{"produce", "sasl-tools"}, scram...)...)
		assert.Equal(t, exitOK, out.code, out.stderr)
		got := saslSSL.ok(t, append([]string{"consume_topic", "sasl-tools", "--from", "earliest", "--limit", "3"}, scram...)...)
		assert.ElementsMatch(t, []string{"a", "b", "c"}, strings.Fields(got))
	})
	t.Run("PLAIN with a password file", func(t *testing.T) {
		pw := write("password", testcluster.SASLPassword+"\n")
		assert.Contains(t, saslPlain.ok(t, "print_topics", "--sasl-mechanism", "PLAIN", "--sasl-user", user, "--sasl-password-file", pw), "sasl-tools")
	})
	t.Run("OAUTHBEARER with a token file", func(t *testing.T) {
		tok := write("token", testcluster.UnsecuredJWT(user, time.Hour))
		env := saslPlain
		env.env = []string{envSASLMechanism + "=OAUTHBEARER"}
		assert.Contains(t, env.ok(t, "desc_topic", "sasl-tools", "--sasl-password-file", tok), "sasl-tools")
	})
	t.Run("errors", func(t *testing.T) {
		wrong := saslPlain
		wrong.env = []string{envSASLPassword + "=nope"}
		r := wrong.fails(t, exitError, "SASL_AUTHENTICATION_FAILED", "print_topics", "--sasl-mechanism", "SCRAM-SHA-256", "--sasl-user", user)
		assert.True(t, strings.HasPrefix(r.stderr, progName+": sasl: SCRAM-SHA-256 authentication failed"), r.stderr)
		onlyScram := tool{bin: bin, brokers: strings.Join(c.BootstrapFor(testcluster.ListenerScramOnly), ","), env: []string{envSASLPassword + "=x"}}
		onlyScram.fails(t, exitError, "SCRAM-SHA-512", "print_topics", "--sasl-mechanism", "PLAIN", "--sasl-user", user)
		saslPlain.fails(t, exitUsage, "--sasl-user", "print_topics", "--sasl-mechanism", "PLAIN")
		saslPlain.fails(t, exitUsage, "KAFKA_SASL_PASSWORD", "print_topics", "--sasl-mechanism", "PLAIN", "--sasl-user", user)
		saslPlain.fails(t, exitUsage, "sasl-password", "print_topics", "--sasl-mechanism", "PLAIN", "--sasl-user", user, "--sasl-password", "secret")
		saslPlain.fails(t, exitUsage, "GSSAPI", "print_topics", "--sasl-mechanism", "GSSAPI", "--sasl-user", user, "--sasl-password-file", write("p2", "x"))
	})
}
