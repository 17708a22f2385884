package ownership

import (
	"context"
	"sort"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/hostname"
)

// ZoneClaims returns the names of the claims, sorted, whose hostnames zone covers (a ManagedZone
// of a longer domain takes the names below it), deleting ones included: their records and
// certificates are cleaned up through the zone.
func ZoneClaims(ctx context.Context, view View, zone *v1alpha1.ManagedZone) ([]string, error) {
	claims, err := view.ClaimsBelow(ctx, zone.Spec.Domain)
	if err != nil {
		return nil, err
	}
	own, err := view.Claim(ctx, hostname.ClaimName(zone.Spec.Domain))
	if err != nil {
		return nil, err
	}
	if own != nil {
		claims = append(claims, *own)
	}
	var out []string
	for _, c := range claims {
		z, err := FindZone(ctx, view, c.Spec.Hostname)
		if err != nil {
			return nil, err
		}
		if z != nil && z.Name == zone.Name {
			out = append(out, c.Name)
		}
	}
	sort.Strings(out)
	return out, nil
}

// MovingClaims returns the names of the claims, sorted, whose records a write of zone z (a new
// child zone, or a changed spec.hostedZoneID) moves to another hosted zone, and the hosted zones
// they leave (sorted): the claims z covers once written (a zone of a longer domain keeps its
// names) whose zone in effect in view, before the write, has another hosted zone ID.
func MovingClaims(ctx context.Context, view View, z *v1alpha1.ManagedZone) (names, from []string, err error) {
	claims, err := view.ClaimsBelow(ctx, z.Spec.Domain)
	if err != nil {
		return nil, nil, err
	}
	own, err := view.Claim(ctx, hostname.ClaimName(z.Spec.Domain))
	if err != nil {
		return nil, nil, err
	}
	if own != nil {
		claims = append(claims, *own)
	}
	zones := map[string]bool{}
	for _, c := range claims {
		cur, err := FindZone(ctx, view, c.Spec.Hostname)
		if err != nil {
			return nil, nil, err
		}
		// Both zones cover the hostname: z takes it unless cur is another, longer one.
		takes := cur != nil && (cur.Name == z.Name || len(cur.Spec.Domain) < len(z.Spec.Domain))
		if takes && cur.Spec.HostedZoneID != z.Spec.HostedZoneID {
			names = append(names, c.Name)
			zones[cur.Spec.HostedZoneID] = true
		}
	}
	for id := range zones {
		from = append(from, id)
	}
	sort.Strings(names)
	sort.Strings(from)
	return names, from, nil
}
