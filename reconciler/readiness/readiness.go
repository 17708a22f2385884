// Package readiness reconciles a DomainClaim's Ready condition and nothing else.
//
// It watches DomainClaims. It owns Ready and status.observedGeneration (claimstatus.Readiness)
// and writes them by server-side apply, only when they change. Ready rolls up the conditions the
// other reconcilers own, in the order of the steps (Steps): True when every step is True, else
// False with the first step that is not, its reason and message. With AWS off nothing is
// provisioned, so Ready needs only Claimed (StepsWithoutAWS): the hostname is the namespace's.
// It reads no other object and calls no AWS API.
package readiness

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/claimstatus"
	"github.com/opendi/gateway-orchestrator/internal/conditions"
	"github.com/opendi/gateway-orchestrator/internal/promutil"
)

// ControllerName names the reconciler in logs and metrics.
const ControllerName = "domainclaim-readiness"

// Steps are the conditions Ready needs with AWS on, in the order of DESIGN.md's steps.
var Steps = []string{
	v1alpha1.ConditionClaimed, v1alpha1.ConditionCertificateRequested, v1alpha1.ConditionValidationRecord,
	v1alpha1.ConditionCertificateIssued, v1alpha1.ConditionGatewayAssigned, v1alpha1.ConditionCertificateAttached,
	v1alpha1.ConditionLoadBalancerReady, v1alpha1.ConditionDNSRecord, v1alpha1.ConditionRoutesAllowed,
}

// StepsWithoutAWS are the conditions Ready needs with AWS off (--aws=false): no certificate is
// requested, so no Gateway seats the hostname and no record is written; a claim is Ready once it
// owns its hostname.
var StepsWithoutAWS = []string{v1alpha1.ConditionClaimed}

// NewReadyHistogram returns the histogram of the time from a claim's creation to Ready,
// registered with reg when reg is not nil (the one registered before, for a second manager).
func NewReadyHistogram(reg prometheus.Registerer) prometheus.Histogram {
	h := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "gateway_orchestrator_claim_to_ready_seconds",
		Help:    "Time from a DomainClaim's creation to Ready (served over HTTPS on a shared ALB).",
		Buckets: prometheus.ExponentialBuckets(1, 2, 14), // 1 s … 2.3 h
	})
	return promutil.Register(reg, h)
}

// Reconciler keeps a DomainClaim's Ready condition.
type Reconciler struct {
	Client client.Client
	// Steps are the conditions Ready needs: Steps, or StepsWithoutAWS.
	Steps    []string
	Clock    clock.PassiveClock
	Recorder events.EventRecorder
	// ReadySeconds observes the time to Ready; nil observes nothing.
	ReadySeconds prometheus.Observer
}

var _ reconcile.Reconciler = &Reconciler{}

// SetupWithManager registers the reconciler.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.Clock == nil {
		r.Clock = clock.RealClock{}
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named(ControllerName).
		For(&v1alpha1.DomainClaim{}).
		WithOptions(controller.Options{MaxConcurrentReconciles: 2}).
		Complete(r)
}

// Reconcile implements reconcile.Reconciler.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	c := &v1alpha1.DomainClaim{}
	if err := r.Client.Get(ctx, req.NamespacedName, c); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	st, became := Plan(c, r.Steps)
	if st == nil {
		return reconcile.Result{}, nil
	}
	wrote, err := claimstatus.Apply(ctx, r.Client, claimstatus.Readiness, c, st)
	if err != nil || !wrote || !became {
		return reconcile.Result{}, err
	}
	if r.ReadySeconds != nil {
		r.ReadySeconds.Observe(r.Clock.Since(c.CreationTimestamp.Time).Seconds())
	}
	if r.Recorder != nil {
		r.Recorder.Eventf(c, nil, "Normal", v1alpha1.ReasonReady, "Provision", "https://%s is served by %s", c.Spec.Hostname, orNothing(c.Status.LoadBalancerHostname))
	}
	return reconcile.Result{}, nil
}

// Plan decides Ready for claim c from its step conditions, as the readiness owner's status
// (nil when there is nothing to write: the claim goes, or no step has reported yet), and
// whether Ready becomes True.
func Plan(c *v1alpha1.DomainClaim, steps []string) (st *v1alpha1.DomainClaimStatus, becameReady bool) {
	if !c.DeletionTimestamp.IsZero() {
		return nil, false // a claim that goes is not made Ready; the others say how it goes
	}
	started := false
	for _, typ := range steps {
		started = started || meta.FindStatusCondition(c.Status.Conditions, typ) != nil
	}
	if !started && meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionReady) == nil {
		return nil, false // one write fewer: Ready follows the first step's report
	}
	st = c.Status.DeepCopy()
	st.ObservedGeneration = c.Generation
	was := meta.IsStatusConditionTrue(st.Conditions, v1alpha1.ConditionReady)
	ok, reason, msg := conditions.Rollup(st.Conditions, steps)
	conditions.Set(&st.Conditions, c.Generation, v1alpha1.ConditionReady, ok, reason, msg)
	return st, ok && !was
}

func orNothing(lb string) string {
	if lb == "" {
		return "its owner (no load balancer: AWS is off)"
	}
	return lb
}
