package gatewaypool

import (
	"context"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
)

// coalesceWindow is how long an event waits before it wakes its pool. One pool reconcile reads
// every claim of the pool, so waking it once per event would cost O(N) per event and O(N²) while
// N claims come up together; the workqueue keeps one pending entry per pool, so every event that
// arrives within the window rides on the same reconcile (like a group commit).
const coalesceWindow = 100 * time.Millisecond

// coalesced enqueues the requests mapFn returns after coalesceWindow, for the old and the new
// object of an update (a claim that moved zones wakes both pools).
func coalesced(mapFn handler.MapFunc) handler.EventHandler {
	add := func(ctx context.Context, o client.Object, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
		for _, req := range mapFn(ctx, o) {
			q.AddAfter(req, coalesceWindow)
		}
	}
	return handler.Funcs{
		CreateFunc: func(ctx context.Context, e event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			add(ctx, e.Object, q)
		},
		UpdateFunc: func(ctx context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			add(ctx, e.ObjectOld, q)
			add(ctx, e.ObjectNew, q)
		},
		DeleteFunc: func(ctx context.Context, e event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			add(ctx, e.Object, q)
		},
		GenericFunc: func(ctx context.Context, e event.GenericEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			add(ctx, e.Object, q)
		},
	}
}

// claimInputs is what the pool's plan reads of a claim. Other reconcilers write a claim's status
// many times on its way to Ready, and the pool's own writes come back as events too; only a
// change here can change the plan.
type claimInputs struct {
	generation        int64
	hostname, ns      string
	zone, arn         string
	deleting, claimed bool
	issued, bound     bool
	// For a claim being deleted only: whether its ALIAS records are gone (see released).
	released bool
	// counted is the status of each of CountedConditions, which the pool's status counts.
	counted string
}

func inputsOf(c *v1alpha1.DomainClaim) claimInputs {
	in := claimInputs{generation: c.Generation, hostname: c.Spec.Hostname, ns: c.Spec.Namespace, zone: c.Status.ManagedZone,
		arn: c.Status.CertificateARN, deleting: !c.DeletionTimestamp.IsZero(),
		claimed: meta.IsStatusConditionTrue(c.Status.Conditions, v1alpha1.ConditionClaimed),
		issued:  meta.IsStatusConditionTrue(c.Status.Conditions, v1alpha1.ConditionCertificateIssued),
		bound:   v1alpha1.ProvisioningAllowed(c)}
	if in.deleting {
		in.released = released(c)
	}
	b := make([]byte, len(CountedConditions))
	for i, typ := range CountedConditions {
		b[i] = '?'
		if cond := meta.FindStatusCondition(c.Status.Conditions, typ); cond != nil {
			b[i] = cond.Status[0]
		}
	}
	in.counted = string(b)
	return in
}

// claimInputsChanged passes claim updates that change what the pool plans from.
var claimInputsChanged = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		old, ok1 := e.ObjectOld.(*v1alpha1.DomainClaim)
		cur, ok2 := e.ObjectNew.(*v1alpha1.DomainClaim)
		return !ok1 || !ok2 || inputsOf(old) != inputsOf(cur)
	},
}
