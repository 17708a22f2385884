package gatewaypool

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/ownlb"
)

// aliasAt is reconciler/dns confirming the claim's ALIAS at lb.
func aliasAt(lb string) claimOpt {
	return func(c *v1alpha1.DomainClaim) {
		meta.SetStatusCondition(&c.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionDNSRecord, Status: metav1.ConditionTrue,
			Reason: v1alpha1.ReasonCreated, Message: v1alpha1.AliasMessage(c.Spec.Hostname, lb), ObservedGeneration: c.Generation})
		c.Status.AliasTarget = &v1alpha1.AliasTarget{DNSName: lb, HostedZoneID: "ZALB", RecordTypes: []string{"A"}}
	}
}

func TestPlanOwnLoadBalancers(t *testing.T) {
	web := []string{"Gateway team-a/web"}
	for _, tc := range []struct {
		name                 string
		own                  OwnTarget
		resolved             bool // the seat is given back once DNS points at the own load balancer
		wantHost, wantZone   string
		wantLB               metav1.ConditionStatus
		wantReason, wantText string
		wantDualStack        bool
	}{
		{name: "an own load balancer ELBv2 knows is the ALIAS target, and the seat is given back once DNS points there",
			own:      OwnTarget{Decision: ownlb.Decision{Kind: ownlb.Own, Address: "own.example", Objects: web}, Zone: "ZOWN"},
			resolved: true, wantLB: metav1.ConditionTrue, wantReason: v1alpha1.ReasonProgrammed, wantHost: "own.example", wantZone: "ZOWN",
			wantText: "served by the load balancer of Gateway team-a/web (own.example)"},
		{name: "a dual-stack load balancer gets an AAAA record too",
			own:      OwnTarget{Decision: ownlb.Decision{Kind: ownlb.Own, Address: "own.example", Objects: web}, Zone: "ZOWN", DualStack: true},
			resolved: true, wantLB: metav1.ConditionTrue, wantReason: v1alpha1.ReasonProgrammed, wantHost: "own.example", wantZone: "ZOWN", wantDualStack: true,
			wantText: "served by the load balancer of Gateway team-a/web (own.example)"},
		{name: "LBC refusing the own Gateway says so, with the ALIAS in place",
			own:      OwnTarget{Decision: ownlb.Decision{Kind: ownlb.Own, Address: "own.example", Objects: web, Refusals: []string{"no certificate found for host"}}, Zone: "ZOWN"},
			resolved: true, wantLB: metav1.ConditionFalse, wantReason: v1alpha1.ReasonNotAccepted, wantHost: "own.example", wantZone: "ZOWN",
			wantText: "no certificate found for host"},
		{name: "an address ELBv2 does not know keeps the seat and the ALIAS to it",
			own:      OwnTarget{Decision: ownlb.Decision{Kind: ownlb.Own, Address: "elsewhere.example", Objects: web}},
			wantText: "elsewhere.example, the load balancer address of Gateway team-a/web"},
		{name: "an object without an address yet keeps the seat and the ALIAS to it",
			own:      OwnTarget{Decision: ownlb.Decision{Kind: ownlb.Waiting, Objects: web}},
			wantText: "waiting for the load balancer address of Gateway team-a/web"},
		{name: "two load balancers keep the seat and the ALIAS to it",
			own:      OwnTarget{Decision: ownlb.Decision{Kind: ownlb.Ambiguous, Objects: []string{"Gateway team-a/web (a)", "Ingress team-a/shop (b)"}}},
			wantText: "Gateway team-a/web (a), Ingress team-a/shop (b)"},
		{name: "a pool route next to an own load balancer keeps the seat, and the claim names the other",
			own:      OwnTarget{Decision: ownlb.Decision{Kind: ownlb.Pool, Objects: []string{"Ingress team-a/shop"}}},
			wantText: "not at the load balancer of Ingress team-a/shop"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := settle(t, snapshot(testPool(1, 2), []string{"public-1"}, testClaim(1), testClaim(2)))
			c := s.Claims[0].Claim
			require.NotNil(t, c.Status.Gateway, "seated first")
			s.Claims[0].Own = tc.own
			s = settle(t, s)
			c = s.Claims[0].Claim
			st := &c.Status
			gw := gatewayState(s, "public-1").Gateway
			assert.Contains(t, listenerNames(gw), s.Claims[1].Claim.Name, "the other claim keeps its seat")
			assert.NotNil(t, st.Gateway, "the seat is kept")
			assert.Contains(t, listenerNames(gw), c.Name, "and its listener")
			assigned := meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionGatewayAssigned)
			if !tc.resolved {
				assert.Equal(t, "alb-public-1.example", st.LoadBalancerHostname, "the ALIAS stays on the pool's ALB, which serves the name")
				assert.Equal(t, "Z1", st.LoadBalancerZoneID)
				assert.True(t, meta.IsStatusConditionTrue(st.Conditions, v1alpha1.ConditionLoadBalancerReady))
				assert.Equal(t, v1alpha1.ReasonAssigned, assigned.Reason)
				assert.Contains(t, assigned.Message, tc.wantText)
				return
			}
			// Make before break: the ALIAS moves first, the seat stays until DNS points there.
			assert.Equal(t, tc.wantHost, st.LoadBalancerHostname)
			assert.Equal(t, v1alpha1.ReasonOwnLoadBalancer, assigned.Reason)
			assert.Contains(t, assigned.Message, "the seat on public-1 is given back once the ALIAS of "+c.Spec.Hostname+" points at own.example")
			changeClaim(s, c.Name, aliasAt("alb-public-1.example"))
			s = settle(t, s)
			assert.NotNil(t, s.Claims[0].Claim.Status.Gateway, "an ALIAS at the pool's ALB gives nothing back")
			changeClaim(s, c.Name, aliasAt("own.example"), func(c *v1alpha1.DomainClaim) { c.Status.AliasTarget = nil })
			s = settle(t, s)
			assert.NotNil(t, s.Claims[0].Claim.Status.Gateway, "DNSRecordReady's message alone (a claim of an older version) gives nothing back")
			changeClaim(s, c.Name, aliasAt("own.example"))
			s = settle(t, s)
			c = s.Claims[0].Claim
			st = &c.Status
			gw = gatewayState(s, "public-1").Gateway
			assert.Nil(t, st.Gateway, "the seat is given back")
			assert.NotContains(t, listenerNames(gw), c.Name, "and its listener")
			assert.Contains(t, listenerNames(gw), s.Claims[1].Claim.Name, "the other claim keeps its seat")
			assert.Equal(t, tc.wantHost, st.LoadBalancerHostname)
			assert.Equal(t, tc.wantZone, st.LoadBalancerZoneID)
			assert.Equal(t, tc.wantDualStack, st.DualStack)
			lb := meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionLoadBalancerReady)
			require.NotNil(t, lb)
			assert.Equal(t, tc.wantLB, lb.Status)
			assert.Equal(t, tc.wantReason, lb.Reason)
			assert.Contains(t, lb.Message, tc.wantText)
			assigned = meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionGatewayAssigned)
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

// TestPlanUnseatedClaimOfOwnLoadBalancer: a claim that never had a seat takes none while its users'
// own load balancer is not resolved, and says why.
func TestPlanUnseatedClaimOfOwnLoadBalancer(t *testing.T) {
	s := snapshot(testPool(1, 2), []string{"public-1"}, testClaim(1))
	s.Claims[0].Own = OwnTarget{Decision: ownlb.Decision{Kind: ownlb.Waiting, Objects: []string{"Gateway team-a/web"}}}
	s = settle(t, s)
	st := &s.Claims[0].Claim.Status
	assert.Nil(t, st.Gateway)
	assert.Empty(t, st.LoadBalancerHostname)
	lb := meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionLoadBalancerReady)
	require.NotNil(t, lb)
	assert.Equal(t, v1alpha1.ReasonWaitingForOwnLoadBalancer, lb.Reason)
	assert.NotContains(t, listenerNames(gatewayState(s, "public-1").Gateway), s.Claims[0].Claim.Name)
}
