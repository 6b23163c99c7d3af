package sasl

import (
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
)

// ScramHash picks the hash of a SCRAM mechanism.
type ScramHash int

const (
	// SHA256 is SCRAM-SHA-256 (RFC 7677).
	SHA256 ScramHash = iota
	// SHA512 is SCRAM-SHA-512.
	SHA512
)

// Iteration bounds for a server's salted password. Kafka stores credentials
// with 4096 to 16384 iterations; fewer would make a stolen exchange cheap to
// brute-force, and more would let a hostile server burn the client's CPU.
const (
	MinScramIterations = 4096
	MaxScramIterations = 16384
)

// SCRAM is the SCRAM-SHA-256 or SCRAM-SHA-512 mechanism (RFC 5802): the
// password never crosses the wire, and the broker proves it knows the
// credential too. The password is used as its UTF-8 bytes, as Kafka's own
// clients and its credential tools do (no SASLprep).
type SCRAM struct {
	Hash     ScramHash
	Username string
	Password string
	// TokenAuth authenticates with a delegation token: Username is the
	// token id and Password its HMAC (KIP-48).
	TokenAuth bool

	// nonce, when set, replaces the random client nonce (tests).
	nonce func() string
}

// Name returns "SCRAM-SHA-256" or "SCRAM-SHA-512".
func (s *SCRAM) Name() string {
	if s.Hash == SHA512 {
		return "SCRAM-SHA-512"
	}
	return "SCRAM-SHA-256"
}

func (s *SCRAM) hash() (func() hash.Hash, error) {
	switch s.Hash {
	case SHA256:
		return sha256.New, nil
	case SHA512:
		return sha512.New, nil
	}
	return nil, fmt.Errorf("sasl: unknown SCRAM hash %d", s.Hash)
}

// Start returns the client-first message.
func (s *SCRAM) Start(context.Context, string) (Exchange, []byte, error) {
	h, err := s.hash()
	if err != nil {
		return nil, nil, err
	}
	return startScram(h, s.Username, s.Password, s.TokenAuth, s.nonce)
}

func startScram(h func() hash.Hash, user, password string, token bool, nonce func() string) (Exchange, []byte, error) {
	if user == "" {
		return nil, nil, errors.New("sasl: SCRAM needs a username")
	}
	var cnonce string
	if nonce != nil {
		cnonce = nonce()
	} else {
		var b [24]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, nil, err
		}
		cnonce = base64.RawStdEncoding.EncodeToString(b[:])
	}
	bare := "n=" + escapeScramName(user) + ",r=" + cnonce
	if token {
		bare += ",tokenauth=true"
	}
	ex := &scramExchange{h: h, password: password, cnonce: cnonce, clientFirstBare: bare}
	return ex, []byte(gs2Header + bare), nil
}

// gs2Header says: no channel binding, no authorization identity.
const gs2Header = "n,,"

// escapeScramName encodes ',' and '=' as RFC 5802 requires of saslname.
func escapeScramName(s string) string {
	return strings.NewReplacer("=", "=3D", ",", "=2C").Replace(s)
}

type scramExchange struct {
	h               func() hash.Hash
	password        string
	cnonce          string
	clientFirstBare string
	serverSignature []byte // set after the client-final message
}

func (e *scramExchange) Next(_ context.Context, challenge []byte) ([]byte, bool, error) {
	if e.serverSignature == nil {
		msg, err := e.clientFinal(string(challenge))
		return msg, false, err
	}
	if err := e.verifyServerFinal(string(challenge)); err != nil {
		return nil, false, err
	}
	return nil, true, nil
}

// serverFirst is the parsed server-first message.
type serverFirst struct {
	nonce string
	salt  []byte
	iters int
}

// parseServerFirst reads "r=<nonce>,s=<salt>,i=<iterations>[,ext...]" and
// checks that the nonce extends cnonce and the iterations are in bounds.
func parseServerFirst(msg, cnonce string) (serverFirst, error) {
	var sf serverFirst
	bad := func(format string, args ...any) (serverFirst, error) {
		return sf, fmt.Errorf("%w: server-first message: %s", ErrBadChallenge, fmt.Sprintf(format, args...))
	}
	if strings.HasPrefix(msg, "m=") {
		return bad("mandatory extension not supported")
	}
	if strings.HasPrefix(msg, "e=") {
		return bad("server error %q", msg[2:])
	}
	parts := strings.Split(msg, ",")
	if len(parts) < 3 || !strings.HasPrefix(parts[0], "r=") || !strings.HasPrefix(parts[1], "s=") || !strings.HasPrefix(parts[2], "i=") {
		return bad("want r=,s=,i= attributes")
	}
	sf.nonce = parts[0][2:]
	if len(sf.nonce) <= len(cnonce) || !strings.HasPrefix(sf.nonce, cnonce) {
		return bad("nonce does not extend the client's")
	}
	for _, c := range sf.nonce {
		if c < 0x21 || c > 0x7e || c == ',' {
			return bad("nonce has a non-printable character or a comma")
		}
	}
	salt, err := base64.StdEncoding.DecodeString(parts[1][2:])
	if err != nil || len(salt) == 0 {
		return bad("bad salt")
	}
	sf.salt = salt
	iters, err := strconv.Atoi(parts[2][2:])
	if err != nil {
		return bad("bad iteration count %q", parts[2][2:])
	}
	if iters < MinScramIterations || iters > MaxScramIterations {
		return bad("%d iterations, outside %d..%d", iters, MinScramIterations, MaxScramIterations)
	}
	sf.iters = iters
	return sf, nil
}

// clientFinal answers the server-first message with the client's proof.
func (e *scramExchange) clientFinal(msg string) ([]byte, error) {
	sf, err := parseServerFirst(msg, e.cnonce)
	if err != nil {
		return nil, err
	}
	size := e.h().Size()
	salted, err := pbkdf2.Key(e.h, e.password, sf.salt, sf.iters, size)
	if err != nil {
		return nil, err
	}
	clientKey := e.hmac(salted, "Client Key")
	sum := e.h()
	sum.Write(clientKey)
	storedKey := sum.Sum(nil)

	withoutProof := "c=" + base64.StdEncoding.EncodeToString([]byte(gs2Header)) + ",r=" + sf.nonce
	authMessage := e.clientFirstBare + "," + msg + "," + withoutProof
	proof := e.hmac(storedKey, authMessage)
	for i := range proof {
		proof[i] ^= clientKey[i]
	}
	e.serverSignature = e.hmac(e.hmac(salted, "Server Key"), authMessage)
	return []byte(withoutProof + ",p=" + base64.StdEncoding.EncodeToString(proof)), nil
}

// verifyServerFinal checks "v=<signature>"; "e=<error>" and anything else
// fail.
func (e *scramExchange) verifyServerFinal(msg string) error {
	if rest, ok := strings.CutPrefix(msg, "e="); ok {
		return fmt.Errorf("%w: server error %q", ErrServerProof, rest)
	}
	attr, _, _ := strings.Cut(msg, ",")
	sig, ok := strings.CutPrefix(attr, "v=")
	if !ok {
		return fmt.Errorf("%w: server-final message has no signature", ErrServerProof)
	}
	got, err := base64.StdEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, e.serverSignature) {
		return ErrServerProof
	}
	return nil
}

func (e *scramExchange) hmac(key []byte, msg string) []byte {
	m := hmac.New(e.h, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}
