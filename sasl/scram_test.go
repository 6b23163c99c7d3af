package sasl

import (
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"hash"
	"strings"
	"testing"
)

// scramVector is a complete exchange from an RFC.
type scramVector struct {
	name                     string
	h                        func() hash.Hash
	user, password, cnonce   string
	clientFirst, serverFirst string
	clientFinal, serverFinal string
}

var scramVectors = []scramVector{{
	// RFC 5802, section 5.
	name: "RFC5802-SHA-1", h: sha1.New, user: "user", password: "pencil", cnonce: "fyko+d2lbbFgONRv9qkxdawL",
	clientFirst: "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
	serverFirst: "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
	clientFinal: "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
	serverFinal: "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=",
}, {
	// RFC 7677, section 3.
	name: "RFC7677-SHA-256", h: sha256.New, user: "user", password: "pencil", cnonce: "rOprNGfwEbeRWgbNEkqO",
	clientFirst: "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
	serverFirst: "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
	clientFinal: "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
	serverFinal: "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
}}

func TestScramRFCVectors(t *testing.T) {
	ctx := context.Background()
	for _, v := range scramVectors {
		t.Run(v.name, func(t *testing.T) {
			ex, first, err := startScram(v.h, v.user, v.password, false, func() string { return v.cnonce })
			if err != nil {
				t.Fatal(err)
			}
			if string(first) != v.clientFirst {
				t.Fatalf("client-first %q, want %q", first, v.clientFirst)
			}
			final, done, err := ex.Next(ctx, []byte(v.serverFirst))
			if err != nil || done {
				t.Fatalf("Next(server-first) = done %v, err %v", done, err)
			}
			if string(final) != v.clientFinal {
				t.Fatalf("client-final %q, want %q", final, v.clientFinal)
			}
			msg, done, err := ex.Next(ctx, []byte(v.serverFinal))
			if err != nil || !done || msg != nil {
				t.Fatalf("Next(server-final) = %q, done %v, err %v", msg, done, err)
			}
		})
	}
}

// TestScramRejectsBadServerFinal: an exchange whose server does not prove
// it knows the credential must fail, however the proof is wrong.
func TestScramRejectsBadServerFinal(t *testing.T) {
	v := scramVectors[1]
	good := v.serverFinal
	sig, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(good, "v="))
	sig[0] ^= 1
	for name, final := range map[string]string{
		"flipped bit": "v=" + base64.StdEncoding.EncodeToString(sig),
		"truncated":   good[:len(good)-8],
		"not base64":  "v=!!!",
		"no v":        "x=" + good[2:],
		"empty":       "",
		"server err":  "e=invalid-proof",
	} {
		t.Run(name, func(t *testing.T) {
			ex, _, _ := startScram(v.h, v.user, v.password, false, func() string { return v.cnonce })
			if _, _, err := ex.Next(context.Background(), []byte(v.serverFirst)); err != nil {
				t.Fatal(err)
			}
			_, done, err := ex.Next(context.Background(), []byte(final))
			if !errors.Is(err, ErrServerProof) || done {
				t.Fatalf("server-final %q: done %v, err %v; want ErrServerProof", final, done, err)
			}
		})
	}
}

func TestScramRejectsBadServerFirst(t *testing.T) {
	const cnonce = "abcdefgh"
	for name, first := range map[string]string{
		"nonce not extended":   "r=zzzzzzzzXYZ,s=QSXCR+Q6sek8bf92,i=4096",
		"nonce equal":          "r=abcdefgh,s=QSXCR+Q6sek8bf92,i=4096",
		"nonce prefix only":    "r=abcdefg,s=QSXCR+Q6sek8bf92,i=4096",
		"too few iterations":   "r=abcdefghXYZ,s=QSXCR+Q6sek8bf92,i=4095",
		"one iteration":        "r=abcdefghXYZ,s=QSXCR+Q6sek8bf92,i=1",
		"too many iterations":  "r=abcdefghXYZ,s=QSXCR+Q6sek8bf92,i=1000000000",
		"negative iterations":  "r=abcdefghXYZ,s=QSXCR+Q6sek8bf92,i=-4096",
		"bad salt":             "r=abcdefghXYZ,s=***,i=4096",
		"empty salt":           "r=abcdefghXYZ,s=,i=4096",
		"missing iterations":   "r=abcdefghXYZ,s=QSXCR+Q6sek8bf92",
		"mandatory extension":  "m=ext,r=abcdefghXYZ,s=QSXCR+Q6sek8bf92,i=4096",
		"attributes reordered": "s=QSXCR+Q6sek8bf92,r=abcdefghXYZ,i=4096",
		"server error":         "e=unknown-user",
		"empty":                "",
	} {
		t.Run(name, func(t *testing.T) {
			ex, _, _ := startScram(sha256.New, "u", "p", false, func() string { return cnonce })
			msg, _, err := ex.Next(context.Background(), []byte(first))
			if !errors.Is(err, ErrBadChallenge) || msg != nil {
				t.Fatalf("server-first %q: msg %q, err %v; want ErrBadChallenge", first, msg, err)
			}
		})
	}
}

