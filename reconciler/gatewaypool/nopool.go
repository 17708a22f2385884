package gatewaypool

import (
	"context"
	"fmt"
	"strings"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/claimstatus"
	"github.com/opendi/gateway-orchestrator/internal/conditions"
	"github.com/opendi/gateway-orchestrator/internal/index"
)

// Claims of a ManagedZone without a GatewayPool (no spec.gatewayPoolRef) are planned by this
// reconciler too, under a work-queue key of their own per zone: there are no seats, Gateways or
// LBC configurations to plan, only the users' own load balancers (ownLoadBalancer, ownStatus),
// and a claim no own load balancer serves says that the zone has no pool. The Pool owner's slice
// of a claim's status thus keeps one writer: the zone's key writes it while the zone has no pool
// and stops as soon as the zone names one, whose reconcile writes it from then on.

// noPoolNamespace is the namespace of the work-queue key of a zone without a pool (its name is
// the zone's). GatewayPools are cluster-scoped, so a pool's key has no namespace and the two
// never meet.
const noPoolNamespace = "managedzone-without-pool"

// noPoolKey is the work-queue key of zone z's claims while z has no pool.
func noPoolKey(zone string) reconcile.Request {
	return reconcile.Request{NamespacedName: client.ObjectKey{Namespace: noPoolNamespace, Name: zone}}
}

// paceKey is the name a key is paced by (see pacer): a pool's name, or the zone's key.
func paceKey(req reconcile.Request) string {
	if req.Namespace == "" {
		return req.Name
	}
	return req.Namespace + "/" + req.Name
}

// zoneToKey maps a ManagedZone to the key that plans its claims: its pool's, or its own while it
// has none. An update maps the old and the new zone (see coalesced), so a zone that gains or
// loses its pool wakes both writers: the one that stops and the one that takes over.
func zoneToKey(_ context.Context, o client.Object) []reconcile.Request {
	z := o.(*v1alpha1.ManagedZone)
	if z.Spec.GatewayPoolRef == nil {
		return []reconcile.Request{noPoolKey(z.Name)}
	}
	return []reconcile.Request{{NamespacedName: client.ObjectKey{Name: z.Spec.GatewayPoolRef.Name}}}
}

// zonesWithoutPool are the keys of every zone without a pool, and those of the pools that zones
// name but that are not among pools (they do not exist: see reconcileMissingPool).
func (r *Reconciler) zonesWithoutPool(ctx context.Context, pools []v1alpha1.GatewayPool) []reconcile.Request {
	var zones v1alpha1.ManagedZoneList
	if err := r.Client.List(ctx, &zones); err != nil {
		return nil
	}
	exists := make(map[string]bool, len(pools))
	for i := range pools {
		exists[pools[i].Name] = true
	}
	var out []reconcile.Request
	for i := range zones.Items {
		ref := zones.Items[i].Spec.GatewayPoolRef
		switch {
		case ref == nil:
			out = append(out, noPoolKey(zones.Items[i].Name))
		case !exists[ref.Name]:
			exists[ref.Name] = true // once
			out = append(out, reconcile.Request{NamespacedName: client.ObjectKey{Name: ref.Name}})
		}
	}
	return out
}

