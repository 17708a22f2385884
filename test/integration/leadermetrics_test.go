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
	"github.com/opendi/gateway-orchestrator/reconciler/certificate"
	"github.com/opendi/gateway-orchestrator/reconciler/gatewaypool"
)

// replica is a manager with leader election and a registry of its own, exporting a test gauge
// through promutil.LeaderOnly and the reconcilers' cluster-wide gauges (days to certificate
// expiry, certificates per Gateway) through their constructors, as app.Register does.
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
	// Both replicas hold the same values, as their caches and reconcilers would.
	certs := certificate.NewMetrics(r.reg, mgr.Elected())
	certs.ExpiryDays.WithLabelValues("shop.example.com").Set(80)
	certs.IssueSeconds.Observe(30)
	pools := gatewaypool.NewMetrics(r.reg, mgr.Elected())
	pools.CertificatesPerGateway.WithLabelValues("pool", "infra", "gw-1").Set(3)
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

// clusterWide are the gauges only the leader may export.
var clusterWide = []string{"test_cluster_wide", "gateway_orchestrator_certificate_expiry_days", "gateway_orchestrator_gateway_certificates"}

// exported lists the metric families the replica exports now. It is called inside Eventually
// callbacks (another goroutine), so a failure is asserted, never required.
func (r *replica) exported() map[string]bool {
	mfs, err := r.reg.Gather()
	assert.NoError(r.t, err)
	out := map[string]bool{}
	for _, mf := range mfs {
		out[mf.GetName()] = true
	}
	return out
}

// reports says whether the replica exports every cluster-wide gauge now, and fails the test if
// it exports only some of them.
func (r *replica) reports() bool {
	got := r.exported()
	n := 0
	for _, name := range clusterWide {
		if got[name] {
			n++
		}
	}
	assert.Contains(r.t, []int{0, len(clusterWide)}, n, "all cluster-wide gauges or none: %v", got)
	assert.True(r.t, got["gateway_orchestrator_claim_to_certificate_issued_seconds"], "every replica exports what it observed itself")
	return n == len(clusterWide)
}

func TestClusterWideGaugesComeFromTheLeaderOnly(t *testing.T) {
	lease := unique("gauges")
	a, b := startReplica(t, lease), startReplica(t, lease)

	require.Eventually(t, func() bool { return a.reports() || b.reports() }, 10*time.Second, 50*time.Millisecond, "one replica is elected")
	leader, other := a, b
	if b.reports() {
		leader, other = b, a
	}
	assert.Never(t, func() bool { return !leader.reports() || other.reports() }, 500*time.Millisecond, 50*time.Millisecond,
		"for half a second, the leader exports the gauge and the replica that is not the leader nothing")

	leader.stop()
	assert.Eventually(t, other.reports, 5*time.Second, 50*time.Millisecond, "the next leader exports the gauge once elected")
}
