package ownlb

import (
	"fmt"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// GatewayLookup answers, for a Gateway a parentRef names, whether it is a pool Gateway, and the
// Gateway (nil when it does not exist).
type GatewayLookup func(namespace, name string) (pool bool, gw *gwv1.Gateway)

// loadBalancerOf is Gateway ns/name's load balancer as a LoadBalancer: its address and LBC's
// verdict (none for a Gateway that does not exist).
func loadBalancerOf(ns, name string, gw *gwv1.Gateway) LoadBalancer {
	lb := LoadBalancer{Object: "Gateway " + ns + "/" + name}
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

// RouteUser is an HTTPRoute or GRPCRoute of the owning namespace as a User: Pool when it has no
// parentRefs (the routes reconciler attaches it to the hostname's seat) or one of them names a
// pool Gateway, whoever wrote it; otherwise served by the Gateways it names. A route the
// orchestrator attaches automatically (v1alpha1.AnnotationAutoAttach) keeps a parentRef to its
// seat, so it stays a pool user until its owner opts it out ("false") and removes that parentRef.
// ParentRefs of other kinds (a ListenerSet) name no load balancer here.
func RouteUser(kind, namespace, name string, parents []gwv1.ParentReference, lookup GatewayLookup) User {
	u := User{Object: kind + " " + namespace + "/" + name}
	if len(parents) == 0 {
		u.Pool = true
		return u
	}
	for _, p := range parents {
		if p.Kind != nil && *p.Kind != "Gateway" || p.Group != nil && *p.Group != gwv1.GroupName {
			continue
		}
		ns := namespace
		if p.Namespace != nil {
			ns = string(*p.Namespace)
		}
		pool, gw := lookup(ns, string(p.Name))
		if pool {
			u.Pool = true
			continue
		}
		u.LoadBalancers = append(u.LoadBalancers, loadBalancerOf(ns, string(p.Name), gw))
	}
	return u
}

// GatewayUser is a Gateway that is not a pool's, listing the hostname on a listener: its own load
// balancer serves it.
func GatewayUser(gw *gwv1.Gateway) User {
	return User{Object: "Gateway " + gw.Namespace + "/" + gw.Name, LoadBalancers: []LoadBalancer{loadBalancerOf(gw.Namespace, gw.Name, gw)}}
}

// ListenerSetUser is a ListenerSet listing the hostname: the load balancer of the Gateway it
// attaches to serves it. A ListenerSet on a pool Gateway (which admits none) is no user: ok is
// false.
func ListenerSetUser(ls *gwv1.ListenerSet, lookup GatewayLookup) (u User, ok bool) {
	p := ls.Spec.ParentRef
	if p.Kind != nil && *p.Kind != "Gateway" || p.Group != nil && *p.Group != gwv1.GroupName {
		return User{}, false
	}
	ns := ls.Namespace
	if p.Namespace != nil {
		ns = string(*p.Namespace)
	}
	pool, gw := lookup(ns, string(p.Name))
	if pool {
		return User{}, false
	}
	return User{Object: "ListenerSet " + ls.Namespace + "/" + ls.Name, LoadBalancers: []LoadBalancer{loadBalancerOf(ns, string(p.Name), gw)}}, true
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
