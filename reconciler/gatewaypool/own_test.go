package gatewaypool

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/ownlb"
)

func TestPlanOwnLoadBalancers(t *testing.T) {
	web := []string{"Gateway team-a/web"}
	for _, tc := range []struct {
		name                 string
		own                  OwnTarget
		wantSeat             bool
		wantHost, wantZone   string
		wantLB               metav1.ConditionStatus
		wantReason, wantText string
		wantDualStack        bool
	}{
		{name: "an own load balancer ELBv2 knows is the ALIAS target, and the seat is given back",
			own:    OwnTarget{Decision: ownlb.Decision{Kind: ownlb.Own, Address: "own.example", Objects: web}, Zone: "ZOWN"},
			wantLB: metav1.ConditionTrue, wantReason: v1alpha1.ReasonProgrammed, wantHost: "own.example", wantZone: "ZOWN",
			wantText: "served by the load balancer of Gateway team-a/web (own.example)"},
		{name: "a dual-stack load balancer gets an AAAA record too",
			own:    OwnTarget{Decision: ownlb.Decision{Kind: ownlb.Own, Address: "own.example", Objects: web}, Zone: "ZOWN", DualStack: true},
			wantLB: metav1.ConditionTrue, wantReason: v1alpha1.ReasonProgrammed, wantHost: "own.example", wantZone: "ZOWN", wantDualStack: true,
			wantText: "served by the load balancer of Gateway team-a/web (own.example)"},
		{name: "LBC refusing the own Gateway says so, with the ALIAS in place",
			own:    OwnTarget{Decision: ownlb.Decision{Kind: ownlb.Own, Address: "own.example", Objects: web, Refusals: []string{"no certificate found for host"}}, Zone: "ZOWN"},
			wantLB: metav1.ConditionFalse, wantReason: v1alpha1.ReasonNotAccepted, wantHost: "own.example", wantZone: "ZOWN",
			wantText: "no certificate found for host"},
		{name: "an address ELBv2 does not know gets no target",
			own:    OwnTarget{Decision: ownlb.Decision{Kind: ownlb.Own, Address: "elsewhere.example", Objects: web}},
			wantLB: metav1.ConditionFalse, wantReason: v1alpha1.ReasonUnknownLoadBalancer, wantText: "elsewhere.example, the load balancer address of Gateway team-a/web"},
		{name: "an object without an address yet is waited for, by name",
			own:    OwnTarget{Decision: ownlb.Decision{Kind: ownlb.Waiting, Objects: web}},
			wantLB: metav1.ConditionFalse, wantReason: v1alpha1.ReasonWaitingForOwnLoadBalancer, wantText: "Gateway team-a/web"},
		{name: "two load balancers get no target",
			own:    OwnTarget{Decision: ownlb.Decision{Kind: ownlb.Ambiguous, Objects: []string{"Gateway team-a/web (a)", "Ingress team-a/shop (b)"}}},
			wantLB: metav1.ConditionFalse, wantReason: v1alpha1.ReasonAmbiguousLoadBalancers, wantText: "Gateway team-a/web (a), Ingress team-a/shop (b)"},
		{name: "a pool route next to an own load balancer keeps the seat, and the claim names the other",
			own:      OwnTarget{Decision: ownlb.Decision{Kind: ownlb.Pool, Objects: []string{"Ingress team-a/shop"}}},
			wantSeat: true, wantLB: metav1.ConditionTrue, wantReason: v1alpha1.ReasonProgrammed, wantHost: "alb-public-1.example", wantZone: "Z1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := settle(t, snapshot(testPool(1, 2), []string{"public-1"}, testClaim(1), testClaim(2)))
			c := s.Claims[0].Claim
			require.NotNil(t, c.Status.Gateway, "seated first")
			s.Claims[0].Own = tc.own
			p := Plan(s)
			s = converge(s, p)
			c = s.Claims[0].Claim
			st := &c.Status

			gw := gatewayState(s, "public-1").Gateway
			assert.Equal(t, tc.wantSeat, st.Gateway != nil, "seat")
			assert.Equal(t, tc.wantSeat, slices.Contains(listenerNames(gw), c.Name), "listener")
			assert.Contains(t, listenerNames(gw), s.Claims[1].Claim.Name, "the other claim keeps its seat")
			assert.Equal(t, tc.wantHost, st.LoadBalancerHostname)
			assert.Equal(t, tc.wantZone, st.LoadBalancerZoneID)
			assert.Equal(t, tc.wantDualStack, st.DualStack)
			lb := meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionLoadBalancerReady)
			require.NotNil(t, lb)
			assert.Equal(t, tc.wantLB, lb.Status)
			assert.Equal(t, tc.wantReason, lb.Reason)
			assert.Contains(t, lb.Message, tc.wantText)
			assigned := meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionGatewayAssigned)
			if tc.wantSeat {
				assert.Contains(t, assigned.Message, "not at the load balancer of Ingress team-a/shop")
				return
			}
			assert.Equal(t, v1alpha1.ReasonOwnLoadBalancer, assigned.Reason)
			attached := meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionCertificateAttached)
			if tc.wantReason == v1alpha1.ReasonNotAccepted {
				assert.Equal(t, metav1.ConditionFalse, attached.Status, "LBC's verdict")
			} else {
				assert.Equal(t, metav1.ConditionTrue, attached.Status, "LBC finds the issued certificate by hostname")
			}
			assert.True(t, meta.IsStatusConditionTrue(st.Conditions, v1alpha1.ConditionRoutesAllowed))
			assert.Empty(t, withoutTimes(Plan(s)).Claims, "desired equals current gives no change")
		})
	}
}