func TestScramClientFirst(t *testing.T) {
	s := &SCRAM{Hash: SHA512, Username: "a=b,c", Password: "p", TokenAuth: true, nonce: func() string { return "N" }}
	if s.Name() != "SCRAM-SHA-512" || (&SCRAM{}).Name() != "SCRAM-SHA-256" {
		t.Fatal("names")
	}
	_, first, err := s.Start(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if want := "n,,n=a=3Db=2Cc,r=N,tokenauth=true"; string(first) != want {
		t.Fatalf("client-first %q, want %q", first, want)
	}
	if _, _, err := (&SCRAM{}).Start(context.Background(), ""); err == nil {
		t.Fatal("empty username accepted")
	}
	if _, _, err := (&SCRAM{Hash: 7, Username: "u"}).Start(context.Background(), ""); err == nil {
		t.Fatal("unknown hash accepted")
	}
	// A random nonce is fresh each time.
	_, a, _ := (&SCRAM{Username: "u"}).Start(context.Background(), "")
	_, b, _ := (&SCRAM{Username: "u"}).Start(context.Background(), "")
	if string(a) == string(b) {
		t.Fatal("client nonce repeated")
	}
}

// scramServer plays the server side of one exchange, computed from the
// RFC's definitions independently of the client code, so that SHA-512 (which
// has no RFC vector) is checked too.
func scramServer(t *testing.T, h func() hash.Hash, password string, clientFirst []byte, ex Exchange) {
	t.Helper()
	bare := strings.TrimPrefix(string(clientFirst), "n,,")
	_, cnonce, _ := strings.Cut(bare, ",r=")
	salt := []byte("pepper and salt")
	serverFirst := "r=" + cnonce + "SERVERNONCE,s=" + base64.StdEncoding.EncodeToString(salt) + ",i=4096"
	final, _, err := ex.Next(context.Background(), []byte(serverFirst))
	if err != nil {
		t.Fatal(err)
	}
	withoutProof, proofB64, ok := strings.Cut(string(final), ",p=")
	if !ok {
		t.Fatalf("client-final %q has no proof", final)
	}
	mac := func(key []byte, s string) []byte { m := hmac.New(h, key); m.Write([]byte(s)); return m.Sum(nil) }
	salted, _ := pbkdf2.Key(h, password, salt, 4096, h().Size())
	auth := bare + "," + serverFirst + "," + withoutProof
	d := h()
	d.Write(mac(salted, "Client Key"))
	storedKey := d.Sum(nil)
	proof, _ := base64.StdEncoding.DecodeString(proofB64)
	sig := mac(storedKey, auth)
	for i := range proof {
		proof[i] ^= sig[i]
	}
	d = h()
	d.Write(proof)
	if !hmac.Equal(d.Sum(nil), storedKey) {
		t.Fatal("server could not verify the client proof")
	}
	_, done, err := ex.Next(context.Background(), []byte("v="+base64.StdEncoding.EncodeToString(mac(mac(salted, "Server Key"), auth))))
	if err != nil || !done {
		t.Fatalf("server-final: done %v, err %v", done, err)
	}
}

func TestScramSHA512AgainstServer(t *testing.T) {
	for _, c := range []struct {
		hash ScramHash
		h    func() hash.Hash
	}{{SHA256, sha256.New}, {SHA512, sha512.New}} {
		s := &SCRAM{Hash: c.hash, Username: "alice", Password: "wonder land"}
		ex, first, err := s.Start(context.Background(), "127.0.0.1:9092")
		if err != nil {
			t.Fatal(err)
		}
		scramServer(t, c.h, "wonder land", first, ex)
	}
}

func FuzzScramServerMessages(f *testing.F) {
	v := scramVectors[1]
	f.Add([]byte(v.serverFirst), []byte(v.serverFinal))
	f.Add([]byte("r=rOprNGfwEbeRWgbNEkqOx,s=AA==,i=16384,ext=1"), []byte("v=,x"))
	f.Fuzz(func(t *testing.T, first, final []byte) {
		ex, _, err := startScram(sha256.New, v.user, v.password, false, func() string { return v.cnonce })
		if err != nil {
			t.Fatal(err)
		}
		msg, done, err := ex.Next(context.Background(), first)
		if err != nil {
			if msg != nil || done {
				t.Fatalf("error %v with msg %q, done %v", err, msg, done)
			}
			return
		}
		if done || !strings.HasPrefix(string(msg), "c=biws,r="+v.cnonce) {
			t.Fatalf("client-final %q, done %v", msg, done)
		}
		if _, done, err := ex.Next(context.Background(), final); (err == nil) != done {
			t.Fatalf("done %v with err %v", done, err)
		}
	})
}
