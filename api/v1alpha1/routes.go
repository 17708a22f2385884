package v1alpha1

import (
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// AnnotationAutoAttach marks an HTTPRoute or GRPCRoute that the orchestrator attaches to the
// Gateways its hostnames are seated on. The routes reconciler sets it, in the same write as the
// first parentRef, on a route created without parentRefs whose hostnames its namespace owns; a
// route carrying any other value (for example "false") is left alone.
const AnnotationAutoAttach = "gateway.opendi.com/auto-attach"

// AnnotationAttachedTo records, on a route the orchestrator attaches automatically, the pool
// Gateways whose parentRefs it added ("namespace/name", comma-separated, sorted). Only these
// parentRefs are ever removed again, when the route's hostnames are no longer seated there; the
// parentRefs a user wrote are never touched.
const AnnotationAttachedTo = "gateway.opendi.com/attached-to"

// ParentRef is the parentRef of a route attached to a pool Gateway. It names no section: each
// hostname has its own listener there, and the route attaches to every listener that admits its
// namespace and whose hostname intersects its own, so it follows its hostnames' listeners as
// claims come and go.
func ParentRef(gw ObjectRef) gwv1.ParentReference {
	return gwv1.ParentReference{
		Group:     ptr.To(gwv1.Group(gwv1.GroupName)),
		Kind:      ptr.To(gwv1.Kind("Gateway")),
		Namespace: ptr.To(gwv1.Namespace(gw.Namespace)),
		Name:      gwv1.ObjectName(gw.Name),
	}
}

// HasParent reports whether parentRefs of a route in namespace ns already name Gateway gw (a
// parentRef without a namespace means the route's own).
func HasParent(ns string, refs []gwv1.ParentReference, gw ObjectRef) bool {
	for _, p := range refs {
		if IsGatewayRef(p) && ParentKey(ns, p) == gw {
			return true
		}
	}
	return false
}

// IsGatewayRef reports whether a parentRef names a Gateway (the default kind) rather than another
// parent kind such as a Service or a ListenerSet. The group is not looked at: LBC attaches a
// route by a parentRef's kind, name and namespace alone, so a parentRef with any group (""
// included) and kind Gateway attaches the route to that Gateway.
func IsGatewayRef(p gwv1.ParentReference) bool {
	return p.Kind == nil || *p.Kind == "Gateway"
}

// ParentKey is the Gateway a parentRef of a route in namespace ns names.
func ParentKey(ns string, p gwv1.ParentReference) ObjectRef {
	if p.Namespace != nil {
		ns = string(*p.Namespace)
	}
	return ObjectRef{Namespace: ns, Name: string(p.Name)}
}

// OwnedBy reports whether the claim makes namespace ns the owner of its hostname now: it is ns's,
// not being deleted, and not marked the loser of an overlap (Claimed=False).
func (c *DomainClaim) OwnedBy(ns string) bool {
	if c == nil || c.Spec.Namespace != ns || !c.DeletionTimestamp.IsZero() {
		return false
	}
	cond := meta.FindStatusCondition(c.Status.Conditions, ConditionClaimed)
	return cond == nil || cond.Status != metav1.ConditionFalse
}

// SeatFor is the Gateway the claim is seated on for namespace ns's routes (status.gateway with
// GatewayAssigned=True, on a claim ns owns), or nil.
func (c *DomainClaim) SeatFor(ns string) *ObjectRef {
	if !c.OwnedBy(ns) || c.Status.Gateway == nil || !meta.IsStatusConditionTrue(c.Status.Conditions, ConditionGatewayAssigned) {
		return nil
	}
	return c.Status.Gateway
}
