// Package readiness reconciles a DomainClaim's Ready condition and nothing else.
//
// It watches DomainClaims. It owns Ready and status.observedGeneration (claimstatus.Readiness)
// and writes them by server-side apply, only when they change. Ready rolls up the conditions the
// other reconcilers own, in the order of the steps (Steps): True when every step is True, else
// False with the first step that is not, its reason and message. With AWS off nothing is
// provisioned, so Ready needs only Claimed (StepsWithoutAWS): the hostname is the namespace's.
// It reads no other object and calls no AWS API. A claim being deleted that had a Ready gets
// Ready=False, reason Deleting, once: its ALIAS records are the first thing removed.
//
// Ready becoming True, and a step failing (a reason other than Pending or Waiting<Step>) are
// written at once. A claim that is only on its way (a step pending or not started) has no Ready
// in its first QuietPeriod (claimstatus.Hold): most claims are Ready within it, and a first
// Ready=False would be out of date before anyone read it. Past it, the first Ready is written
// at once, and progress while False (one step done, the next one pending) once it has stood
// for ProgressEvery: Ready names the step a claim has been waiting for, not each step it passes
// on its way. That spares a write at every step of every claim.
package readiness

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/claimstatus"
	"github.com/opendi/gateway-orchestrator/internal/conditions"
	"github.com/opendi/gateway-orchestrator/internal/fairqueue"
	"github.com/opendi/gateway-orchestrator/internal/promutil"
)

// ControllerName names the reconciler in logs and metrics.
const ControllerName = "domainclaim-readiness"

// Steps are the conditions Ready needs with AWS on, in the order of DESIGN.md's steps.
var Steps = []string{
	v1alpha1.ConditionClaimed, v1alpha1.ConditionBound, v1alpha1.ConditionCertificateRequested, v1alpha1.ConditionValidationRecord,
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

// DefaultProgressEvery is how long a claim's progress must stand before Ready names it.
const DefaultProgressEvery = 10 * time.Second

// Reconciler keeps a DomainClaim's Ready condition.
type Reconciler struct {
	Client client.Client
	// Steps are the conditions Ready needs: Steps, or StepsWithoutAWS.
	Steps    []string
	Clock    clock.PassiveClock
	Recorder events.EventRecorder
	// ReadySeconds observes the time to Ready; nil observes nothing.
	ReadySeconds prometheus.Observer
	// ProgressEvery overrides DefaultProgressEvery.
	ProgressEvery time.Duration
	// QuietPeriod overrides claimstatus.DefaultQuietPeriod.
	QuietPeriod time.Duration

	// waiting holds, by claim name, the progress Ready would say and since when (a waitingFor).
	waiting sync.Map
	// written remembers the reconciler's status writes the cache has not shown yet.
	written claimstatus.Writes
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
		WithOptions(fairqueue.ClaimOptions(mgr.GetCache(), 2)).
		Complete(r)
}

// Reconcile implements reconcile.Reconciler.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	c := &v1alpha1.DomainClaim{}
	if err := r.Client.Get(ctx, req.NamespacedName, c); err != nil {
		if apierrors.IsNotFound(err) {
			r.waiting.Delete(req.Name)
		}
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	st, became := Plan(c, r.Steps)
	if st == nil {
		return reconcile.Result{}, nil
	}
	if wait := r.progressWait(c, st); wait > 0 {
		return reconcile.Result{RequeueAfter: wait}, nil
	}
	r.waiting.Delete(c.Name)
	wrote, err := r.written.Apply(ctx, r.Client, claimstatus.Readiness, c, st)
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

// waitingFor is progress Ready would say, first seen at since.
type waitingFor struct {
	reason, message string
	since           time.Time
}

// progressWait is how long to wait before writing st, when all it changes is the progress of a
// claim that is not Ready and the progress has not stood for ProgressEvery yet.
func (r *Reconciler) progressWait(c *v1alpha1.DomainClaim, st *v1alpha1.DomainClaimStatus) time.Duration {
	if wait := claimstatus.Hold(claimstatus.Readiness, c, st, r.Clock.Now(), r.QuietPeriod); wait > 0 {
		return wait
	}
	was := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionReady)
	now := meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionReady)
	if was == nil || !claimstatus.Waiting(was) || !claimstatus.Waiting(now) || was.ObservedGeneration != now.ObservedGeneration {
		return 0
	}
	every := r.ProgressEvery
	if every == 0 {
		every = DefaultProgressEvery
	}
	v, ok := r.waiting.Load(c.Name)
	if w, _ := v.(waitingFor); !ok || w.reason != now.Reason || w.message != now.Message {
		r.waiting.Store(c.Name, waitingFor{reason: now.Reason, message: now.Message, since: r.Clock.Now()})
		return every
	}
	return every - r.Clock.Since(v.(waitingFor).since)
}

// Plan decides Ready for claim c from its step conditions, as the readiness owner's status
// (nil when there is nothing to write: the claim goes, or no step has reported yet), and
// whether Ready becomes True.
func Plan(c *v1alpha1.DomainClaim, steps []string) (st *v1alpha1.DomainClaimStatus, becameReady bool) {
	if !c.DeletionTimestamp.IsZero() {
		return deleting(c, steps), false
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

// deleting is the status of a claim being deleted: Ready=False with reason Deleting, written once
// and only over a Ready the claim had (the other owners' conditions say how the removal goes),
// since its ALIAS records are the first thing removed and a Ready=True would go on saying the
// hostname is served. The message names only the steps the claim has to undo.
func deleting(c *v1alpha1.DomainClaim, steps []string) *v1alpha1.DomainClaimStatus {
	was := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionReady)
	if was == nil || was.Status == metav1.ConditionFalse && was.Reason == v1alpha1.ReasonDeleting {
		return nil
	}
	st := c.Status.DeepCopy()
	st.ObservedGeneration = c.Generation
	conditions.Set(&st.Conditions, c.Generation, v1alpha1.ConditionReady, false, v1alpha1.ReasonDeleting, deletingMessage(c, steps))
	return st
}

// deletingMessage says what the removal of claim c undoes: with AWS off (steps without the DNS
// step) nothing outside the cluster; without a pool seat (on a team's own load balancer, or
// never seated) the ALIAS records and the certificate it may have; otherwise also the seat.
func deletingMessage(c *v1alpha1.DomainClaim, steps []string) string {
	switch {
	case !slices.Contains(steps, v1alpha1.ConditionDNSRecord):
		return "the claim is being deleted: with AWS off there are no ALIAS records or certificate to remove; its seat on a pool Gateway, where it has one, goes with it"
	case c.Status.Gateway == nil:
		return "the claim is being deleted: its ALIAS records and certificate, where it has them, are removed in that order (DNSRecordReady and CertificateRequested say how far it has come)"
	}
	return "the claim is being deleted: its ALIAS records, seat on the Gateway and certificate are removed in that order (DNSRecordReady, CertificateAttached and CertificateRequested say how far it has come)"
}

func orNothing(lb string) string {
	if lb == "" {
		return "its owner (no load balancer: AWS is off)"
	}
	return lb
}
