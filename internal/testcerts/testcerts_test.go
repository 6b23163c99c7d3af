package testcerts

import (
	"crypto/x509"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIssueVerifies(t *testing.T) {
	ca, err := NewCA("test CA")
	require.NoError(t, err)
	srv, err := ca.Issue(Leaf{CommonName: "broker", Hosts: []string{"127.0.0.1", "localhost"}})
	require.NoError(t, err)
	leaf, err := x509.ParseCertificate(srv.TLS.Certificate[0])
	require.NoError(t, err)
	_, err = leaf.Verify(x509.VerifyOptions{DNSName: "localhost", Roots: ca.Pool()})
	assert.NoError(t, err)
	assert.Error(t, leaf.VerifyHostname("example.com"))

	other, err := NewCA("other CA")
	require.NoError(t, err)
	_, err = leaf.Verify(x509.VerifyOptions{Roots: other.Pool()})
	assert.Error(t, err, "another CA must not vouch for it")

	old, err := ca.Issue(Leaf{CommonName: "old", NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
	require.NoError(t, err)
	oldLeaf, err := x509.ParseCertificate(old.TLS.Certificate[0])
	require.NoError(t, err)
	_, err = oldLeaf.Verify(x509.VerifyOptions{Roots: ca.Pool()})
	var inv x509.CertificateInvalidError
	require.ErrorAs(t, err, &inv)
	assert.Equal(t, x509.Expired, inv.Reason)
}
