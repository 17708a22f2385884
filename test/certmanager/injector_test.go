package certmanager

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	cmapi "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	"github.com/cert-manager/cert-manager/pkg/controller/cainjector"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/rest"
	apiregv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	crwebhook "sigs.k8s.io/controller-runtime/pkg/webhook"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/cmd/gateway-orchestrator/app"
	"github.com/opendi/gateway-orchestrator/internal/devcert"
	"github.com/opendi/gateway-orchestrator/test/builders"
)

// ownNamespace is the namespace the chart is rendered for.
const ownNamespace = "gwo-system"

func addInjectorTypes(s *runtime.Scheme) {
	utilruntime.Must(apiextv1.AddToScheme(s))
	utilruntime.Must(apiregv1.AddToScheme(s))
	utilruntime.Must(cmapi.AddToScheme(s))
}

// TestCertManagerInjectorServesTheChartsWebhooksThroughARotation installs what the chart
// renders with webhook.certificateSource=certManager, plays cert-manager's issuing controller
// (it writes the Certificate's Secret) and the kubelet (it projects the Secret into the
// webhook's certificate directory), and runs cert-manager's real CA injector: the API server
// must reach the orchestrator's webhook with the injected CA, before and through a rotation.
func TestCertManagerInjectorServesTheChartsWebhooksThroughARotation(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	objs := renderChart(t, ownNamespace, "clusterName=test", "region=us-east-1", "webhook.certificateSource=certManager")

	require.NoError(t, k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ownNamespace}}))
	tenant := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-a"}}
	require.NoError(t, k8s.Create(ctx, tenant))

	// The chart's Issuer and Certificate, created against cert-manager's real CRDs.
	var cert cmapi.Certificate
	for _, o := range objs {
		switch o.GetKind() {
		case "Issuer":
			require.NoError(t, k8s.Create(ctx, o.DeepCopy()), "the chart's Issuer")
		case "Certificate":
			require.NoError(t, runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &cert))
			require.NoError(t, k8s.Create(ctx, o.DeepCopy()), "the chart's Certificate")
		}
	}
	require.NotEmpty(t, cert.Spec.SecretName, "the chart renders a Certificate")

	// Issued certificates name the chart's DNS names and, because the API server here reaches
	// the webhook by URL on loopback (envtest has no Service network), 127.0.0.1.
	port := freePort(t)
	hosts := append(append([]string{}, cert.Spec.DNSNames...), "127.0.0.1")
	issuer := &issuing{t: t, cert: &cert, hosts: hosts, dir: t.TempDir()}
	first := issuer.issue(ctx)

	stopWebhook := startOrchestratorWebhook(ctx, t, port, issuer.dir)
	defer stopWebhook()
	requireServing(t, port, first.leaf)

	// The chart's webhook configurations: annotated for injection, with no caBundle of their own.
	var names []client.Object
	for _, o := range objs {
		if o.GetKind() != "MutatingWebhookConfiguration" && o.GetKind() != "ValidatingWebhookConfiguration" {
			continue
		}
		require.Equal(t, ownNamespace+"/"+cert.Name, o.GetAnnotations()[cmapi.WantInjectAnnotation], o.GetName())
		w := pointAtLoopback(t, o, port)
		require.NoError(t, k8s.Create(ctx, w), o.GetName())
		names = append(names, w)
	}
	require.Len(t, names, 2, "a mutating and a validating configuration")

	// The API server loads webhook configurations through an informer, so a create made at
	// once can pass before they take effect: wait for the first create that reaches the webhook.
	// Every create that does reach it before injection fails: the API server cannot trust it.
	route := routes(tenant.Name)
	var err error
	require.Eventually(t, func() bool { err = k8s.Create(ctx, route()); return err != nil }, 10*time.Second, 50*time.Millisecond,
		"the API server applies the chart's webhook configurations")
	assert.Contains(t, err.Error(), "x509", "before injection the API server cannot trust the webhook")

	stopInjector := startInjector(ctx, t)
	defer stopInjector()

	require.EventuallyWithT(t, func(c *assert.CollectT) { assert.True(c, bundlesHold(ctx, c, names, first.ca)) }, 30*time.Second, 100*time.Millisecond,
		"the injector fills the caBundle of every webhook with the Certificate's CA")
	require.Eventually(t, func() bool { return k8s.Create(ctx, route()) == nil }, 10*time.Second, 50*time.Millisecond,
		"the API server calls the webhook with the injected CA")

	// Rotation, with routes created all along.
	load := startLoad(ctx, route)
	load.waitFor(t, 10)

	second := issuer.issue(ctx) // a new CA and serving certificate in the Secret
	require.EventuallyWithT(t, func(c *assert.CollectT) { assert.True(c, bundlesHold(ctx, c, names, first.ca, second.ca)) }, 30*time.Second, 100*time.Millisecond,
		"the injector adds the new CA and keeps the old one while the pods still serve the old certificate")
	// The kubelet projects the changed Secret into the pod after a while (about a minute in a
	// cluster); admissions continue in the meantime with the old certificate.
	load.waitFor(t, 20)
	time.Sleep(2 * time.Second)

	issuer.project(second)
	require.Eventually(t, func() bool { return serving(port, second.leaf) }, 30*time.Second, 100*time.Millisecond,
		"the webhook server reloads the rotated certificate from its directory")
	load.waitFor(t, 20) // admissions through the new certificate
	okCount, failed, firstErr := load.stop()

	assert.Zero(t, failed, "no failed admission during the rotation (first error: %v)", firstErr)
	assert.Greater(t, okCount, int64(50))
	t.Logf("%d routes admitted during the rotation, %d failed", okCount, failed)
}

