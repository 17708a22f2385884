// Package servedkinds tests what the orchestrator does when an optional CRD (ListenerSet,
// TLSRoute) is installed, or removed, while it runs: it stops cleanly with
// app.ErrServedKindsChanged (and a log line saying why) so that its Deployment starts it again
// with the kind watched as the cluster is now. Each kind runs its own control plane, which starts
// without that CRD.
package servedkinds

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlconfig "sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/cmd/gateway-orchestrator/app"
	"github.com/opendi/gateway-orchestrator/internal/index"
	"github.com/opendi/gateway-orchestrator/test/testenv"
)

// logLines collects a manager's log messages.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) add(prefix, args string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, prefix+" "+args)
}

func (l *logLines) find(part string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.lines {
		if strings.Contains(s, part) {
			return s
		}
	}
	return ""
}

// run starts the orchestrator's manager (reconcilers, no webhooks and no AWS) as the binary does
// and returns once its cache has synced; Start's result arrives on the channel.
func run(t *testing.T, ctx context.Context, cfg *rest.Config, logs *logLines) (ctrl.Manager, <-chan error) {
	t.Helper()
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 app.NewScheme(),
		Cache:                  app.CacheOptions(),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Logger:                 funcr.New(logs.add, funcr.Options{}),
		Controller:             ctrlconfig.Controller{SkipNameValidation: ptr.To(true)},
	})
	require.NoError(t, err)
	require.NoError(t, app.Register(ctx, mgr, app.Config{Reconcilers: true, QuietPeriod: 50 * time.Millisecond, KindChangeStagger: 200 * time.Millisecond}))
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	require.True(t, mgr.GetCache().WaitForCacheSync(ctx), "the cache syncs")
	return mgr, done
}

func stopped(t *testing.T, done <-chan error, within time.Duration) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(within):
		t.Fatalf("the manager did not stop within %s", within)
		return nil
	}
}

// servedKind is a kind the orchestrator watches only where its CRD is served.
type servedKind struct {
	kind, file string // the Kind and the suffix of its CRD's file
	list       func() client.ObjectList
	object     func(ns string) client.Object // one listing a.example.com
}

var servedKinds = []servedKind{
	{kind: "ListenerSet", file: "_listenersets.yaml", list: func() client.ObjectList { return &gwv1.ListenerSetList{} },
		object: func(ns string) client.Object {
			return &gwv1.ListenerSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "ls"},
				Spec: gwv1.ListenerSetSpec{ParentRef: gwv1.ParentGatewayReference{Name: "gw"}, Listeners: []gwv1.ListenerEntry{{
					Name: "https", Port: 443, Protocol: gwv1.HTTPSProtocolType, Hostname: ptr.To(gwv1.Hostname("a.example.com")),
					TLS: &gwv1.ListenerTLSConfig{CertificateRefs: []gwv1.SecretObjectReference{{Name: "cert"}}},
				}}}}
		}},
	// TLSRoutes keep the claims they list in use (reconciler/claim).
	{kind: "TLSRoute", file: "_tlsroutes.yaml", list: func() client.ObjectList { return &gwv1.TLSRouteList{} },
		object: func(ns string) client.Object {
			return &gwv1.TLSRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "db"},
				Spec: gwv1.TLSRouteSpec{Hostnames: []gwv1.Hostname{"a.example.com"}, Rules: []gwv1.TLSRouteRule{{BackendRefs: []gwv1.BackendRef{{
					BackendObjectReference: gwv1.BackendObjectReference{Name: "db", Port: ptr.To(gwv1.PortNumber(443))}}}}}}}
		}},
}

func TestTheOrchestratorStartsAgainWhenAnOptionalCRDComesOrGoes(t *testing.T) {
	for _, k := range servedKinds {
		t.Run(k.kind, func(t *testing.T) { startsAgainWhenItsCRDComesOrGoes(t, k) })
	}
}

func startsAgainWhenItsCRDComesOrGoes(t *testing.T, k servedKind) {
	all, err := testenv.OrchestratorCRDs()
	require.NoError(t, err)
	var crds []string
	var crdFile string
	for _, p := range all {
		if strings.HasSuffix(p, k.file) {
			crdFile = p
			continue
		}
		crds = append(crds, p)
	}
	require.NotEmpty(t, crdFile, "the %s CRD file is found", k.kind)
	te, err := testenv.ControlPlane(crds, envtest.WebhookInstallOptions{})
	require.NoError(t, err)
	cfg, err := te.Start()
	require.NoError(t, err)
	t.Cleanup(func() { _ = te.Stop() })
	cfg.QPS, cfg.Burst = 200, 400
	k8s, err := client.New(cfg, client.Options{Scheme: app.NewScheme()})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)

	// Started without the CRD: the kind is neither watched nor indexed.
	logs1 := &logLines{}
	mgr1, done1 := run(t, ctx, cfg, logs1)
	err = mgr1.GetCache().List(ctx, k.list(), client.MatchingFields{index.RouteHostname: "a.example.com"})
	require.Error(t, err, "no %s index without the CRD", k.kind)
	select {
	case err := <-done1:
		t.Fatalf("the manager stopped before the CRD came: %v", err)
	case <-time.After(2 * time.Second):
	}

	_, err = envtest.InstallCRDs(cfg, envtest.CRDInstallOptions{Paths: []string{crdFile}, ErrorIfPathMissing: true})
	require.NoError(t, err)
	err = stopped(t, done1, 30*time.Second)
	require.ErrorIs(t, err, app.ErrServedKindsChanged)
	assert.Contains(t, err.Error(), k.kind+".gateway.networking.k8s.io is served now")
	assert.NotEmpty(t, logs1.find("the API server serves this kind now, whose CRD was installed after start"), "a log line says why it stops")

	// Started again, it watches and indexes the kind, and stays up.
	logs2 := &logLines{}
	mgr2, done2 := run(t, ctx, cfg, logs2)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-a"}}
	require.NoError(t, k8s.Create(ctx, ns))
	require.NoError(t, k8s.Create(ctx, k.object(ns.Name)))
	require.Eventually(t, func() bool {
		l := k.list()
		err := mgr2.GetCache().List(ctx, l, client.MatchingFields{index.RouteHostname: "a.example.com"})
		return err == nil && meta.LenList(l) == 1
	}, 10*time.Second, 50*time.Millisecond, "the %s is found through the index", k.kind)
	select {
	case err := <-done2:
		t.Fatalf("the manager stopped although nothing changed since its start: %v", err)
	case <-time.After(2 * time.Second):
	}

	// The CRD removed: it stops again, to start without the watch.
	require.NoError(t, envtest.UninstallCRDs(cfg, envtest.CRDInstallOptions{Paths: []string{crdFile}}))
	err = stopped(t, done2, 60*time.Second)
	require.ErrorIs(t, err, app.ErrServedKindsChanged)
	assert.Contains(t, err.Error(), "no longer served")
	assert.NotEmpty(t, logs2.find("the API server no longer serves this kind, whose CRD was removed after start"))
}
