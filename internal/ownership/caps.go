package ownership

import (
	"context"
	"fmt"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
)

// Limits caps the DomainClaims one namespace holds in one ManagedZone; zero means no cap.
type Limits struct {
	// MaxClaims caps every claim of the namespace under the zone's domain.
	MaxClaims int
	// MaxUnbound caps the namespace's unbound claims there (see index.Unbound).
	MaxUnbound int
}

// ClaimCount is how many claims a namespace holds under a zone's domain, and how many of them are
// unbound. Claims being deleted are not counted.
type ClaimCount struct {
	Claims, Unbound int
}

// ClaimCounter counts a namespace's claims under a domain with an index lookup in the cache;
// only the counts that lim caps are read (the others are 0).
type ClaimCounter interface {
	CountClaims(ctx context.Context, ns, domain string, lim Limits) (ClaimCount, error)
}

// ZoneLimits are the caps that apply in zone: its spec.limits, each unset cap falling back to
// defaults (the cluster-wide flags).
func ZoneLimits(zone *v1alpha1.ManagedZone, defaults Limits) Limits {
	out := defaults
	if l := zone.Spec.Limits; l != nil {
		if l.MaxClaimsPerNamespace != nil {
			out.MaxClaims = int(*l.MaxClaimsPerNamespace)
		}
		if l.MaxUnboundClaimsPerNamespace != nil {
			out.MaxUnbound = int(*l.MaxUnboundClaimsPerNamespace)
		}
	}
	return out
}

// CheckCaps decides whether namespace ns, holding have in zone, may make adding new claims
// there (new claims start unbound). It returns "" when it may, and otherwise the denial: the cap,
// the current count and how to raise it.
func CheckCaps(zone *v1alpha1.ManagedZone, ns string, have ClaimCount, adding int, defaults Limits) string {
	lim := ZoneLimits(zone, defaults)
	var own v1alpha1.ZoneLimits
	if zone.Spec.Limits != nil {
		own = *zone.Spec.Limits
	}
	check := func(max, n int, set bool, what, field, flag string) string {
		if max <= 0 || n+adding <= max {
			return ""
		}
		source := fmt.Sprintf("spec.limits.%s of ManagedZone %q", field, zone.Name)
		if !set {
			source = "the cluster-wide default " + flag
		}
		return fmt.Sprintf("namespace %q holds %d %s in ManagedZone %q (domain %s) and this object would add %d; the cap is %d (%s); a cluster admin can raise it with kubectl edit managedzone %s (spec.limits.%s)",
			ns, n, what, zone.Name, zone.Spec.Domain, adding, max, source, zone.Name, field)
	}
	if msg := check(lim.MaxClaims, have.Claims, own.MaxClaimsPerNamespace != nil, "DomainClaims", "maxClaimsPerNamespace", "--max-claims-per-namespace"); msg != "" {
		return msg
	}
	return check(lim.MaxUnbound, have.Unbound, own.MaxUnboundClaimsPerNamespace != nil, "unbound DomainClaims (made at admission, not used by any object yet)",
		"maxUnboundClaimsPerNamespace", "--max-unbound-claims-per-namespace")
}
