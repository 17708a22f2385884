package main

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	"github.com/opendi/gateway-orchestrator/test/testenv"
)

var (
	apiOnce   sync.Once
	apiEnv    *envtest.Environment
	apiConfig *rest.Config
	apiErr    error
)

// apiServer starts one kube-apiserver and etcd for the package's tests that need them
// (TestMain stops it).
func apiServer(t *testing.T) *rest.Config {
	t.Helper()
	apiOnce.Do(func() {
		assets, err := testenv.Assets()
		if err != nil {
			apiErr = err
			return
		}
		apiEnv = &envtest.Environment{BinaryAssetsDirectory: assets, ControlPlaneStartTimeout: 2 * time.Minute}
		apiEnv.ControlPlane.GetAPIServer().Configure().Set("endpoint-reconciler-type", "none")
		apiConfig, apiErr = apiEnv.Start()
	})
	require.NoError(t, apiErr)
	return apiConfig
}

func stopAPIServer() {
	if apiEnv != nil {
		_ = apiEnv.Stop()
	}
}

// replica is one orchestrator process's manager with a stand-in for its reconcilers.
type replica struct {
	mgr     manager.Manager
	running atomic.Bool // the leader-only work runs
	cancel  context.CancelFunc
	done    chan error
}

func startReplica(t *testing.T, restCfg *rest.Config) *replica {
	t.Helper()
	cfg := config{leaderElection: true, leaderElectNS: "default", metricsAddr: "0", probeAddr: "0"}
	mgr, err := newManager(restCfg, cfg, nil)
	require.NoError(t, err)
	r := &replica{mgr: mgr, done: make(chan error, 1)}
	// Like the reconcilers, it runs only on the leader.
	require.NoError(t, mgr.Add(manager.RunnableFunc(func(ctx context.Context) error {
		r.running.Store(true)
		<-ctx.Done()
		r.running.Store(false)
		return nil
	})))
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- mgr.Start(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

func (r *replica) stop(t *testing.T) {
	r.cancel()
	select {
	case err := <-r.done:
		assert.NoError(t, err)
		r.done <- nil // later calls return at once
	case <-time.After(30 * time.Second):
		t.Error("manager did not stop")
	}
}

func TestALeaderThatStopsHandsOverWithinSeconds(t *testing.T) {
	restCfg := apiServer(t)
	replicas := []*replica{startReplica(t, restCfg), startReplica(t, restCfg)}
	leaders := func() (n int, leader int) {
		for i, r := range replicas {
			if r.running.Load() {
				n, leader = n+1, i
			}
		}
		return n, leader
	}
	require.Eventually(t, func() bool { n, _ := leaders(); return n == 1 }, 30*time.Second, 20*time.Millisecond, "one replica leads")
	require.Never(t, func() bool { n, _ := leaders(); return n != 1 }, time.Second, 20*time.Millisecond,
		"exactly one replica runs the reconcilers, for a second")
	_, leader := leaders()
	follower := replicas[1-leader]

	stopped := time.Now()
	replicas[leader].stop(t)
	require.Eventually(t, follower.running.Load, 10*time.Second, 20*time.Millisecond, "the other replica takes over")
	handover := time.Since(stopped)
	t.Logf("handover after %v", handover)
	assert.Less(t, handover, 5*time.Second, "the lease was released, not waited out (15 s)")
}

func TestReadinessWaitsForTheCaches(t *testing.T) {
	restCfg := apiServer(t)
	mgr, err := newManager(restCfg, config{metricsAddr: "0", probeAddr: "0"}, nil)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err = mgr.GetCache().GetInformer(ctx, &corev1.Namespace{})
	require.NoError(t, err)
	ready := cachesSynced(mgr.GetCache())
	req, err := http.NewRequest(http.MethodGet, "/readyz", nil)
	require.NoError(t, err)

	require.Error(t, ready(req), "not ready before the caches have synced")

	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	require.Eventually(t, func() bool { return ready(req) == nil }, 30*time.Second, 50*time.Millisecond, "ready once synced")
	cancel()
	require.NoError(t, <-done)
}