// issued is one issuance: the CA, the serving certificate and its key.
type issued struct {
	ca   *x509.Certificate
	leaf *x509.Certificate
	pair devcert.Pair
	caPE []byte
}

// issuing plays cert-manager's issuing controller for one Certificate (it writes the Secret the
// Certificate names, annotated with the Certificate's name) and the kubelet (it projects the
// Secret into dir as an atomic ..data symlink swap, like a Secret volume).
type issuing struct {
	t      *testing.T
	cert   *cmapi.Certificate
	hosts  []string
	dir    string
	n      int
	secret *corev1.Secret
}

func (s *issuing) issue(ctx context.Context) issued {
	s.t.Helper()
	ca, err := devcert.NewCA("gwo-webhook-ca", 24*time.Hour)
	require.NoError(s.t, err)
	pair, err := ca.Issue(s.hosts, time.Hour)
	require.NoError(s.t, err)
	is := issued{ca: parse(s.t, ca.CertPEM), leaf: parse(s.t, pair.CertPEM), pair: pair, caPE: ca.CertPEM}
	data := map[string][]byte{"ca.crt": ca.CertPEM, corev1.TLSCertKey: pair.CertPEM, corev1.TLSPrivateKeyKey: pair.KeyPEM}
	if s.secret == nil {
		s.secret = &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{
				Name: s.cert.Spec.SecretName, Namespace: s.cert.Namespace,
				Annotations: map[string]string{cmapi.CertificateNameKey: s.cert.Name},
			},
			Type: corev1.SecretTypeTLS,
			Data: data,
		}
		require.NoError(s.t, k8s.Create(ctx, s.secret))
		s.project(is)
		return is
	}
	s.secret.Data = data
	require.NoError(s.t, k8s.Update(ctx, s.secret))
	return is
}

// project writes the pair into a new timestamped directory and swaps ..data to it.
func (s *issuing) project(is issued) {
	s.t.Helper()
	s.n++
	version := "..v" + strconv.Itoa(s.n)
	require.NoError(s.t, os.Mkdir(filepath.Join(s.dir, version), 0o700))
	require.NoError(s.t, os.WriteFile(filepath.Join(s.dir, version, corev1.TLSCertKey), is.pair.CertPEM, 0o600))
	require.NoError(s.t, os.WriteFile(filepath.Join(s.dir, version, corev1.TLSPrivateKeyKey), is.pair.KeyPEM, 0o600))
	tmp := filepath.Join(s.dir, "..data_tmp")
	require.NoError(s.t, os.Symlink(version, tmp))
	require.NoError(s.t, os.Rename(tmp, filepath.Join(s.dir, "..data")))
	for _, f := range []string{corev1.TLSCertKey, corev1.TLSPrivateKeyKey} {
		if _, err := os.Lstat(filepath.Join(s.dir, f)); os.IsNotExist(err) {
			require.NoError(s.t, os.Symlink(filepath.Join("..data", f), filepath.Join(s.dir, f)))
		}
	}
	if s.n > 1 {
		require.NoError(s.t, os.RemoveAll(filepath.Join(s.dir, "..v"+strconv.Itoa(s.n-1))))
	}
}

