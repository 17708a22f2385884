package main

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWritesACAAndAServingCertificateForLoopback(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "certs")
	require.NoError(t, write(dir, time.Hour))

	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		return b
	}
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(read("ca.crt")))
	pair, err := tls.X509KeyPair(read("tls.crt"), read("tls.key"))
	require.NoError(t, err, "tls.key belongs to tls.crt")
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	require.NoError(t, err)
	for _, host := range []string{"127.0.0.1", "localhost"} {
		_, err := leaf.Verify(x509.VerifyOptions{DNSName: host, Roots: pool})
		assert.NoError(t, err, host)
	}
	_, err = leaf.Verify(x509.VerifyOptions{DNSName: "example.com", Roots: pool})
	assert.Error(t, err, "only loopback names")
	for _, key := range []string{"ca.key", "tls.key"} {
		fi, err := os.Stat(filepath.Join(dir, key))
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), key)
	}
}
