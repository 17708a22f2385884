package ownlb

import (
	"fmt"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/internal/lbc"
)

// GatewayLookup answers, for a Gateway a parentRef names, whether it is a pool Gateway, and the
// Gateway (nil when it does not exist).
type GatewayLookup func(namespace, name string) (pool bool, gw *gwv1.Gateway)

// loadBalancerOf is Gateway ns/name's load balancer as a LoadBalancer: its address and LBC's
// verdict (none for a Gateway that does not exist).
func loadBalancerOf(ns, name string, gw *gwv1.Gateway) LoadBalancer {
	lb := LoadBalancer{Object: "Gateway " + ns + "/" + name, Missing: gw == nil}
	if gw != nil {
		lb.Address, lb.Refusal = GatewayAddress(gw), Refusal(gw)
	}
	return lb
}

// Refusal is LBC's verdict on a Gateway it could not deploy: Accepted=False for the current
// generation (Programmed may stay True, the ALB keeping its last good state), as its message; ""
// when it accepts it.
func Refusal(gw *gwv1.Gateway) string {
	c := meta.FindStatusCondition(gw.Status.Conditions, string(gwv1.GatewayConditionAccepted))
	if c == nil || c.Status != metav1.ConditionFalse || c.ObservedGeneration != gw.Generation {
		return ""
	}
	return fmt.Sprintf("the AWS Load Balancer Controller does not accept Gateway %s (%s): %s", gw.Name, c.Reason, c.Message)
}

// ListenerSetLookup returns the ListenerSet a parentRef names (nil when it does not exist or
// ListenerSets are not served).
type ListenerSetLookup func(namespace, name string) *gwv1.ListenerSet

// Route is an HTTPRoute or GRPCRoute as RouteUser reads it.
type Route struct {
	// Kind is HTTPRoute or GRPCRoute.
	Kind, Namespace, Name string
	Parents               []gwv1.ParentReference
	// Status is its status.parents.
	Status []gwv1.RouteParentStatus
}

// RouteUser is an HTTPRoute or GRPCRoute of the owning namespace as a User: Pool when it has no
// parentRefs (the routes reconciler attaches it to the hostname's seat) or one of them names a
// pool Gateway, whoever wrote it; otherwise served by the Gateways it names, directly or through
// a ListenerSet (its parent Gateway). A route the orchestrator attaches automatically
// (v1alpha1.AnnotationAutoAttach) keeps a parentRef to its seat, so it stays a pool user until its
// owner opts it out ("false") and removes that parentRef.
//
// A parent in another namespace is another team's: its Gateway decides (allowedRoutes) whether
// it admits the route, and a typo'd or stale parentRef must not point the hostname at a load
// balancer that team controls. Such a parent counts only once LBC reports the route Accepted
// there (status.parents); until then it is waited for, so no ALIAS is written (an ALIAS to the
// pool would be as wrong, the route not being there).
func RouteUser(rt Route, gateways GatewayLookup, listenerSets ListenerSetLookup) User {
	u := User{Object: rt.Kind + " " + rt.Namespace + "/" + rt.Name}
	if len(rt.Parents) == 0 {
		u.Pool = true
		return u
	}
	for _, p := range rt.Parents {
		// LBC attaches a route to a Gateway by kind, name and namespace, whatever the group.
		if p.Group != nil && *p.Group != gwv1.GroupName && p.Kind != nil && *p.Kind != "Gateway" {
			continue
		}
		ns := rt.Namespace
		if p.Namespace != nil {
			ns = string(*p.Namespace)
		}
		gwNS, gwName := ns, string(p.Name)
		switch {
		case p.Kind == nil || *p.Kind == "Gateway":
		case *p.Kind == "ListenerSet":
			ls := (*gwv1.ListenerSet)(nil)
			if listenerSets != nil {
				ls = listenerSets(ns, string(p.Name))
			}
			if ls == nil {
				continue // no ListenerSet: the route is attached nowhere through it
			}
			gwNS, gwName = parentGateway(ls)
			if gwNS == "" {
				continue
			}
		default:
			continue
		}
		pool, gw := gateways(gwNS, gwName)
		if pool {
			if p.Kind == nil || *p.Kind == "Gateway" {
				u.Pool = true
			}
			continue // a pool Gateway admits no ListenerSet
		}
		lb := loadBalancerOf(gwNS, gwName, gw)
		if ns != rt.Namespace && !acceptedByLBC(rt.Status, p, rt.Namespace) {
			lb.Address, lb.Refusal = "", ""
			lb.Pending = fmt.Sprintf("%s is in namespace %s: it counts once the AWS Load Balancer Controller reports %s Accepted there", describe(p, ns), ns, u.Object)
		}
		u.LoadBalancers = append(u.LoadBalancers, lb)
	}
	return u
}

// describe names the object a parentRef names: "Gateway ns/name" or "ListenerSet ns/name".
func describe(p gwv1.ParentReference, ns string) string {
	kind := "Gateway"
	if p.Kind != nil {
		kind = string(*p.Kind)
	}
	return kind + " " + ns + "/" + string(p.Name)
}

// parentGateway is the Gateway a ListenerSet attaches to ("" when its parentRef names another
// kind).
func parentGateway(ls *gwv1.ListenerSet) (ns, name string) {
	p := ls.Spec.ParentRef
	if p.Kind != nil && *p.Kind != "Gateway" || p.Group != nil && *p.Group != gwv1.GroupName {
		return "", ""
	}
	ns = ls.Namespace
	if p.Namespace != nil {
		ns = string(*p.Namespace)
	}
	return ns, string(p.Name)
}

