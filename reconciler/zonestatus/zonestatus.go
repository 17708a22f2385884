// Package zonestatus counts each ManagedZone's DomainClaims by state into the zone's status, so
// that `kubectl get managedzones` shows how many of a zone's hostnames are Ready, and how many
// are not, Conflicted, unbound or being deleted; and says whether the GatewayPool the zone names
// exists (condition GatewayPoolFound).
//
//   - Watches: ManagedZones, DomainClaims (mapped to the ManagedZone their status.managedZone
//     names; on an update both the old and the new zone), and GatewayPools (created or deleted:
//     mapped to the zones naming them).
//   - Owns: ManagedZone status.claims, status.observedGeneration and status.conditions.
//   - Writes: only those fields, with a JSON merge patch that names nothing else, and only when
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
	"slices"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/conditions"
	"github.com/opendi/gateway-orchestrator/internal/index"
)

// +kubebuilder:rbac:groups=gateway.opendi.com,resources=managedzones;domainclaims;gatewaypools,verbs=get;list;watch
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
		Watches(&v1alpha1.GatewayPool{}, handler.EnqueueRequestsFromMapFunc(r.zonesNaming), builder.WithPredicates(predicate.GenerationChangedPredicate{})).
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
	conds, err := r.poolCondition(ctx, &z)
	if err != nil {
		return reconcile.Result{}, err
	}
	if z.Status.Claims != nil && *z.Status.Claims == counts && z.Status.ObservedGeneration == z.Generation && sameConditions(conds, z.Status.Conditions) {
		return reconcile.Result{}, nil
	}
	patch, err := json.Marshal(map[string]any{"status": map[string]any{
		"observedGeneration": z.Generation,
		"claims":             counts,
		"conditions":         conds, // null for none: the merge patch removes them
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

// poolCondition is the zone's conditions with GatewayPoolFound as it is now: whether the pool
// spec.gatewayPoolRef names exists; none for a zone without one.
func (r *Reconciler) poolCondition(ctx context.Context, z *v1alpha1.ManagedZone) ([]metav1.Condition, error) {
	conds := slices.Clone(z.Status.Conditions)
	ref := z.Spec.GatewayPoolRef
	if ref == nil {
		meta.RemoveStatusCondition(&conds, v1alpha1.ZoneConditionGatewayPool)
		return conds, nil
	}
	err := r.Client.Get(ctx, client.ObjectKey{Name: ref.Name}, &v1alpha1.GatewayPool{})
	switch {
	case err == nil:
		conditions.Set(&conds, z.Generation, v1alpha1.ZoneConditionGatewayPool, true, v1alpha1.ReasonGatewayPoolExists,
			"GatewayPool "+ref.Name+" serves the zone's hostnames that need a shared load balancer")
	case apierrors.IsNotFound(err):
		conditions.Set(&conds, z.Generation, v1alpha1.ZoneConditionGatewayPool, false, v1alpha1.ReasonGatewayPoolNotFound,
			"spec.gatewayPoolRef names GatewayPool "+ref.Name+", which does not exist: no shared load balancer serves the zone's hostnames, whose claims say GatewayAssigned=False/"+
				v1alpha1.ReasonGatewayPoolNotFound+"; create the GatewayPool or correct spec.gatewayPoolRef")
	default:
		return nil, err
	}
	return conds, nil
}

// sameConditions reports whether two condition lists say the same (the transition times kept).
func sameConditions(a, b []metav1.Condition) bool {
	return slices.EqualFunc(a, b, func(x, y metav1.Condition) bool {
		return x.Type == y.Type && x.Status == y.Status && x.Reason == y.Reason && x.Message == y.Message && x.ObservedGeneration == y.ObservedGeneration
	})
}

// zonesNaming maps a GatewayPool to the zones whose spec.gatewayPoolRef names it.
func (r *Reconciler) zonesNaming(ctx context.Context, o client.Object) []reconcile.Request {
	var zones v1alpha1.ManagedZoneList
	if err := r.Client.List(ctx, &zones); err != nil {
		return nil
	}
	var out []reconcile.Request
	for i := range zones.Items {
		if ref := zones.Items[i].Spec.GatewayPoolRef; ref != nil && ref.Name == o.GetName() {
			out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Name: zones.Items[i].Name}})
		}
	}
	return out
}
