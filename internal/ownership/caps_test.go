package ownership

import (
	"testing"

	"github.com/stretchr/testify/assert"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
)

func TestCheckCaps(t *testing.T) {
	zone := func(l *v1alpha1.ZoneLimits) *v1alpha1.ManagedZone {
		return &v1alpha1.ManagedZone{ObjectMeta: metav1.ObjectMeta{Name: "shop"},
			Spec: v1alpha1.ManagedZoneSpec{Domain: "example.com", Limits: l}}
	}
	capped := zone(&v1alpha1.ZoneLimits{MaxClaimsPerNamespace: ptr.To[int32](3), MaxUnboundClaimsPerNamespace: ptr.To[int32](2)})
	for _, tc := range []struct {
		name     string
		zone     *v1alpha1.ManagedZone
		have     ClaimCount
		adding   int
		defaults Limits
		want     []string // substrings of the denial; nil means allowed
	}{
		{name: "a zone without limits and no defaults caps nothing", zone: zone(nil), have: ClaimCount{1000, 1000}, adding: 16},
		{name: "up to the cap is allowed", zone: capped, have: ClaimCount{2, 1}, adding: 1},
		{name: "one past the cap names the cap, the count and how to raise it", zone: capped, have: ClaimCount{3, 0}, adding: 1,
			want: []string{`namespace "a" holds 3 DomainClaims`, `would add 1`, `the cap is 3`, `spec.limits.maxClaimsPerNamespace of ManagedZone "shop"`, `kubectl edit managedzone shop`}},
		{name: "several hostnames of one object count together", zone: capped, have: ClaimCount{1, 0}, adding: 3,
			want: []string{`holds 1 DomainClaims`, `would add 3`}},
		{name: "unbound claims have their own cap", zone: capped, have: ClaimCount{2, 2}, adding: 1,
			want: []string{`holds 2 unbound DomainClaims`, `the cap is 2`, `spec.limits.maxUnboundClaimsPerNamespace`}},
		{name: "the cluster-wide default applies where the zone sets no cap", zone: zone(nil), have: ClaimCount{5, 0}, adding: 1, defaults: Limits{MaxClaims: 5},
			want: []string{`the cap is 5`, `the cluster-wide default --max-claims-per-namespace`, `(spec.limits.maxClaimsPerNamespace)`}},
		{name: "a zone's own cap overrides the default", zone: capped, have: ClaimCount{3, 0}, adding: 0, defaults: Limits{MaxClaims: 1}},
		{name: "a zone raising only one cap keeps the other default", zone: zone(&v1alpha1.ZoneLimits{MaxClaimsPerNamespace: ptr.To[int32](100)}),
			have: ClaimCount{10, 4}, adding: 1, defaults: Limits{MaxClaims: 5, MaxUnbound: 4},
			want: []string{`unbound`, `the cluster-wide default --max-unbound-claims-per-namespace`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := CheckCaps(tc.zone, "a", tc.have, tc.adding, tc.defaults)
			if tc.want == nil {
				assert.Empty(t, got)
				return
			}
			for _, w := range tc.want {
				assert.Contains(t, got, w)
			}
		})
	}
}
