package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	coordinationv1 "k8s.io/api/coordination/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/opendi/gateway-orchestrator/internal/devcert"
)

// TestAStoppingReplicaServesAdmissionUntilItsShutdownDelayIsOver stops a replica that leads and
// serves a webhook, as SIGTERM does in a rolling update, while another replica waits for the
// lease. During the shutdown delay, the stopping replica answers admission requests on the API
// server's pooled keep-alive connection and on new connections, each answer saying
// Connection: close; its readiness fails; its reconcilers stop at once and the other replica
// takes them over well before the delay is over. The process stops once the delay is over.
func TestAStoppingReplicaServesAdmissionUntilItsShutdownDelayIsOver(t *testing.T) {
	restCfg := apiServer(t)
	const delay = 8 * time.Second
	certDir, roots := servingCert(t)
	webhookPort, probePort := freePort(t), freePort(t)
	cfg := config{
		leaderElection: true, leaderElectNS: "default", metricsAddr: "0",
		probeAddr: fmt.Sprintf("127.0.0.1:%d", probePort), webhooks: true,
		webhookPort: webhookPort, certDir: certDir, shutdownDelay: delay,
	}
	mgr, err := newManager(restCfg, cfg, nil)
	require.NoError(t, err)
	mgr.GetWebhookServer().Register("/validate", &admission.Webhook{Handler: admission.HandlerFunc(
		func(context.Context, admission.Request) admission.Response { return admission.Allowed("") })})
	require.NoError(t, addReadyChecks(mgr, true))
	var leading atomic.Bool
	require.NoError(t, mgr.Add(manager.RunnableFunc(func(ctx context.Context) error { // the reconcilers' stand-in
		leading.Store(true)
		<-ctx.Done()
		leading.Store(false)
		return nil
	})))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()

	probe := &http.Client{Timeout: 5 * time.Second}
	readyz := func() int {
		resp, err := probe.Get(fmt.Sprintf("http://127.0.0.1:%d/readyz", probePort))
		if err != nil {
			return 0
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	require.Eventually(t, func() bool { return readyz() == http.StatusOK && leading.Load() }, 30*time.Second, 50*time.Millisecond,
		"the replica never became ready and leader")
	other := startReplica(t, restCfg) // waits for the lease

	// The API server's client: one connection, kept alive between calls.
	apiServerClient := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}, MaxIdleConnsPerHost: 1,
	}}
	type answer struct {
		reused, close bool
		allowed       bool
	}
	admit := func() (answer, error) {
		var a answer
		trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) { a.reused = info.Reused }}
		req, err := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodPost,
			fmt.Sprintf("https://127.0.0.1:%d/validate?timeout=5s", webhookPort), strings.NewReader(review))
		if err != nil {
			return a, err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := apiServerClient.Do(req)
		if err != nil {
			return a, err
		}
		defer func() { _ = resp.Body.Close() }()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return a, err
		}
		if resp.StatusCode != http.StatusOK {
			return a, fmt.Errorf("status %d: %s", resp.StatusCode, body)
		}
		a.close, a.allowed = resp.Close, strings.Contains(string(body), `"allowed":true`)
		return a, nil
	}
	before, err := admit()
	require.NoError(t, err)
	require.True(t, before.allowed)
	require.False(t, before.close, "a running replica keeps its connections alive")
	require.Equal(t, http.StatusOK, readyz())

	stopped := time.Now()
	cancel() // SIGTERM

	pooled, err := admit()
	require.NoError(t, err, "an admission request on the pooled connection right after the stop signal")
	assert.True(t, pooled.reused, "the request went over the connection kept alive before the stop")
	assert.True(t, pooled.allowed)
	assert.True(t, pooled.close, "the answer closes the connection (Connection: close)")
	assert.Equal(t, http.StatusInternalServerError, readyz(), "readiness fails from the stop signal on")

	require.Eventually(t, other.running.Load, delay-time.Second, 20*time.Millisecond,
		"the other replica takes the reconcilers over during the delay")
	assert.False(t, leading.Load(), "the stopping replica's reconcilers stopped")
	handover := time.Since(stopped)
	// The other replica tries every 2 s, jittered up to 4.4 s; without the drain's lock, the lease
	// would be released only after the delay.
	assert.Less(t, handover, delay-time.Second, "the lease was handed over at once, not after the delay")
	var lease coordinationv1.Lease
	c, err := client.New(restCfg, client.Options{})
	require.NoError(t, err)
	require.NoError(t, c.Get(context.Background(), client.ObjectKey{Namespace: "default", Name: LeaderElectionID}, &lease))
	require.NotNil(t, lease.Spec.HolderIdentity)
	assert.NotEmpty(t, *lease.Spec.HolderIdentity, "the other replica holds the lease")

	// Until the delay is nearly over: every request is answered, over a new connection each
	// time, and readiness fails.
	served := 0
	for time.Since(stopped) < delay-time.Second {
		a, err := admit()
		require.NoError(t, err, "an admission request %v after the stop signal", time.Since(stopped))
		assert.False(t, a.reused, "the previous answer closed its connection")
		assert.True(t, a.allowed)
		assert.True(t, a.close, "the answer closes the connection (Connection: close)")
		assert.Equal(t, http.StatusInternalServerError, readyz(), "readiness fails while the replica drains")
		served++
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("%d admission requests served during the delay; lease handed over after %v", served, handover)

	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(delay + 20*time.Second):
		t.Fatal("the manager did not stop after its shutdown delay")
	}
	elapsed := time.Since(stopped)
	assert.GreaterOrEqual(t, elapsed, delay, "the manager stopped before its shutdown delay was over")
	assert.Less(t, elapsed, delay+5*time.Second, "the manager stops soon after its shutdown delay")
	_, err = net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", webhookPort), time.Second)
	assert.Error(t, err, "the webhook port is closed once the manager stopped")
}

// review is an AdmissionReview the API server sends.
const review = `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"0b7c2e6a-1d2f-4c3e-9a8b-5f6e7d8c9b0a",` +
	`"kind":{"group":"","version":"v1","kind":"ConfigMap"},"resource":{"group":"","version":"v1","resource":"configmaps"},` +
	`"operation":"CREATE","userInfo":{"username":"tenant"},"object":{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"app"}}}}`

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
