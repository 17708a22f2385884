package gatewaypool

import (
	"context"
	"fmt"
	"strings"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/conditions"
	"github.com/opendi/gateway-orchestrator/internal/index"
	"github.com/opendi/gateway-orchestrator/internal/lbc"
	"github.com/opendi/gateway-orchestrator/internal/ownlb"
)

// OwnTarget is whether a claim's users need a pool seat, or which load balancer of their own
// serves them (see ownlb.Decide), and for ownlb.Own that load balancer's canonical hosted zone
// ("" when ELBv2 knows no load balancer of that DNS name).
type OwnTarget struct {
	Decision ownlb.Decision
	Zone     string
	// DualStack says the load balancer has IPv6 addresses too (an AAAA record is due).
	DualStack bool
}

// needsNoSeat reports whether the claim's users bring their own load balancer.
func (t OwnTarget) needsNoSeat() bool { return t.Decision.Kind != ownlb.Pool }

// resolved reports whether the users' own load balancer is one an ALIAS can point at: Own, and
// known to ELBv2.
func (t OwnTarget) resolved() bool { return t.Decision.Kind == ownlb.Own && t.Zone != "" }

// givesSeatBack reports whether claim c, seated, may give its seat back: make before break. Its
// users bring their own load balancer, which is resolved, and reconciler/dns has confirmed the
// ALIAS there (status.aliasTarget); until then the seat's listener and certificate keep serving the name for
// clients that still resolve it to the pool's ALB (see planClaim).
func (t OwnTarget) givesSeatBack(c *v1alpha1.DomainClaim) bool {
	return t.resolved() && c.AliasPointsAt(t.Decision.Address)
}

// key is the target as the claim memo compares it.
func (t OwnTarget) key() string {
	return fmt.Sprintf("%d|%s|%s|%t|%s|%s|%t", t.Decision.Kind, t.Decision.Address, t.Zone, t.DualStack, strings.Join(t.Decision.Objects, ","),
		strings.Join(t.Decision.Refusals, "\n"), t.Decision.Missing)
}

// unknownRecheck is how long an address ELBv2 did not know is not looked up again: an Ingress of
// another controller may report an address that is no ALB or NLB of the account, and each pool
// reconcile would ask again.
const unknownRecheck = time.Minute

// poolNamespaces are the namespaces of every GatewayPool's Gateways: a Gateway there is a pool's,
// as admission sees it.
func (r *Reconciler) poolNamespaces(ctx context.Context) (map[string]bool, error) {
	var pools v1alpha1.GatewayPoolList
	if err := r.Client.List(ctx, &pools); err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(pools.Items))
	for _, p := range pools.Items {
		out[p.Spec.Namespace] = true
	}
	return out, nil
}

// isPoolGateway reports whether a Gateway is a pool's: in a pool's namespace. The pool label
// alone proves nothing (any tenant can set it on a Gateway of its own, see the webhook's
// isPoolGateway), and a pool's own Gateways carry it in their pool's namespace.
func isPoolGateway(gw *gwv1.Gateway, poolNS map[string]bool) bool {
	return poolNS[gw.Namespace]
}

