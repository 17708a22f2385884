// Package zonestatus counts each ManagedZone's DomainClaims by state into the zone's status, so
// that `kubectl get managedzones` shows how many of a zone's hostnames are Ready, and how many
// are not, Conflicted, unbound or being deleted.
//
//   - Watches: ManagedZones, and DomainClaims (mapped to the ManagedZone their status.managedZone
//     names; on an update both the old and the new zone).
//   - Owns: ManagedZone status.claims and status.observedGeneration; no condition.
//   - Writes: only those two fields, with a JSON merge patch that names nothing else, and only when
//     they changed. It never writes a DomainClaim.
//
// A claim event does not count its zone at once: the zone is queued Debounce later, and the
// queue keeps one entry per zone (the earliest), so a burst of 1,000 claim changes in a zone
// gives one count and one write per Debounce, not 1,000.
package zonestatus

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/index"
)

// +kubebuilder:rbac:groups=gateway.opendi.com,resources=managedzones;domainclaims,verbs=get;list;watch
// +kubebuilder:rbac:groups=gateway.opendi.com,resources=managedzones/status,verbs=get;patch

// ControllerName names the reconciler in logs and metrics.
const ControllerName = "managedzone-status"

// DefaultDebounce is how long claim events of one zone are gathered before it is counted.
const DefaultDebounce = 2 * time.Second

var _ reconcile.Reconciler = &Reconciler{}

// Reconciler writes ManagedZone status.claims.
type Reconciler struct {
	// Client reads from the manager's cache (the ClaimZone index of package index) and writes
	// the zone's status.
	Client client.Client
	// Debounce is how long claim events of one zone are gathered (DefaultDebounce when zero).
	Debounce time.Duration
}

// SetupWithManager registers the reconciler. The indexes of package index must be registered.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.Debounce == 0 {
		r.Debounce = DefaultDebounce
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named(ControllerName).
		For(&v1alpha1.ManagedZone{}).
		Watches(&v1alpha1.DomainClaim{}, handler.Funcs{
			CreateFunc: func(_ context.Context, e event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
				r.later(q, e.Object)
			},
			UpdateFunc: func(_ context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
				r.later(q, e.ObjectOld)
				r.later(q, e.ObjectNew)
			},
			DeleteFunc: func(_ context.Context, e event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
				r.later(q, e.Object)
			},
		}).
		Complete(r)
}

// later queues the zone of claim o after the debounce delay; the queue keeps the earliest of
// several such entries for one zone.
func (r *Reconciler) later(q workqueue.TypedRateLimitingInterface[reconcile.Request], o client.Object) {
	if c, ok := o.(*v1alpha1.DomainClaim); ok && c.Status.ManagedZone != "" {
		q.AddAfter(reconcile.Request{NamespacedName: types.NamespacedName{Name: c.Status.ManagedZone}}, r.Debounce)
	}
}

// Reconcile counts the zone's claims and writes the counts when they changed.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	var z v1alpha1.ManagedZone
	if err := r.Client.Get(ctx, req.NamespacedName, &z); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	var l v1alpha1.DomainClaimList
	if err := r.Client.List(ctx, &l, client.MatchingFields{index.ClaimZone: z.Name}, client.UnsafeDisableDeepCopy); err != nil {
		return reconcile.Result{}, fmt.Errorf("listing the claims of ManagedZone %s: %w", z.Name, err)
	}
	counts := Count(l.Items)
	if z.Status.Claims != nil && *z.Status.Claims == counts && z.Status.ObservedGeneration == z.Generation {
		return reconcile.Result{}, nil
	}
	patch, err := json.Marshal(map[string]any{"status": map[string]any{
		"observedGeneration": z.Generation,
		"claims":             counts,
	}})
	if err != nil {
		return reconcile.Result{}, err
	}
	if err := r.Client.Status().Patch(ctx, &z, client.RawPatch(types.MergePatchType, patch)); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	return reconcile.Result{}, nil
}

// Count counts claims by state.
func Count(claims []v1alpha1.DomainClaim) v1alpha1.ZoneClaimCounts {
	var n v1alpha1.ZoneClaimCounts
	for i := range claims {
		c := &claims[i]
		n.Total++
		switch {
		case c.DeletionTimestamp != nil:
			n.Deleting++
		case meta.IsStatusConditionTrue(c.Status.Conditions, v1alpha1.ConditionReady):
			n.Ready++
		default:
			n.NotReady++
		}
		if cond := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionClaimed); cond != nil &&
			cond.Status == metav1.ConditionFalse && cond.Reason == v1alpha1.ReasonConflicted {
			n.Conflicted++
		}
		if c.DeletionTimestamp == nil && index.Unbound(c) {
			n.Unbound++
		}
	}
	return n
}
