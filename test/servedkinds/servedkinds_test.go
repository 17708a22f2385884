// Package servedkinds tests what the orchestrator does when the ListenerSet CRD is installed, or
// removed, while it runs: it stops cleanly with app.ErrServedKindsChanged (and a log line saying
// why) so that its Deployment starts it again with ListenerSets watched as the cluster is now. It
// runs its own control plane, which starts without the ListenerSet CRD.
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

func TestTheOrchestratorStartsAgainWhenTheListenerSetCRDComesOrGoes(t *testing.T) {
	all, err := testenv.OrchestratorCRDs()
	require.NoError(t, err)
	var crds []string
	var lsFile string
	for _, p := range all {
		if strings.HasSuffix(p, "_listenersets.yaml") {
			lsFile = p
			continue
		}
		crds = append(crds, p)
	}
	require.NotEmpty(t, lsFile, "the ListenerSet CRD file is found")
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

	// Started without the CRD: ListenerSets are neither watched nor indexed.
	logs1 := &logLines{}
	mgr1, done1 := run(t, ctx, cfg, logs1)
	err = mgr1.GetCache().List(ctx, &gwv1.ListenerSetList{}, client.MatchingFields{index.RouteHostname: "a.example.com"})
	require.Error(t, err, "no ListenerSet index without the CRD")
	select {
	case err := <-done1:
		t.Fatalf("the manager stopped before the CRD came: %v", err)
	case <-time.After(2 * time.Second):
	}

	_, err = envtest.InstallCRDs(cfg, envtest.CRDInstallOptions{Paths: []string{lsFile}, ErrorIfPathMissing: true})
	require.NoError(t, err)
	err = stopped(t, done1, 30*time.Second)
	require.ErrorIs(t, err, app.ErrServedKindsChanged)
	assert.Contains(t, err.Error(), "ListenerSet.gateway.networking.k8s.io is served now")
	assert.NotEmpty(t, logs1.find("the API server serves this kind now, whose CRD was installed after start"), "a log line says why it stops")

	// Started again, it watches and indexes ListenerSets, and stays up.
	logs2 := &logLines{}
	mgr2, done2 := run(t, ctx, cfg, logs2)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-a"}}
	require.NoError(t, k8s.Create(ctx, ns))
	ls := &gwv1.ListenerSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: "ls"},
		Spec: gwv1.ListenerSetSpec{ParentRef: gwv1.ParentGatewayReference{Name: "gw"}, Listeners: []gwv1.ListenerEntry{{
			Name: "https", Port: 443, Protocol: gwv1.HTTPSProtocolType, Hostname: ptr.To(gwv1.Hostname("a.example.com")),
			TLS: &gwv1.ListenerTLSConfig{CertificateRefs: []gwv1.SecretObjectReference{{Name: "cert"}}},
		}}}}
	require.NoError(t, k8s.Create(ctx, ls))
	require.Eventually(t, func() bool {
		var l gwv1.ListenerSetList
		err := mgr2.GetCache().List(ctx, &l, client.MatchingFields{index.RouteHostname: "a.example.com"})
		return err == nil && len(l.Items) == 1
	}, 10*time.Second, 50*time.Millisecond, "the ListenerSet is found through the index")
	select {
	case err := <-done2:
		t.Fatalf("the manager stopped although nothing changed since its start: %v", err)
	case <-time.After(2 * time.Second):
	}

	// The CRD removed: it stops again, to start without the watch.
	require.NoError(t, envtest.UninstallCRDs(cfg, envtest.CRDInstallOptions{Paths: []string{lsFile}}))
	err = stopped(t, done2, 60*time.Second)
	require.ErrorIs(t, err, app.ErrServedKindsChanged)
	assert.Contains(t, err.Error(), "no longer served")
	assert.NotEmpty(t, logs2.find("the API server no longer serves this kind, whose CRD was removed after start"))
}