// startOrchestratorWebhook runs the orchestrator's webhooks (no reconcilers) on 127.0.0.1:port
// with the certificate from dir.
func startOrchestratorWebhook(ctx context.Context, t *testing.T, port int, dir string) func() {
	t.Helper()
	mgr, err := ctrl.NewManager(restCfg, ctrl.Options{
		Scheme:                 app.NewScheme(),
		Cache:                  app.CacheOptions(),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		WebhookServer:          crwebhook.NewServer(crwebhook.Options{Host: "127.0.0.1", Port: port, CertDir: dir}),
	})
	require.NoError(t, err)
	require.NoError(t, app.Register(ctx, mgr, app.Config{Webhooks: true}))
	return startManager(ctx, t, mgr.Start, func() bool {
		return mgr.GetCache().WaitForCacheSync(ctx) && mgr.GetWebhookServer().StartedChecker()(nil) == nil
	})
}

// startInjector runs cert-manager's CA injector for webhook configurations, set up as its own
// binary does: a user agent (it names the field manager) and Secrets read live, not cached
// (it watches only their metadata).
func startInjector(ctx context.Context, t *testing.T) func() {
	t.Helper()
	cfg := rest.CopyConfig(restCfg)
	cfg.UserAgent = "cert-manager-cainjector/test"
	s := runtime.NewScheme()
	utilruntime.Must(corev1.AddToScheme(s))
	utilruntime.Must(admissionv1.AddToScheme(s))
	addInjectorTypes(s)
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 s,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Client:                 client.Options{Cache: &client.CacheOptions{DisableFor: []client.Object{&corev1.Secret{}}}},
	})
	require.NoError(t, err)
	require.NoError(t, cainjector.RegisterAllInjectors(ctx, mgr, cainjector.SetupOptions{
		EnableCertificatesDataSource: true,
		EnabledReconcilersFor: map[string]bool{
			cainjector.MutatingWebhookConfigurationName:   true,
			cainjector.ValidatingWebhookConfigurationName: true,
		},
	}))
	return startManager(ctx, t, mgr.Start, func() bool { return mgr.GetCache().WaitForCacheSync(ctx) })
}

// startManager starts a manager, waits until ready says so, and returns its stop function.
func startManager(ctx context.Context, t *testing.T, start func(context.Context) error, ready func() bool) func() {
	t.Helper()
	mctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- start(mctx) }()
	require.Eventually(t, ready, time.Minute, 50*time.Millisecond)
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
	}
}

// pointAtLoopback turns a rendered webhook configuration into a typed one whose webhooks call
// https://127.0.0.1:port at their Service path; everything else is as rendered.
func pointAtLoopback(t *testing.T, o *unstructured.Unstructured, port int) client.Object {
	t.Helper()
	url := func(cc *admissionv1.WebhookClientConfig) {
		require.NotNil(t, cc.Service, "the chart calls its Service")
		require.Empty(t, cc.CABundle, "cert-manager mode leaves the caBundle to the injector")
		u := fmt.Sprintf("https://127.0.0.1:%d%s", port, *cc.Service.Path)
		cc.Service, cc.URL = nil, &u
	}
	if o.GetKind() == "MutatingWebhookConfiguration" {
		var m admissionv1.MutatingWebhookConfiguration
		require.NoError(t, runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &m))
		for i := range m.Webhooks {
			url(&m.Webhooks[i].ClientConfig)
		}
		return &m
	}
	var v admissionv1.ValidatingWebhookConfiguration
	require.NoError(t, runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &v))
	for i := range v.Webhooks {
		url(&v.Webhooks[i].ClientConfig)
	}
	return &v
}