// ownLoadBalancer decides whether claim c's users need a pool seat (see ownlb): its owner's
// routes (https, grpcs: those listing its hostname), and the Gateways that are not a pool's,
// ListenerSets (where served) of its namespace listing it (admission claims for a Gateway of any
// class), and its Ingresses listing it that LBC serves (admission never claims for another
// class's Ingress, and LBC gives it no load balancer). A claim being deleted
// keeps what it has.
func (r *Reconciler) ownLoadBalancer(ctx context.Context, c *v1alpha1.DomainClaim, https []gwv1.HTTPRoute, grpcs []gwv1.GRPCRoute,
	claimNames, poolNS map[string]bool) (OwnTarget, error) {
	if !c.DeletionTimestamp.IsZero() {
		return OwnTarget{}, nil
	}
	var lookupErr error
	lookup := func(ns, name string) (bool, *gwv1.Gateway) {
		if poolNS[ns] {
			return true, nil
		}
		gw := &gwv1.Gateway{}
		if err := r.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, gw); err != nil {
			if !apierrors.IsNotFound(err) {
				lookupErr = err
			}
			return false, nil
		}
		return isPoolGateway(gw, poolNS), gw
	}
	var listenerSets ownlb.ListenerSetLookup
	if r.ListenerSets {
		listenerSets = func(ns, name string) *gwv1.ListenerSet {
			ls := &gwv1.ListenerSet{}
			if err := r.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, ls); err != nil {
				if !apierrors.IsNotFound(err) {
					lookupErr = err
				}
				return nil
			}
			if !ls.DeletionTimestamp.IsZero() {
				return nil
			}
			return ls
		}
	}
	var users []ownlb.User
	for i := range https {
		rt := &https[i]
		if rt.Namespace == c.Spec.Namespace && rt.DeletionTimestamp.IsZero() && hostnamesOf(c, rt.Spec.Hostnames, claimNames) > 0 {
			users = append(users, ownlb.RouteUser(ownlb.Route{Kind: "HTTPRoute", Namespace: rt.Namespace, Name: rt.Name,
				Parents: rt.Spec.ParentRefs, Status: rt.Status.Parents}, lookup, listenerSets))
		}
	}
	for i := range grpcs {
		rt := &grpcs[i]
		if rt.Namespace == c.Spec.Namespace && rt.DeletionTimestamp.IsZero() && hostnamesOf(c, rt.Spec.Hostnames, claimNames) > 0 {
			users = append(users, ownlb.RouteUser(ownlb.Route{Kind: "GRPCRoute", Namespace: rt.Namespace, Name: rt.Name,
				Parents: rt.Spec.ParentRefs, Status: rt.Status.Parents}, lookup, listenerSets))
		}
	}
	if lookupErr != nil {
		return OwnTarget{}, lookupErr
	}
	in := []client.ListOption{client.InNamespace(c.Spec.Namespace), client.MatchingFields{index.RouteHostname: c.Spec.Hostname}, client.UnsafeDisableDeepCopy}
	var gws gwv1.GatewayList
	if err := r.Client.List(ctx, &gws, in...); err != nil {
		return OwnTarget{}, err
	}
	for i := range gws.Items {
		gw := &gws.Items[i]
		if gw.DeletionTimestamp.IsZero() && !isPoolGateway(gw, poolNS) && hostnamesOf(c, asHostnames(index.Hostnames(gw)), claimNames) > 0 {
			users = append(users, ownlb.GatewayUser(gw))
		}
	}
	if r.ListenerSets {
		var lss gwv1.ListenerSetList
		if err := r.Client.List(ctx, &lss, in...); err != nil {
			return OwnTarget{}, err
		}
		for i := range lss.Items {
			ls := &lss.Items[i]
			if !ls.DeletionTimestamp.IsZero() || hostnamesOf(c, asHostnames(index.Hostnames(ls)), claimNames) == 0 {
				continue
			}
			if u, ok := ownlb.ListenerSetUser(ls, lookup); ok {
				users = append(users, u)
			}
		}
		if lookupErr != nil {
			return OwnTarget{}, lookupErr
		}
	}
	var ings networkingv1.IngressList
	if err := r.Client.List(ctx, &ings, in...); err != nil {
		return OwnTarget{}, err
	}
	for i := range ings.Items {
		ing := &ings.Items[i]
		if !ing.DeletionTimestamp.IsZero() || hostnamesOf(c, asHostnames(index.Hostnames(ing)), claimNames) == 0 {
			continue
		}
		if lbcs, err := lbc.ServesIngress(ctx, r.Client, ing); err != nil || !lbcs {
			if err != nil {
				return OwnTarget{}, err
			}
			continue
		}
		users = append(users, ownlb.IngressUser(ing))
	}
	t := OwnTarget{Decision: ownlb.Decide(users)}
	if t.Decision.Kind == ownlb.Own {
		lb, err := r.hostedZone(ctx, t.Decision.Address, unknownRecheck)
		if err != nil {
			return OwnTarget{}, err
		}
		t.Zone, t.DualStack = lb.zone, lb.dualStack
	}
	return t, nil
}

