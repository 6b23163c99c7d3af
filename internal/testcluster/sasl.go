package testcluster

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The SASL user every SASL listener knows, for PLAIN and both SCRAM mechanisms. OAUTHBEARER listeners accept any
// unsecured JWT (see UnsecuredJWT).
const (
	SASLUser     = "alice"
	SASLPassword = "alice-secret"
)

// SASL mechanisms the harness can enable.
const (
	MechPlain       = "PLAIN"
	MechScramSHA256 = "SCRAM-SHA-256"
	MechScramSHA512 = "SCRAM-SHA-512"
	MechOAuthBearer = "OAUTHBEARER"
)

// AllSASLMechanisms lists every mechanism the harness configures.
var AllSASLMechanisms = []string{MechPlain, MechScramSHA256, MechScramSHA512, MechOAuthBearer}

// Listener names of SASLListeners.
const (
	ListenerSASL      = "SASL"      // SASL_PLAINTEXT, every mechanism
	ListenerSASLSSL   = "SASLSSL"   // SASL_SSL, every mechanism
	ListenerScramOnly = "SCRAMONLY" // SASL_PLAINTEXT, SCRAM-SHA-512 only
	ListenerReauth    = "REAUTH"    // SASL_PLAINTEXT, every mechanism, sessions of ReauthMs
)

// ReauthMs is the session lifetime (connections.max.reauth.ms) of ListenerReauth: short, so a test sees several
// re-authentications in seconds.
const ReauthMs = 3000

// SASLListener returns a listener of protocol p (SASL_PLAINTEXT or SASL_SSL) enabling mechs, which accepts
// SASLUser for PLAIN and SCRAM and unsecured JWTs for OAUTHBEARER. reauthMs > 0 sets the listener's
// connections.max.reauth.ms.
func SASLListener(name string, p SecurityProtocol, reauthMs int, mechs ...string) Listener {
	props := map[string]string{"sasl.enabled.mechanisms": strings.Join(mechs, ",")}
	for _, m := range mechs {
		prefix := strings.ToLower(m) + "."
		switch m {
		case MechPlain:
			props[prefix+"sasl.jaas.config"] = "org.apache.kafka.common.security.plain.PlainLoginModule required " +
				fmt.Sprintf("username=%q password=%q user_%s=%q;", SASLUser, SASLPassword, SASLUser, SASLPassword)
		case MechScramSHA256, MechScramSHA512:
			props[prefix+"sasl.jaas.config"] = "org.apache.kafka.common.security.scram.ScramLoginModule required;"
		case MechOAuthBearer:
			// With no callback handlers configured the broker validates unsecured (alg "none") JWTs; the login
			// option only feeds the broker's own, unused, client login.
			props[prefix+"sasl.jaas.config"] = "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required " +
				"unsecuredLoginStringClaim_sub=\"broker\";"
		}
		if reauthMs > 0 {
			props[prefix+"connections.max.reauth.ms"] = strconv.Itoa(reauthMs)
		}
	}
	return Listener{Name: name, Protocol: p, Props: props}
}

// SASLListeners returns the listeners of the SASL cluster kinds: ListenerSASL, ListenerSASLSSL,
// ListenerScramOnly and ListenerReauth.
func SASLListeners() []Listener {
	return []Listener{
		SASLListener(ListenerSASL, SASLPlaintext, 0, AllSASLMechanisms...),
		SASLListener(ListenerSASLSSL, SASLSSL, 0, AllSASLMechanisms...),
		SASLListener(ListenerScramOnly, SASLPlaintext, 0, MechScramSHA512),
		SASLListener(ListenerReauth, SASLPlaintext, ReauthMs, AllSASLMechanisms...),
	}
}

// The SASL cluster kinds: one broker with SASLListeners (and the TLS material SASL_SSL needs). Separate kinds,
// so the clusters other tests share stay as they were.
var (
	KRaftSASL     = Config{Mode: KRaft, Brokers: 1, Listeners: SASLListeners()}
	ZooKeeperSASL = Config{Mode: ZooKeeper, Brokers: 1, Listeners: SASLListeners()}
)

func needsSASL(ls []Listener) bool {
	for _, l := range ls {
		if l.Protocol == SASLPlaintext || l.Protocol == SASLSSL {
			return true
		}
	}
	return false
}

// scramCredentials is SASLUser's credential for both SCRAM mechanisms, in the syntax of kafka-storage's
// --add-scram and kafka-configs' --add-config.
func scramCredential(mech string, withName bool) string {
	if withName {
		return fmt.Sprintf("%s=[name=%s,password=%s]", mech, SASLUser, SASLPassword)
	}
	return fmt.Sprintf("%s=[password=%s]", mech, SASLPassword)
}

// scramFormatArgs are the storage-format arguments that create SASLUser's SCRAM credentials (KRaft).
func scramFormatArgs() []string {
	return []string{"--add-scram", scramCredential(MechScramSHA256, true), "--add-scram", scramCredential(MechScramSHA512, true)}
}

// addScramUsersZK writes SASLUser's SCRAM credentials to ZooKeeper before the brokers start (ZooKeeper mode),
// with Kafka's own kafka-configs.
func (c *Cluster) addScramUsersZK(ctx context.Context) error {
	dir := filepath.Join(c.dir, "scram-users")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	p, err := startJVM(jvmSpec{
		name: "kafka-configs (SCRAM users)", classpath: c.classpath, mainClass: "kafka.admin.ConfigCommand",
		args: []string{"--zookeeper", c.zk.Connect(), "--alter", "--entity-type", "users", "--entity-name", SASLUser,
			"--add-config", scramCredential(MechScramSHA256, false) + "," + scramCredential(MechScramSHA512, false)},
		dir: dir, tag: c.cfg.Tag, log4j2: c.rel.log4j2,
	})
	if err != nil {
		return err
	}
	select {
	case <-p.done:
	case <-ctx.Done():
		p.kill()
		return fmt.Errorf("testcluster: creating SCRAM users: %w", ctx.Err())
	}
	if p.exitErr != nil {
		return fmt.Errorf("testcluster: creating SCRAM users: %v%s", p.exitErr, p.diagnostics())
	}
	return nil
}

// UnsecuredJWT mints an unsigned JWT (alg "none") for subject, valid for lifetime, which the harness's
// OAUTHBEARER listeners accept.
func UnsecuredJWT(subject string, lifetime time.Duration) string {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	now := time.Now()
	return enc(map[string]string{"alg": "none"}) + "." +
		enc(map[string]any{"sub": subject, "iat": now.Unix(), "exp": now.Add(lifetime).Unix()}) + "."
}
