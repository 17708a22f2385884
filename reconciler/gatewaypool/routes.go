package gatewaypool

import (
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/hostname"
)

// hostnamesOf counts the hostnames of a route that claim c answers for: its own, and for a
// wildcard claim, the names one label below it that have no claim of their own.
func hostnamesOf(c *v1alpha1.DomainClaim, hostnames []gwv1.Hostname, claimNames map[string]bool) int32 {
	n := int32(0)
	for _, raw := range hostnames {
		h, err := hostname.Normalize(string(raw))
		if err != nil {
			continue
		}
		if h == c.Spec.Hostname ||
			hostname.IsWildcard(c.Spec.Hostname) && !hostname.IsWildcard(h) && "*."+hostname.Parent(h) == c.Spec.Hostname && !claimNames[hostname.ClaimName(h)] {
			n++
		}
	}
	return n
}

// ALBRules is how many ALB rules LBC makes for a route on one hostname: one per route rule and
// match (a rule without matches has one), and at least one for a route without rules.
func ALBRules(matchesPerRule []int) int32 {
	n := int32(0)
	for _, m := range matchesPerRule {
		n += max(1, int32(m))
	}
	return max(1, n)
}

func httpMatches(rt *gwv1.HTTPRoute) []int {
	out := make([]int, 0, len(rt.Spec.Rules))
	for _, r := range rt.Spec.Rules {
		out = append(out, len(r.Matches))
	}
	return out
}

func grpcMatches(rt *gwv1.GRPCRoute) []int {
	out := make([]int, 0, len(rt.Spec.Rules))
	for _, r := range rt.Spec.Rules {
		out = append(out, len(r.Matches))
	}
	return out
}
