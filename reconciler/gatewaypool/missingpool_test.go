package gatewaypool

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/conditions"
	"github.com/opendi/gateway-orchestrator/internal/ownlb"
)

func TestPlanClaimOfAZoneNamingAPoolThatDoesNotExist(t *testing.T) {
	for _, tc := range []struct {
		name       string
		claim      []claimOpt
		own        OwnTarget
		wantReason string
		wantText   []string
	}{
		{name: "a claim no load balancer serves names the zone, the missing pool and what to do",
			wantReason: v1alpha1.ReasonGatewayPoolNotFound,
			wantText: []string{"ManagedZone example-com names GatewayPool public in spec.gatewayPoolRef, but no GatewayPool public exists",
				"h0001.example.com", "create GatewayPool public", "correct spec.gatewayPoolRef of ManagedZone example-com", "your own Gateway or Ingress"}},
		{name: "a claim whose pool was deleted gives up its seat and load balancer",
			claim: []claimOpt{hadSeat}, wantReason: v1alpha1.ReasonGatewayPoolNotFound, wantText: []string{"no GatewayPool public exists"}},
		{name: "a route needing a seat next to an own load balancer names the object it could use",
			own:        OwnTarget{Decision: ownlb.Decision{Kind: ownlb.Pool, Objects: []string{"Ingress team-a/shop"}}},
			wantReason: v1alpha1.ReasonGatewayPoolNotFound, wantText: []string{"Ingress team-a/shop use h0001.example.com"}},
		{name: "an unbound claim still waits for binding first",
			claim: []claimOpt{unbound}, wantReason: v1alpha1.ReasonUnbound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := testClaim(1, tc.claim...)
			st := noPoolStatus("example-com", "public", ClaimState{Claim: c, Own: tc.own})
			assert.Nil(t, st.Gateway)
			assert.Empty(t, st.LoadBalancerHostname)
			assert.Empty(t, st.LoadBalancerZoneID)
			assigned := meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionGatewayAssigned)
			require.NotNil(t, assigned)
			assert.Equal(t, metav1.ConditionFalse, assigned.Status)
			assert.Equal(t, tc.wantReason, assigned.Reason)
			for _, s := range tc.wantText {
				assert.Contains(t, assigned.Message, s)
			}
			for _, typ := range []string{v1alpha1.ConditionCertificateAttached, v1alpha1.ConditionLoadBalancerReady, v1alpha1.ConditionRoutesAllowed} {
				assert.Equal(t, tc.wantReason, meta.FindStatusCondition(st.Conditions, typ).Reason, typ)
			}
			if tc.wantReason == v1alpha1.ReasonGatewayPoolNotFound {
				_, reason, msg := conditions.Rollup(st.Conditions, readySteps)
				assert.Equal(t, v1alpha1.ReasonGatewayPoolNotFound, reason, "Ready names the first blocker")
				assert.Contains(t, msg, "no GatewayPool public exists")
			}
			c.Status = *st
			assert.True(t, poolSliceEqual(noPoolStatus("example-com", "public", ClaimState{Claim: c, Own: tc.own}), &c.Status), "desired equals current: no write")
		})
	}
}

func TestAnOwnLoadBalancerServesAClaimOfAZoneNamingAMissingPoolAsInAZoneWithoutOne(t *testing.T) {
	web := []string{"Gateway team-a/web"}
	own := OwnTarget{Decision: ownlb.Decision{Kind: ownlb.Own, Address: "own.example", Objects: web}, Zone: "ZOWN"}
	c := testClaim(1)
	without := noPoolStatus("example-com", "", ClaimState{Claim: c, Own: own})
	st := noPoolStatus("example-com", "public", ClaimState{Claim: c, Own: own})
	for i := range st.Conditions {
		assert.Equal(t, without.Conditions[i].Reason, st.Conditions[i].Reason)
		assert.Equal(t, without.Conditions[i].Message, st.Conditions[i].Message)
	}
	assert.Equal(t, "own.example", st.LoadBalancerHostname)
	assert.Equal(t, v1alpha1.ReasonOwnLoadBalancer, meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionGatewayAssigned).Reason)
}

func TestAClaimWhoseRoutesNameOnlyMissingGatewaysIsServedByNothing(t *testing.T) {
	gone := OwnTarget{Decision: ownlb.Decision{Kind: ownlb.Waiting, Objects: []string{"Gateway team-a/web"}, Missing: true}}
	waiting := OwnTarget{Decision: ownlb.Decision{Kind: ownlb.Waiting, Objects: []string{"Gateway team-a/web"}}}
	assert.NotEqual(t, gone.key(), waiting.key(), "the claim memo tells them apart")
	for name, st := range map[string]*v1alpha1.DomainClaimStatus{
		"in a zone without a pool":  noPoolStatus("example-com", "", ClaimState{Claim: testClaim(1, hadSeat), Own: gone}),
		"in a pool, without a seat": planClaim(testPool(1, 3), ClaimState{Claim: testClaim(1), Own: gone}, "", false, nil, "", false, false),
	} {
		t.Run(name, func(t *testing.T) {
			assert.Nil(t, st.Gateway)
			assert.Empty(t, st.LoadBalancerHostname)
			a := meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionGatewayAssigned)
			assert.Equal(t, metav1.ConditionFalse, a.Status)
			assert.Equal(t, v1alpha1.ReasonLoadBalancerNotFound, a.Reason)
			assert.Equal(t, "Gateway team-a/web does not exist, so nothing serves h0001.example.com: create it, or serve h0001.example.com from another Gateway or Ingress", a.Message)
			for _, typ := range []string{v1alpha1.ConditionCertificateAttached, v1alpha1.ConditionLoadBalancerReady, v1alpha1.ConditionRoutesAllowed} {
				assert.Equal(t, v1alpha1.ReasonLoadBalancerNotFound, meta.FindStatusCondition(st.Conditions, typ).Reason, typ)
			}
		})
	}
	t.Run("a seated claim keeps its seat and its ALIAS on the pool's ALB, which still serves the name", func(t *testing.T) {
		st := planClaim(testPool(1, 3), ClaimState{Claim: testClaim(1, hadSeat), Own: gone}, "public-1", false, nil, "", true, true)
		require.NotNil(t, st.Gateway)
		assert.Equal(t, "alb-public-1.example", st.LoadBalancerHostname)
	})
}