// bundlesHold reports whether every webhook of every configuration trusts exactly the CAs.
func bundlesHold(ctx context.Context, t require.TestingT, configs []client.Object, cas ...*x509.Certificate) bool {
	if h, ok := t.(interface{ Helper() }); ok {
		h.Helper()
	}
	var bundles [][]byte
	for _, c := range configs {
		switch c := c.(type) {
		case *admissionv1.MutatingWebhookConfiguration:
			var m admissionv1.MutatingWebhookConfiguration
			require.NoError(t, k8s.Get(ctx, client.ObjectKeyFromObject(c), &m))
			for _, w := range m.Webhooks {
				bundles = append(bundles, w.ClientConfig.CABundle)
			}
		case *admissionv1.ValidatingWebhookConfiguration:
			var v admissionv1.ValidatingWebhookConfiguration
			require.NoError(t, k8s.Get(ctx, client.ObjectKeyFromObject(c), &v))
			for _, w := range v.Webhooks {
				bundles = append(bundles, w.ClientConfig.CABundle)
			}
		}
	}
	require.NotEmpty(t, bundles)
	for _, b := range bundles {
		got := parseAll(b)
		if len(got) != len(cas) {
			return false
		}
		for _, ca := range cas {
			if !containsCert(got, ca) {
				return false
			}
		}
	}
	return true
}

// routes returns a function making a new HTTPRoute in ns each call.
func routes(ns string) func() *gwv1.HTTPRoute {
	return func() *gwv1.HTTPRoute {
		r := builders.Route(ns)
		r.Spec.ParentRefs = []gwv1.ParentReference{{Name: "gw"}}
		return r
	}
}

// load creates routes one after another until stopped, counting admissions and failures.
type load struct {
	ok, failed atomic.Int64
	mu         sync.Mutex
	firstErr   error
	cancel     context.CancelFunc
	done       chan struct{}
}

func startLoad(ctx context.Context, route func() *gwv1.HTTPRoute) *load {
	l := &load{done: make(chan struct{})}
	ctx, l.cancel = context.WithCancel(ctx)
	go func() {
		defer close(l.done)
		for ctx.Err() == nil {
			if err := k8s.Create(ctx, route()); err != nil {
				if ctx.Err() != nil {
					return
				}
				l.failed.Add(1)
				l.mu.Lock()
				if l.firstErr == nil {
					l.firstErr = err
				}
				l.mu.Unlock()
			} else {
				l.ok.Add(1)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	return l
}

// waitFor waits until n more routes have been admitted.
func (l *load) waitFor(t *testing.T, n int64) {
	t.Helper()
	target := l.ok.Load() + n
	require.Eventually(t, func() bool { return l.ok.Load() >= target }, 30*time.Second, 10*time.Millisecond,
		"%d more admissions (failed so far: %d)", n, l.failed.Load())
}

func (l *load) stop() (ok, failed int64, firstErr error) {
	l.cancel()
	<-l.done
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ok.Load(), l.failed.Load(), l.firstErr
}

// serving reports whether 127.0.0.1:port presents leaf.
func serving(port int, leaf *x509.Certificate) bool {
	conn, err := tls.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // compares the presented certificate
	if err != nil {
		return false
	}
	defer conn.Close()
	peer := conn.ConnectionState().PeerCertificates
	return len(peer) > 0 && peer[0].Equal(leaf)
}

func requireServing(t *testing.T, port int, leaf *x509.Certificate) {
	t.Helper()
	require.Eventually(t, func() bool { return serving(port, leaf) }, 10*time.Second, 50*time.Millisecond)
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func parse(t *testing.T, p []byte) *x509.Certificate {
	t.Helper()
	certs := parseAll(p)
	require.Len(t, certs, 1)
	return certs[0]
}

func parseAll(p []byte) []*x509.Certificate {
	var certs []*x509.Certificate
	for {
		var b *pem.Block
		b, p = pem.Decode(p)
		if b == nil {
			return certs
		}
		if c, err := x509.ParseCertificate(b.Bytes); err == nil {
			certs = append(certs, c)
		}
	}
}

func containsCert(certs []*x509.Certificate, c *x509.Certificate) bool {
	for _, x := range certs {
		if bytes.Equal(x.Raw, c.Raw) {
			return true
		}
	}
	return false
}
