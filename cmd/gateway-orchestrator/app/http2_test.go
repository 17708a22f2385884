package app

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opendi/gateway-orchestrator/internal/devcert"
)

// TestTheWebhookServerSpeaksHTTP2OnlyWhenEnabled starts the webhook server and asks for HTTP/2,
// as the API server's admission client does: by default the server answers in HTTP/1.1 (HTTP/2's
// stream-reset attacks cannot reach it), and with EnableHTTP2 in HTTP/2.
func TestTheWebhookServerSpeaksHTTP2OnlyWhenEnabled(t *testing.T) {
	dir, roots := servingCert(t)
	for _, tc := range []struct {
		enable bool
		want   string
	}{{false, "HTTP/1.1"}, {true, "HTTP/2.0"}} {
		t.Run(fmt.Sprintf("EnableHTTP2=%v", tc.enable), func(t *testing.T) {
			port := freePort(t)
			srv, err := WebhookServer(ServerOptions{WebhookHost: "127.0.0.1", WebhookPort: port, WebhookCertDir: dir, EnableHTTP2: tc.enable})
			require.NoError(t, err)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- srv.Start(ctx) }()
			t.Cleanup(func() {
				cancel()
				assert.NoError(t, <-done, "the webhook server stops cleanly")
			})

			c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
				TLSClientConfig:   &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
				ForceAttemptHTTP2: true, // offers h2 first, as the API server does
			}}
			url := fmt.Sprintf("https://127.0.0.1:%d/readyz", port)
			var resp *http.Response
			require.Eventually(t, func() bool {
				r, err := c.Get(url)
				if err != nil {
					return false
				}
				resp = r
				return true
			}, 5*time.Second, 20*time.Millisecond, "the webhook server never answered")
			require.NoError(t, resp.Body.Close())
			assert.Equal(t, tc.want, resp.Proto)
		})
	}
}

// servingCert writes a serving certificate for 127.0.0.1 into a new directory (as tls.crt and
// tls.key, where the webhook server reads them) and returns it with the pool that trusts it.
func servingCert(t *testing.T) (string, *x509.CertPool) {
	t.Helper()
	ca, err := devcert.NewCA("test", time.Hour)
	require.NoError(t, err)
	pair, err := ca.Issue([]string{"127.0.0.1"}, time.Hour)
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "tls.crt"), pair.CertPEM, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "tls.key"), pair.KeyPEM, 0o600))
	roots := x509.NewCertPool()
	require.True(t, roots.AppendCertsFromPEM(ca.CertPEM))
	return dir, roots
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	return port
}
