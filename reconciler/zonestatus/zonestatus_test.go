package zonestatus

import (
	"testing"

	"github.com/stretchr/testify/assert"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
)

type claimOpt func(*v1alpha1.DomainClaim)

func cond(typ string, s metav1.ConditionStatus, reason string) claimOpt {
	return func(c *v1alpha1.DomainClaim) {
		c.Status.Conditions = append(c.Status.Conditions, metav1.Condition{Type: typ, Status: s, Reason: reason})
	}
}

func byRoute(c *v1alpha1.DomainClaim) { c.Spec.ClaimedBy = v1alpha1.ClaimedByRoute }

func deleting(c *v1alpha1.DomainClaim) { c.DeletionTimestamp = &metav1.Time{} }

func claim(opts ...claimOpt) v1alpha1.DomainClaim {
	c := v1alpha1.DomainClaim{Spec: v1alpha1.DomainClaimSpec{ClaimedBy: v1alpha1.ClaimedByAdmin}}
	for _, o := range opts {
		o(&c)
	}
	return c
}

func TestCount(t *testing.T) {
	ready := cond(v1alpha1.ConditionReady, metav1.ConditionTrue, "Ready")
	notReady := cond(v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonPending)
	conflicted := cond(v1alpha1.ConditionClaimed, metav1.ConditionFalse, v1alpha1.ReasonConflicted)
	bound := cond(v1alpha1.ConditionBound, metav1.ConditionTrue, v1alpha1.ReasonRouteFound)
	notBound := cond(v1alpha1.ConditionBound, metav1.ConditionFalse, v1alpha1.ReasonUnbound)
	for _, tc := range []struct {
		name   string
		claims []v1alpha1.DomainClaim
		want   v1alpha1.ZoneClaimCounts
	}{
		{"a zone without claims counts zero everywhere", nil, v1alpha1.ZoneClaimCounts{}},
		{"a Ready claim is Ready", []v1alpha1.DomainClaim{claim(ready)}, v1alpha1.ZoneClaimCounts{Total: 1, Ready: 1}},
		{"a claim without a Ready condition yet is not Ready", []v1alpha1.DomainClaim{claim()}, v1alpha1.ZoneClaimCounts{Total: 1, NotReady: 1}},
		{"a claim with Ready False is not Ready", []v1alpha1.DomainClaim{claim(notReady)}, v1alpha1.ZoneClaimCounts{Total: 1, NotReady: 1}},
		{"a Conflicted claim is also not Ready", []v1alpha1.DomainClaim{claim(conflicted, notReady)}, v1alpha1.ZoneClaimCounts{Total: 1, NotReady: 1, Conflicted: 1}},
		{"Claimed False for another reason is not Conflicted", []v1alpha1.DomainClaim{claim(cond(v1alpha1.ConditionClaimed, metav1.ConditionFalse, v1alpha1.ReasonNoManagedZone))}, v1alpha1.ZoneClaimCounts{Total: 1, NotReady: 1}},
		{"a deleting claim counts as deleting only, even when Ready", []v1alpha1.DomainClaim{claim(ready, deleting)}, v1alpha1.ZoneClaimCounts{Total: 1, Deleting: 1}},
		{"a route-made claim without a Bound condition yet is unbound", []v1alpha1.DomainClaim{claim(byRoute)}, v1alpha1.ZoneClaimCounts{Total: 1, NotReady: 1, Unbound: 1}},
		{"a route-made claim with Bound False is unbound", []v1alpha1.DomainClaim{claim(byRoute, notBound)}, v1alpha1.ZoneClaimCounts{Total: 1, NotReady: 1, Unbound: 1}},
		{"a Bound route-made claim is not unbound", []v1alpha1.DomainClaim{claim(byRoute, bound)}, v1alpha1.ZoneClaimCounts{Total: 1, NotReady: 1}},
		{"an admin claim is never unbound", []v1alpha1.DomainClaim{claim()}, v1alpha1.ZoneClaimCounts{Total: 1, NotReady: 1}},
		{"a deleting unbound claim counts as deleting, not unbound", []v1alpha1.DomainClaim{claim(byRoute, deleting)}, v1alpha1.ZoneClaimCounts{Total: 1, Deleting: 1}},
		{"several claims add up", []v1alpha1.DomainClaim{claim(ready), claim(ready), claim(notReady), claim(byRoute), claim(deleting)},
			v1alpha1.ZoneClaimCounts{Total: 5, Ready: 2, NotReady: 2, Unbound: 1, Deleting: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, Count(tc.claims))
		})
	}
}
