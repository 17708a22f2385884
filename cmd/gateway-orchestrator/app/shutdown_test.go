package app

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAnAdmissionRequestInFlightWhenTheOrchestratorStopsRunsToItsVerdict stops the webhook
// server while a request is being handled, as a pod restart does: the request's context stays
// live (its claim writes and withdrawals go through), the answer reaches the API server, and the
// context ends only at the deadline the API server sent.
func TestAnAdmissionRequestInFlightWhenTheOrchestratorStopsRunsToItsVerdict(t *testing.T) {
	dir, roots := servingCert(t)
	port := freePort(t)
	srv, err := WebhookServer(ServerOptions{WebhookHost: "127.0.0.1", WebhookPort: port, WebhookCertDir: dir})
	require.NoError(t, err)
	entered, release := make(chan struct{}), make(chan struct{})
	type seen struct {
		err      error
		deadline time.Duration
	}
	got := make(chan seen, 1)
	srv.Register("/validate", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		d, _ := r.Context().Deadline()
		got <- seen{err: r.Context().Err(), deadline: time.Until(d)}
		_, _ = io.WriteString(w, "verdict")
	}))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- srv.Start(ctx) }()

	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}}}
	require.Eventually(t, func() bool {
		r, err := c.Get(fmt.Sprintf("https://127.0.0.1:%d/readyz", port))
		if err != nil {
			return false
		}
		return r.Body.Close() == nil
	}, 5*time.Second, 20*time.Millisecond, "the webhook server never answered")

	answer := make(chan error, 1)
	var body []byte
	go func() {
		resp, err := c.Post(fmt.Sprintf("https://127.0.0.1:%d/validate?timeout=5s", port), "application/json", nil)
		if err == nil {
			body, err = io.ReadAll(resp.Body)
			_ = resp.Body.Close()
		}
		answer <- err
	}()
	<-entered
	cancel() // the orchestrator stops: the server begins to shut down
	time.Sleep(200 * time.Millisecond)
	close(release)

	s := <-got
	require.NoError(t, s.err, "the request's context ended when the orchestrator began to stop")
	assert.InDelta(t, 5*time.Second, s.deadline, float64(time.Second), "the request ends by the API server's deadline")
	require.NoError(t, <-answer, "the API server got no answer")
	assert.Equal(t, "verdict", string(body))
	require.NoError(t, <-done, "the webhook server stops cleanly")
}
