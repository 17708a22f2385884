// Package albrules counts the ALB rules LBC builds for the routes of one seated hostname, the way
// LBC v3 builds them: one rule per route rule, match and hostname on every listener the route
// attaches to. The ALB quota "rules per load balancer" (100 by default) counts the rules of all
// its listeners together, so an HTTPRoute on a Gateway with the HTTP listener costs its rules
// twice: once on HTTPS:443 and once on HTTP:80. The pool (reconciler/gatewaypool) seats
// hostnames by this count and admission (webhook) denies a route that cannot fit by it.
package albrules

import (
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/hostname"
)

// PerHostname is how many ALB rules LBC makes for a route on one hostname of one listener: one
// per route rule and match (a rule without matches has one), and at least one for a route
// without rules.
func PerHostname(matchesPerRule []int) int32 {
	n := int32(0)
	for _, m := range matchesPerRule {
		n += max(1, int32(m))
	}
	return max(1, n)
}

// HTTPRoute is how many ALB rules LBC makes for an HTTPRoute on one hostname of the seat of claim
// (the claim's name names its listeners): PerHostname on each of the seat's listeners the route
// attaches to (HTTPListeners).
func HTTPRoute(rt *gwv1.HTTPRoute, claim string, httpListener bool) int32 {
	matches := make([]int, 0, len(rt.Spec.Rules))
	for _, r := range rt.Spec.Rules {
		matches = append(matches, len(r.Matches))
	}
	return PerHostname(matches) * HTTPListeners(rt.Spec.ParentRefs, claim, httpListener)
}

// GRPCRoute is how many ALB rules LBC makes for a GRPCRoute on one hostname of a seat: on the
// HTTPS listener only, since a pool Gateway's HTTP listeners admit HTTPRoutes only (ALB serves
// gRPC over HTTPS).
func GRPCRoute(rt *gwv1.GRPCRoute) int32 {
	matches := make([]int, 0, len(rt.Spec.Rules))
	for _, r := range rt.Spec.Rules {
		matches = append(matches, len(r.Matches))
	}
	return PerHostname(matches)
}

// HTTPListeners is how many of the listeners of claim's seat an HTTPRoute with parentRefs refs
// attaches to: the HTTPS listener (named like the claim, port 443) and, when the pool has the
// HTTP listener, the HTTP one (v1alpha1.HTTPListenerName, port 80). A parentRef without
// sectionName and port attaches to both; a route without parentRefs is attached by the routes
// reconciler with such a parentRef. A route whose parentRefs name neither listener counts one,
// as if on HTTPS, so that nothing is counted as free.
func HTTPListeners(refs []gwv1.ParentReference, claim string, httpListener bool) int32 {
	if !httpListener {
		return 1
	}
	secure, plain, gateways := false, false, 0
	for _, p := range refs {
		if !v1alpha1.IsGatewayRef(p) {
			continue
		}
		gateways++
		secure = secure || names(p, claim, 443)
		plain = plain || names(p, v1alpha1.HTTPListenerName(claim), 80)
	}
	switch {
	case gateways == 0 || secure && plain:
		return 2
	default:
		return 1
	}
}

// names reports whether a parentRef selects the listener of that name and port.
func names(p gwv1.ParentReference, listener string, port gwv1.PortNumber) bool {
	return (p.SectionName == nil || string(*p.SectionName) == listener) && (p.Port == nil || *p.Port == port)
}

// Hostnames counts the hostnames of a route that the claim of claimHost answers for: claimHost
// itself, and for a wildcard claim, the names one label below it that have no claim of their own
// (ownClaim says whether a claim name has one).
func Hostnames(claimHost string, hostnames []gwv1.Hostname, ownClaim func(claimName string) bool) int32 {
	n := int32(0)
	for _, raw := range hostnames {
		h, err := hostname.Normalize(string(raw))
		if err != nil {
			continue
		}
		if h == claimHost ||
			hostname.IsWildcard(claimHost) && !hostname.IsWildcard(h) && "*."+hostname.Parent(h) == claimHost && !ownClaim(hostname.ClaimName(h)) {
			n++
		}
	}
	return n
}
