package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/gregorkafka/gregor/sasl"
)

// Environment variables of the SASL settings. The secret comes only from
// the environment or a file: a flag value would show in ps.
const (
	envSASLMechanism = "KAFKA_SASL_MECHANISM"
	envSASLUser      = "KAFKA_SASL_USER"
	envSASLPassword  = "KAFKA_SASL_PASSWORD"
)

// saslFlags are the global SASL settings.
type saslFlags struct {
	mechanism    string
	user         string
	password     string // from the environment
	passwordFile string
}

func (f *saslFlags) fromEnv(getenv func(string) string) {
	f.mechanism = strings.TrimSpace(getenv(envSASLMechanism))
	f.user = strings.TrimSpace(getenv(envSASLUser))
	f.password = getenv(envSASLPassword)
}

func (f *saslFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.mechanism, "sasl-mechanism", f.mechanism,
		"authenticate with SASL `mechanism` PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER (or $"+envSASLMechanism+")")
	fs.StringVar(&f.user, "sasl-user", f.user, "SASL user `name` for PLAIN and SCRAM (or $"+envSASLUser+")")
	fs.StringVar(&f.passwordFile, "sasl-password-file", f.passwordFile,
		"`file` holding the SASL password (PLAIN, SCRAM) or bearer token (OAUTHBEARER, read at every\nauthentication); default $"+envSASLPassword)
}

// mechanismValue returns the sasl.Mechanism the flags describe, nil for none.
// Bad settings are usage errors: nothing was sent.
func (f *saslFlags) mechanismValue() (sasl.Mechanism, error) {
	if f.mechanism == "" {
		if f.user != "" || f.passwordFile != "" {
			return nil, usagef("--sasl-user and --sasl-password-file need --sasl-mechanism")
		}
		return nil, nil
	}
	mech := strings.ToUpper(f.mechanism)
	if mech == "OAUTHBEARER" {
		if f.passwordFile == "" && f.password == "" {
			return nil, usagef("--sasl-mechanism OAUTHBEARER needs a token: --sasl-password-file FILE or $%s", envSASLPassword)
		}
		return &sasl.OAuthBearer{Token: f.token}, nil
	}
	if f.user == "" {
		return nil, usagef("--sasl-mechanism %s needs --sasl-user", mech)
	}
	password, err := f.secret()
	if err != nil {
		return nil, err
	}
	switch mech {
	case "PLAIN":
		return &sasl.Plain{Username: f.user, Password: password}, nil
	case "SCRAM-SHA-256":
		return &sasl.SCRAM{Hash: sasl.SHA256, Username: f.user, Password: password}, nil
	case "SCRAM-SHA-512":
		return &sasl.SCRAM{Hash: sasl.SHA512, Username: f.user, Password: password}, nil
	}
	return nil, usagef("bad --sasl-mechanism %q: want PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER", f.mechanism)
}

// secret reads the password file, else takes $KAFKA_SASL_PASSWORD. One
// trailing line break is dropped: editors add it.
func (f *saslFlags) secret() (string, error) {
	if f.passwordFile == "" {
		if f.password == "" {
			return "", usagef("no SASL password: set $%s or --sasl-password-file", envSASLPassword)
		}
		return f.password, nil
	}
	b, err := os.ReadFile(f.passwordFile)
	if err != nil {
		return "", usagef("bad --sasl-password-file: %v", err)
	}
	return strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r"), nil
}

// token is the OAUTHBEARER provider: the file is read again at every
// authentication, so a token refreshed there is picked up.
func (f *saslFlags) token(context.Context) (sasl.Token, error) {
	if f.passwordFile == "" {
		return sasl.Token{Value: strings.TrimSpace(f.password)}, nil
	}
	b, err := os.ReadFile(f.passwordFile)
	if err != nil {
		return sasl.Token{}, fmt.Errorf("reading the token: %w", err)
	}
	return sasl.Token{Value: strings.TrimSpace(string(b))}, nil
}