// acceptedByLBC reports whether a route's status.parents holds LBC's entry for parentRef p with
// Accepted=True.
func acceptedByLBC(status []gwv1.RouteParentStatus, p gwv1.ParentReference, routeNS string) bool {
	for _, s := range status {
		if s.ControllerName == lbc.ControllerName && sameParent(s.ParentRef, p, routeNS) &&
			meta.IsStatusConditionTrue(s.Conditions, string(gwv1.RouteConditionAccepted)) {
			return true
		}
	}
	return false
}

// AcceptedByLBC lists the parents LBC reports a route Accepted on (its status.parents entries
// with Accepted=True), as a key: a change of it can change the route's load balancer.
func AcceptedByLBC(status []gwv1.RouteParentStatus) string {
	var b strings.Builder
	for _, s := range status {
		if s.ControllerName == lbc.ControllerName && meta.IsStatusConditionTrue(s.Conditions, string(gwv1.RouteConditionAccepted)) {
			fmt.Fprintf(&b, "%s;", parentKey(s.ParentRef, ""))
		}
	}
	return b.String()
}

// ListenerSetAccepted is a ListenerSet's Accepted verdict as a key (status and generation).
func ListenerSetAccepted(ls *gwv1.ListenerSet) string {
	c := meta.FindStatusCondition(ls.Status.Conditions, string(gwv1.ListenerSetConditionAccepted))
	if c == nil {
		return ""
	}
	return fmt.Sprintf("%s/%d", c.Status, c.ObservedGeneration)
}

// sameParent reports whether two parentRefs of a route in namespace routeNS name the same parent,
// with Gateway API's defaults spelled out.
func sameParent(a, b gwv1.ParentReference, routeNS string) bool {
	return parentKey(a, routeNS) == parentKey(b, routeNS)
}

// parentKey is a parentRef of a route in namespace routeNS with Gateway API's defaults spelled out.
func parentKey(p gwv1.ParentReference, routeNS string) string {
	str := func(p *string, def string) string {
		if p == nil || *p == "" {
			return def
		}
		return *p
	}
	return fmt.Sprintf("%s|%s|%s|%s|%s|%d", str((*string)(p.Group), gwv1.GroupName), str((*string)(p.Kind), "Gateway"),
		str((*string)(p.Namespace), routeNS), p.Name, str((*string)(p.SectionName), ""), ptrOr(p.Port))
}

func ptrOr(p *gwv1.PortNumber) gwv1.PortNumber {
	if p == nil {
		return 0
	}
	return *p
}

// GatewayUser is a Gateway that is not a pool's, listing the hostname on a listener: its own load
// balancer serves it.
func GatewayUser(gw *gwv1.Gateway) User {
	return User{Object: "Gateway " + gw.Namespace + "/" + gw.Name, LoadBalancers: []LoadBalancer{loadBalancerOf(gw.Namespace, gw.Name, gw)}}
}

// ListenerSetUser is a ListenerSet listing the hostname: the load balancer of the Gateway it
// attaches to serves it. A ListenerSet on a pool Gateway (which admits none) is no user: ok is
// false. A parent Gateway in another namespace is another team's (its allowedListeners decide):
// it counts only once the ListenerSet is Accepted for its generation, as for a route.
func ListenerSetUser(ls *gwv1.ListenerSet, lookup GatewayLookup) (u User, ok bool) {
	ns, name := parentGateway(ls)
	if ns == "" {
		return User{}, false
	}
	pool, gw := lookup(ns, name)
	if pool {
		return User{}, false
	}
	u = User{Object: "ListenerSet " + ls.Namespace + "/" + ls.Name}
	lb := loadBalancerOf(ns, name, gw)
	if c := meta.FindStatusCondition(ls.Status.Conditions, string(gwv1.ListenerSetConditionAccepted)); ns != ls.Namespace &&
		(c == nil || c.Status != metav1.ConditionTrue || c.ObservedGeneration != ls.Generation) {
		lb.Address, lb.Refusal = "", ""
		lb.Pending = fmt.Sprintf("Gateway %s/%s is in namespace %s: it counts once it accepts %s", ns, name, ns, u.Object)
	}
	u.LoadBalancers = []LoadBalancer{lb}
	return u, true
}

// IngressUser is an Ingress listing the hostname: LBC gives it a load balancer of its own (and
// another controller's Ingress is not served by a pool Gateway either).
func IngressUser(ing *networkingv1.Ingress) User {
	o := "Ingress " + ing.Namespace + "/" + ing.Name
	return User{Object: o, LoadBalancers: []LoadBalancer{{Object: o, Address: IngressAddress(ing)}}}
}

// GatewayAddress is the DNS name of a Gateway's load balancer once its controller has programmed
// it (Programmed=True and an address of type Hostname); "" before.
func GatewayAddress(gw *gwv1.Gateway) string {
	if !meta.IsStatusConditionTrue(gw.Status.Conditions, string(gwv1.GatewayConditionProgrammed)) {
		return ""
	}
	for _, a := range gw.Status.Addresses {
		if a.Type != nil && *a.Type == gwv1.HostnameAddressType && a.Value != "" {
			return a.Value
		}
	}
	return ""
}

// IngressAddress is the DNS name of an Ingress's load balancer
// (status.loadBalancer.ingress[].hostname, the first); "" before its controller wrote one.
func IngressAddress(ing *networkingv1.Ingress) string {
	for _, i := range ing.Status.LoadBalancer.Ingress {
		if i.Hostname != "" {
			return i.Hostname
		}
	}
	return ""
}