func asHostnames(raw []string) []gwv1.Hostname {
	out := make([]gwv1.Hostname, len(raw))
	for i, h := range raw {
		out[i] = gwv1.Hostname(h)
	}
	return out
}

// ownStatus sets the pool's part of the status of a claim whose users bring their own load
// balancer: no seat, the load balancer's address and zone once known, and the pool's conditions
// saying so. The certificate is found by LBC by hostname (an own Gateway or Ingress names none),
// and the own Gateway or Ingress decides which routes it serves.
func ownStatus(c *v1alpha1.DomainClaim, st *v1alpha1.DomainClaimStatus, t OwnTarget) *v1alpha1.DomainClaimStatus {
	set := func(typ string, ok bool, reason, msg string) {
		conditions.Set(&st.Conditions, c.Generation, typ, ok, reason, msg)
	}
	d, h := t.Decision, c.Spec.Hostname
	st.Gateway = nil
	st.LoadBalancerHostname, st.LoadBalancerZoneID, st.DualStack = "", "", false
	if d.Kind == ownlb.Waiting && d.Missing {
		// Nothing serves the name until the object is created: said as a failure, not a wait,
		// so that reconciler/dns takes the ALIAS off the load balancer that served it.
		set(v1alpha1.ConditionGatewayAssigned, false, v1alpha1.ReasonLoadBalancerNotFound, d.Message(h))
		for _, typ := range []string{v1alpha1.ConditionCertificateAttached, v1alpha1.ConditionLoadBalancerReady, v1alpha1.ConditionRoutesAllowed} {
			set(typ, false, v1alpha1.ReasonLoadBalancerNotFound, "no load balancer serves "+h+" (see GatewayAssigned)")
		}
		return st
	}
	objects := strings.Join(d.Objects, ", ")
	set(v1alpha1.ConditionGatewayAssigned, true, v1alpha1.ReasonOwnLoadBalancer, "no pool seat: "+h+" is used by objects with a load balancer of their own ("+objects+")")
	refused := strings.Join(d.Refusals, "; ")
	switch {
	case d.Kind == ownlb.Own && refused != "":
		// LBC's verdict, as for a pool Gateway (setRefused): LoadBalancerReady says it below.
		set(v1alpha1.ConditionCertificateAttached, false, v1alpha1.ReasonNotAccepted, refused)
	case issued(c):
		set(v1alpha1.ConditionCertificateAttached, true, v1alpha1.ReasonOwnLoadBalancer,
			"the AWS Load Balancer Controller finds the issued certificate by hostname for the load balancer of "+objects)
	default:
		set(v1alpha1.ConditionCertificateAttached, false, v1alpha1.ReasonPending,
			"waiting for the certificate to be issued; the AWS Load Balancer Controller then finds it by hostname")
	}
	switch {
	case d.Kind == ownlb.Own && t.Zone != "":
		st.LoadBalancerHostname, st.LoadBalancerZoneID, st.DualStack = d.Address, t.Zone, t.DualStack
		if refused != "" {
			set(v1alpha1.ConditionLoadBalancerReady, false, v1alpha1.ReasonNotAccepted, refused)
		} else {
			set(v1alpha1.ConditionLoadBalancerReady, true, v1alpha1.ReasonProgrammed, d.Message(h))
		}
	case d.Kind == ownlb.Own:
		set(v1alpha1.ConditionLoadBalancerReady, false, v1alpha1.ReasonUnknownLoadBalancer, ownPending(t, h))
	case d.Kind == ownlb.Waiting:
		set(v1alpha1.ConditionLoadBalancerReady, false, v1alpha1.ReasonWaitingForOwnLoadBalancer, ownPending(t, h))
	default:
		set(v1alpha1.ConditionLoadBalancerReady, false, v1alpha1.ReasonAmbiguousLoadBalancers, ownPending(t, h))
	}
	set(v1alpha1.ConditionRoutesAllowed, true, v1alpha1.ReasonOwnLoadBalancer, "no pool listener: the objects with their own load balancer ("+objects+") decide which routes serve "+h)
	return st
}

