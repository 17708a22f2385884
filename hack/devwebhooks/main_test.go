package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/opendi/gateway-orchestrator/internal/devcert"
	"github.com/opendi/gateway-orchestrator/test/testenv"
	"github.com/opendi/gateway-orchestrator/webhook"
)

var k8s client.Client

func TestMain(m *testing.M) {
	assets, err := testenv.Assets()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	te := &envtest.Environment{BinaryAssetsDirectory: assets, ControlPlaneStartTimeout: 2 * time.Minute, ControlPlaneStopTimeout: time.Minute}
	te.ControlPlane.GetAPIServer().Configure().Set("endpoint-reconciler-type", "none")
	cfg, err := te.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting kube-apiserver and etcd:", err)
		os.Exit(1)
	}
	if k8s, err = client.New(cfg, client.Options{Scheme: clientgoscheme.Scheme}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		_ = te.Stop()
		os.Exit(1)
	}
	code := m.Run()
	_ = te.Stop()
	os.Exit(code)
}

// devServer serves TLS on loopback with a certificate from a fresh development CA, as
// bin/gateway-orchestrator --webhook-cert-dir certs does; it returns the options that point at it.
func devServer(t *testing.T) (options, []byte) {
	t.Helper()
	ca, err := devcert.NewCA("test dev CA", time.Hour)
	require.NoError(t, err)
	pair, err := ca.Issue([]string{"127.0.0.1", "localhost"}, time.Hour)
	require.NoError(t, err)
	cert, err := tls.X509KeyPair(pair.CertPEM, pair.KeyPEM)
	require.NoError(t, err)
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	caFile := filepath.Join(t.TempDir(), "ca.crt")
	require.NoError(t, os.WriteFile(caFile, ca.CertPEM, 0o600))
	return options{
		manifests: filepath.Join(testenv.RepoRoot(), "deploy", "webhook", "manifests.yaml"),
		caFile:    caFile,
		url:       srv.URL,
		namespace: "gateway-orchestrator-system",
		wait:      30 * time.Second,
	}, ca.CertPEM
}

func TestRegistersTheGeneratedWebhooksByURLWithTheCAAndRemovesThemOnInterrupt(t *testing.T) {
	opts, ca := devServer(t)
	ctx, interrupt := context.WithCancel(context.Background())
	defer interrupt()
	done := make(chan int, 1)
	go func() {
		code, err := serve(ctx, k8s, opts, []string{"sleep", "60"})
		assert.NoError(t, err)
		done <- code
	}()

	var m admissionv1.MutatingWebhookConfiguration
	var v admissionv1.ValidatingWebhookConfiguration
	require.Eventually(t, func() bool {
		return k8s.Get(ctx, client.ObjectKey{Name: mutatingName}, &m) == nil && k8s.Get(ctx, client.ObjectKey{Name: validatingName}, &v) == nil
	}, 30*time.Second, 50*time.Millisecond, "registered once the command serves")

	genM, genV, err := testenv.WebhookConfigurations(opts.manifests, opts.namespace)
	require.NoError(t, err)
	require.Len(t, genM, 1)
	require.Len(t, genV, 1)
	require.Len(t, m.Webhooks, len(genM[0].Webhooks))
	require.Len(t, v.Webhooks, len(genV[0].Webhooks))
	check := func(name string, got, want admissionv1.WebhookClientConfig, gotPolicy, wantPolicy *admissionv1.FailurePolicyType) {
		require.NotNil(t, got.URL, name)
		assert.Equal(t, opts.url+*want.Service.Path, *got.URL, name)
		assert.Nil(t, got.Service, name)
		assert.Equal(t, ca, got.CABundle, name)
		assert.Equal(t, wantPolicy, gotPolicy, name)
	}
	for i, w := range m.Webhooks {
		g := genM[0].Webhooks[i]
		require.Equal(t, g.Name, w.Name)
		check(w.Name, w.ClientConfig, g.ClientConfig, w.FailurePolicy, g.FailurePolicy)
		assert.Equal(t, webhook.NamespaceSelector(opts.namespace), w.NamespaceSelector, w.Name)
		assert.Equal(t, g.Rules, unscoped(w.Rules), w.Name)
	}
	for i, w := range v.Webhooks {
		g := genV[0].Webhooks[i]
		require.Equal(t, g.Name, w.Name)
		check(w.Name, w.ClientConfig, g.ClientConfig, w.FailurePolicy, g.FailurePolicy)
		assert.Equal(t, webhook.NamespaceSelector(opts.namespace), w.NamespaceSelector, w.Name)
		assert.Equal(t, g.Rules, unscoped(w.Rules), w.Name)
	}

	interrupt()
	select {
	case <-done:
	case <-time.After(40 * time.Second):
		t.Fatal("serve did not return after the interrupt")
	}
	requireRemoved(t)
}

func TestRemovesTheWebhooksWhenTheCommandExits(t *testing.T) {
	opts, _ := devServer(t)
	code, err := serve(context.Background(), k8s, opts, []string{"sh", "-c", "sleep 2; exit 3"})
	require.NoError(t, err)
	assert.Equal(t, 3, code, "the command's exit code")
	requireRemoved(t)
}

func TestDoesNotRegisterWhenTheCommandNeverServes(t *testing.T) {
	opts, _ := devServer(t)
	opts.url = "https://127.0.0.1:1" // nothing listens there
	code, err := serve(context.Background(), k8s, opts, []string{"sh", "-c", "sleep 1; exit 4"})
	require.NoError(t, err)
	assert.Equal(t, 4, code)
	requireRemoved(t)
}

func requireRemoved(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	err := k8s.Get(ctx, client.ObjectKey{Name: mutatingName}, &admissionv1.MutatingWebhookConfiguration{})
	assert.True(t, apierrors.IsNotFound(err), "mutating configuration removed: %v", err)
	err = k8s.Get(ctx, client.ObjectKey{Name: validatingName}, &admissionv1.ValidatingWebhookConfiguration{})
	assert.True(t, apierrors.IsNotFound(err), "validating configuration removed: %v", err)
}

// unscoped drops the scope the API server defaults into rules.
func unscoped(rules []admissionv1.RuleWithOperations) []admissionv1.RuleWithOperations {
	out := make([]admissionv1.RuleWithOperations, len(rules))
	for i, r := range rules {
		r.Scope = nil
		out[i] = r
	}
	return out
}
