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
