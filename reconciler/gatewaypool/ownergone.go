package gatewaypool

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/index"
	"github.com/opendi/gateway-orchestrator/internal/ownership"
)

// ownerGone reports whether claim c was made by a route of a namespace that is gone: deleted, or
// created again under its name (a different UID than the one admission or reconciler/claim recorded). Such a
// claim is kept until its release, but a namespace created again under that name inherits nothing
// (admission denies it the hostname): its seat's listener, which admits routes by namespace name,
// must not admit that namespace's routes either.
func (r *Reconciler) ownerGone(ctx context.Context, c *v1alpha1.DomainClaim) (bool, error) {
	rec := ownership.RecordedNamespace(c)
	if c.Spec.ClaimedBy != v1alpha1.ClaimedByRoute || rec == nil || rec.Name != c.Spec.Namespace {
		return false, nil
	}
	ns := &corev1.Namespace{}
	if err := r.Client.Get(ctx, client.ObjectKey{Name: c.Spec.Namespace}, ns); err != nil {
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	}
	return ownership.Stale(c, ns), nil
}

// namespaceCreatedOrDeleted passes the creation and deletion of Namespaces (not their updates):
// one created again under the name of a deleted owner must not find its seats' listeners
// admitting it.
var namespaceCreatedOrDeleted = predicate.Funcs{
	UpdateFunc:  func(event.UpdateEvent) bool { return false },
	DeleteFunc:  func(event.DeleteEvent) bool { return true },
	GenericFunc: func(event.GenericEvent) bool { return false },
}

// namespaceToPools maps a Namespace created or deleted to the pools (and zones without one)
// serving the claims its routes made: only those claims' listeners admit routes by its name.
func (r *Reconciler) namespaceToPools(ctx context.Context, o client.Object) []reconcile.Request {
	var claims v1alpha1.DomainClaimList
	if err := r.Client.List(ctx, &claims, client.MatchingFields{index.ClaimRouteNamespace: o.GetName()}); err != nil {
		return nil
	}
	seen := map[reconcile.Request]bool{}
	var reqs []reconcile.Request
	for i := range claims.Items {
		for _, req := range r.claimToPool(ctx, &claims.Items[i]) {
			if !seen[req] {
				seen[req] = true
				reqs = append(reqs, req)
			}
		}
	}
	return reqs
}
