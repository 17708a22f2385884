package app

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opendi/gateway-orchestrator/internal/devcert"
)

// clientOf returns a client certificate signed by a new CA, and the CA's PEM.
func clientOf(t *testing.T, name string) (*x509.Certificate, []byte) {
	t.Helper()
	ca, err := devcert.NewCA(name, time.Hour)
	require.NoError(t, err)
	pair, err := ca.IssueClient("client", time.Hour)
	require.NoError(t, err)
	c, err := tls.X509KeyPair(pair.CertPEM, pair.KeyPEM)
	require.NoError(t, err)
	leaf, err := x509.ParseCertificate(c.Certificate[0])
	require.NoError(t, err)
	return leaf, ca.CertPEM
}

func verifies(pool *x509.CertPool, c *x509.Certificate) bool {
	_, err := c.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	return err == nil
}

func TestClientCAsFollowTheFileAndKeepTheLastGoodOne(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ca.crt")
	first, firstCA := clientOf(t, "first")
	second, secondCA := clientOf(t, "second")
	probe, err := selfSignedClient()
	require.NoError(t, err)
	write := func(data []byte, mod time.Time) {
		require.NoError(t, os.WriteFile(path, data, 0o600))
		require.NoError(t, os.Chtimes(path, mod, mod))
	}
	now := time.Now()
	cas := &clientCAs{path: path, probe: probe.Leaf}

	write(firstCA, now)
	pool, err := cas.current()
	require.NoError(t, err)
	assert.True(t, verifies(pool, first))
	assert.False(t, verifies(pool, second))
	assert.True(t, verifies(pool, probe.Leaf), "the readiness probe's own certificate")

	write([]byte("half written"), now.Add(time.Second))
	pool, err = cas.current()
	require.Error(t, err)
	assert.True(t, verifies(pool, first), "a broken file keeps the last good CA")

	write(secondCA, now.Add(2*time.Second))
	pool, err = cas.current()
	require.NoError(t, err)
	assert.True(t, verifies(pool, second), "the new CA")
	assert.False(t, verifies(pool, first), "replaces the old one")
	assert.True(t, verifies(pool, probe.Leaf))
}

func TestWebhookServerRefusesAMissingClientCA(t *testing.T) {
	_, err := WebhookServer(ServerOptions{WebhookClientCA: filepath.Join(t.TempDir(), "missing.crt")})
	require.ErrorContains(t, err, "--webhook-client-ca")
}