// reconcileZone plans the claims of a zone without a pool: each claim's users' own load balancer,
// or GatewayAssigned=False/NoGatewayPool. A zone that names a pool is left to the pool.
func (r *Reconciler) reconcileZone(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	z := &v1alpha1.ManagedZone{}
	if err := r.Client.Get(ctx, client.ObjectKey{Name: req.Name}, z); err != nil {
		r.pace.forget(paceKey(req))
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if z.Spec.GatewayPoolRef != nil {
		r.pace.forget(paceKey(req))
		return reconcile.Result{}, nil // the pool plans them (see claimsOf)
	}
	return r.planWithoutPool(ctx, req, []*v1alpha1.ManagedZone{z}, "")
}

// reconcileMissingPool plans, under the key of GatewayPool req.Name, which does not exist, the
// claims of the zones that name it as those of zones without a pool, whose
// GatewayAssigned=False/GatewayPoolNotFound names the pool. The key is the pool's own, so once the
// pool is created its reconcile takes the claims over on the same key: one writer, no flapping.
func (r *Reconciler) reconcileMissingPool(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	var l v1alpha1.ManagedZoneList
	if err := r.Client.List(ctx, &l); err != nil {
		return reconcile.Result{}, err
	}
	var zones []*v1alpha1.ManagedZone
	for i := range l.Items {
		if ref := l.Items[i].Spec.GatewayPoolRef; ref != nil && ref.Name == req.Name {
			zones = append(zones, &l.Items[i])
		}
	}
	if len(zones) == 0 {
		r.pace.forget(paceKey(req))
		return reconcile.Result{}, nil
	}
	return r.planWithoutPool(ctx, req, zones, req.Name)
}

// planWithoutPool plans the claims of zones, which have no pool (missingPool names the pool they
// name that does not exist; "" for none), and writes what changed.
func (r *Reconciler) planWithoutPool(ctx context.Context, req reconcile.Request, zones []*v1alpha1.ManagedZone, missingPool string) (reconcile.Result, error) {
	poolNS, err := r.poolNamespaces(ctx)
	if err != nil {
		return reconcile.Result{}, err
	}
	var changes []ClaimChange
	claims := 0
	for _, z := range zones {
		var l v1alpha1.DomainClaimList
		if err := r.Client.List(ctx, &l, client.MatchingFields{index.ClaimZone: z.Name}, client.UnsafeDisableDeepCopy); err != nil {
			return reconcile.Result{}, err
		}
		claims += len(l.Items)
		claimNames := make(map[string]bool, len(l.Items))
		for i := range l.Items {
			claimNames[l.Items[i].Name] = true
		}
		for i := range l.Items {
			c := &l.Items[i]
			if !claimed(c) {
				continue // as in a pool: a claim being deleted, or not owned, keeps what it has
			}
			cs, _, _, err := r.lookUpClaim(ctx, c, claimNames, poolNS)
			if err != nil {
				return reconcile.Result{}, err
			}
			if st := noPoolStatus(z.Name, missingPool, cs); !poolSliceEqual(st, &c.Status) {
				changes = append(changes, ClaimChange{Claim: c, Status: *st})
			}
		}
	}
	defer func() { r.pace.done(paceKey(req), claims, time.Now()) }()
	ctx, kept := claimstatus.WithHeld(ctx)
	more, err := r.applyUnheldClaims(ctx, changes)
	if err != nil {
		return reconcile.Result{}, err
	}
	if more {
		return reconcile.Result{RequeueAfter: coalesceWindow}, nil
	}
	return reconcile.Result{RequeueAfter: kept.Wait()}, nil
}

// noPoolStatus is the pool's slice of the status of claim cs in zone, which has no pool: the
// users' own load balancer as in a pool (ownStatus), or, when none serves the hostname, no load
// balancer and GatewayAssigned=False/NoGatewayPool saying what to do (GatewayPoolNotFound when
// the zone names missingPool, which does not exist); the load balancer's steps after it say the
// same reason, so Ready names GatewayAssigned.
func noPoolStatus(zone, missingPool string, cs ClaimState) *v1alpha1.DomainClaimStatus {
	c := cs.Claim
	st := c.Status.DeepCopy()
	if cs.Own.needsNoSeat() && v1alpha1.ProvisioningAllowed(c) {
		st = ownStatus(c, st, cs.Own)
		setStrays(st, c, cs.Strays)
		return st
	}
	st.Gateway = nil
	st.LoadBalancerHostname, st.LoadBalancerZoneID, st.DualStack = "", "", false
	set := func(typ string, reason, msg string) {
		conditions.Set(&st.Conditions, c.Generation, typ, false, reason, msg)
	}
	reason, msg := v1alpha1.ReasonNoGatewayPool, NoGatewayPoolMessage(zone, c.Spec.Hostname, cs.Own.Decision.Objects)
	if missingPool != "" {
		reason, msg = v1alpha1.ReasonGatewayPoolNotFound, GatewayPoolNotFoundMessage(zone, missingPool, c.Spec.Hostname, cs.Own.Decision.Objects)
	}
	if !v1alpha1.ProvisioningAllowed(c) {
		reason, msg = v1alpha1.ReasonUnbound, "waiting for the claim to be bound (see Bound): an unbound claim gets no load balancer"
	}
	set(v1alpha1.ConditionGatewayAssigned, reason, msg)
	after := "no load balancer serves " + c.Spec.Hostname + " (see GatewayAssigned)"
	for _, typ := range []string{v1alpha1.ConditionCertificateAttached, v1alpha1.ConditionLoadBalancerReady, v1alpha1.ConditionRoutesAllowed} {
		set(typ, reason, after)
	}
	setStrays(st, c, cs.Strays)
	return st
}

// NoGatewayPoolMessage says why no load balancer serves hostname h of zone, which has no
// GatewayPool, and what to do; objects are those with a load balancer of their own that use h
// too (beside a route that needs a pool seat).
func NoGatewayPoolMessage(zone, h string, objects []string) string {
	msg := fmt.Sprintf("ManagedZone %s has no GatewayPool, so no shared load balancer serves %s: serve it from your own Gateway or Ingress "+
		"(a route's parentRefs naming your Gateway), or ask an administrator to set spec.gatewayPoolRef on ManagedZone %s", zone, h, zone)
	return msg + ownObjectsNote(h, objects)
}

// GatewayPoolNotFoundMessage says why no load balancer serves hostname h of zone, whose
// spec.gatewayPoolRef names pool, which does not exist, and what to do; objects as for
// NoGatewayPoolMessage.
func GatewayPoolNotFoundMessage(zone, pool, h string, objects []string) string {
	msg := fmt.Sprintf("ManagedZone %s names GatewayPool %s in spec.gatewayPoolRef, but no GatewayPool %s exists, so no shared load balancer serves %s: "+
		"ask an administrator to create GatewayPool %s or to correct spec.gatewayPoolRef of ManagedZone %s; until then serve it from your own Gateway or Ingress "+
		"(a route's parentRefs naming your Gateway)", zone, pool, pool, h, pool, zone)
	return msg + ownObjectsNote(h, objects)
}

// ownObjectsNote names the objects with a load balancer of their own that use h beside a route
// that needs a pool seat ("" for none).
func ownObjectsNote(h string, objects []string) string {
	if len(objects) == 0 {
		return ""
	}
	return fmt.Sprintf("; %s use %s with a load balancer of their own, but a route without a parentRef to one of them needs a pool seat",
		strings.Join(objects, ", "), h)
}
