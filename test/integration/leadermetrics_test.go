package integration

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/opendi/gateway-orchestrator/internal/promutil"
)

// replica is a manager with leader election and a registry of its own, exporting one
// cluster-wide gauge through promutil.LeaderOnly, as app.Register does.
type replica struct {
	t      *testing.T
	reg    *prometheus.Registry
	cancel context.CancelFunc
	done   chan error
}

func startReplica(t *testing.T, lease string) *replica {
	t.Helper()
	mgr, err := ctrl.NewManager(env.Config, ctrl.Options{
		Metrics:                       metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress:        "0",
		LeaderElection:                true,
		LeaderElectionID:              lease,
		LeaderElectionNamespace:       "default",
		LeaderElectionReleaseOnCancel: true,
		LeaseDuration:                 ptr.To(3 * time.Second),
		RenewDeadline:                 ptr.To(2 * time.Second),
		RetryPeriod:                   ptr.To(200 * time.Millisecond),
	})
	require.NoError(t, err)
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "test_cluster_wide", Help: "a cluster-wide gauge"})
	g.Set(1)
	r := &replica{t: t, reg: prometheus.NewRegistry(), done: make(chan error, 1)}
	require.NoError(t, r.reg.Register(promutil.LeaderOnly(mgr.Elected(), g)))
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- mgr.Start(ctx) }()
	t.Cleanup(r.stop)
	return r
}

func (r *replica) stop() {
	if r.cancel != nil {
		r.cancel()
		if err := <-r.done; err != nil {
			r.t.Errorf("manager: %v", err)
		}
		r.cancel = nil
	}
}

// reports says whether the replica exports the gauge now.
func (r *replica) reports() bool {
	mfs, err := r.reg.Gather()
	return err == nil && len(mfs) == 1
}

func TestClusterWideGaugesComeFromTheLeaderOnly(t *testing.T) {
	lease := unique("gauges")
	a, b := startReplica(t, lease), startReplica(t, lease)

	require.Eventually(t, func() bool { return a.reports() || b.reports() }, 10*time.Second, 50*time.Millisecond, "one replica is elected")
	leader, other := a, b
	if b.reports() {
		leader, other = b, a
	}
	for range 10 {
		assert.True(t, leader.reports())
		assert.False(t, other.reports(), "the replica that is not the leader exports nothing")
		time.Sleep(50 * time.Millisecond)
	}

	leader.stop()
	assert.Eventually(t, other.reports, 5*time.Second, 50*time.Millisecond, "the next leader exports the gauge once elected")
}