// ownPending says why no ALIAS can point at the users' own load balancer of a target that is not
// resolved.
func ownPending(t OwnTarget, h string) string {
	d := t.Decision
	if d.Kind == ownlb.Own {
		return fmt.Sprintf("%s, the load balancer address of %s, is no load balancer of this account in ELBv2 (DescribeLoadBalancers): no ALIAS record can point at it",
			d.Address, strings.Join(d.Objects, ", "))
	}
	return d.Message(h)
}

// ownLoadBalancerChanged passes the events of Gateways that are not a pool's, ListenerSets and
// Ingresses that can change a claim's own load balancer: creation, deletion, a spec change, or a new
// address or verdict.
var ownLoadBalancerChanged = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		if e.ObjectNew.GetGeneration() != e.ObjectOld.GetGeneration() || e.ObjectOld.GetDeletionTimestamp().IsZero() != e.ObjectNew.GetDeletionTimestamp().IsZero() {
			return true
		}
		switch cur := e.ObjectNew.(type) {
		case *gwv1.Gateway:
			return lbcVerdictChanged(e.ObjectOld, e.ObjectNew) // a pool's own are dropped in ownLoadBalancerToPools
		case *networkingv1.Ingress:
			old, ok := e.ObjectOld.(*networkingv1.Ingress)
			return !ok || ownlb.IngressAddress(old) != ownlb.IngressAddress(cur)
		case *gwv1.ListenerSet:
			// Its load balancer is its parent Gateway's; its verdict decides whether a Gateway of
			// another namespace counts (see ownlb.ListenerSetUser).
			old, ok := e.ObjectOld.(*gwv1.ListenerSet)
			return !ok || ownlb.ListenerSetAccepted(old) != ownlb.ListenerSetAccepted(cur)
		}
		return false
	},
}

// routeInputsChanged passes the route events that can change a claim's plan: creation, deletion,
// a spec change, or a change of the parents LBC reports it Accepted on (a Gateway of another
// namespace counts once it accepts the route, see ownlb.RouteUser).
var routeInputsChanged = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		if e.ObjectNew.GetGeneration() != e.ObjectOld.GetGeneration() {
			return true
		}
		return lbcAccepted(e.ObjectOld) != lbcAccepted(e.ObjectNew)
	},
}

func lbcAccepted(o client.Object) string {
	switch rt := o.(type) {
	case *gwv1.HTTPRoute:
		return ownlb.AcceptedByLBC(rt.Status.Parents)
	case *gwv1.GRPCRoute:
		return ownlb.AcceptedByLBC(rt.Status.Parents)
	}
	return ""
}

// ownLoadBalancerToPools drops what the pools remember of the hostnames a Gateway that is not a
// pool's, or an Ingress, lists, and maps it to every pool and every zone without one: a route
// elsewhere may name the Gateway as its parent, and such objects change rarely.
func (r *Reconciler) ownLoadBalancerToPools(ctx context.Context, o client.Object) []reconcile.Request {
	var pools v1alpha1.GatewayPoolList
	if err := r.Client.List(ctx, &pools); err != nil {
		return nil
	}
	if _, ok := o.(*gwv1.Gateway); ok {
		for _, p := range pools.Items {
			if p.Spec.Namespace == o.GetNamespace() {
				return nil // a pool's own Gateway is watched with its pool (a tenant's pool label proves nothing)
			}
		}
	}
	r.memos.routesChanged(index.RouteKeys(o))
	reqs := r.zonesWithoutPool(ctx, pools.Items)
	for _, p := range pools.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKey{Name: p.Name}})
	}
	return reqs
}
