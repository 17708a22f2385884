package gatewaypool

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/conditions"
	"github.com/opendi/gateway-orchestrator/internal/ownlb"
)

func unbound(c *v1alpha1.DomainClaim) {
	meta.SetStatusCondition(&c.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionBound, Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonUnbound})
}

// hadSeat is a claim of a zone that lost its pool: a seat, a load balancer, and the pool's
// conditions True.
func hadSeat(c *v1alpha1.DomainClaim) {
	seatedOn("public-1")(c)
	c.Status.LoadBalancerHostname, c.Status.LoadBalancerZoneID, c.Status.DualStack = "alb-public-1.example", "Z1", true
	for _, typ := range []string{v1alpha1.ConditionGatewayAssigned, v1alpha1.ConditionCertificateAttached, v1alpha1.ConditionLoadBalancerReady, v1alpha1.ConditionRoutesAllowed} {
		meta.SetStatusCondition(&c.Status.Conditions, metav1.Condition{Type: typ, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonAssigned})
	}
}

// readySteps are the steps Ready needs with AWS on (reconciler/readiness.Steps).
var readySteps = []string{
	v1alpha1.ConditionClaimed, v1alpha1.ConditionBound, v1alpha1.ConditionCertificateIssued, v1alpha1.ConditionGatewayAssigned,
	v1alpha1.ConditionCertificateAttached, v1alpha1.ConditionLoadBalancerReady, v1alpha1.ConditionDNSRecord, v1alpha1.ConditionRoutesAllowed,
}

func TestPlanClaimOfAZoneWithoutPool(t *testing.T) {
	web := []string{"Gateway team-a/web"}
	for _, tc := range []struct {
		name               string
		claim              []claimOpt
		own                OwnTarget
		wantReason         string // GatewayAssigned's, and for a claim nothing serves the steps' after it
		wantAssigned       metav1.ConditionStatus
		wantText           []string // in GatewayAssigned's message
		wantHost, wantZone string
		wantLB             metav1.ConditionStatus
	}{
		{name: "a claim no load balancer serves says the zone has no pool and what to do",
			wantReason: v1alpha1.ReasonNoGatewayPool, wantAssigned: metav1.ConditionFalse, wantLB: metav1.ConditionFalse,
			wantText: []string{"ManagedZone example-com has no GatewayPool", "h0001.example.com", "your own Gateway or Ingress", "spec.gatewayPoolRef"}},
		{name: "a claim whose zone lost its pool gives up its seat and load balancer",
			claim:      []claimOpt{hadSeat},
			wantReason: v1alpha1.ReasonNoGatewayPool, wantAssigned: metav1.ConditionFalse, wantLB: metav1.ConditionFalse,
			wantText: []string{"has no GatewayPool"}},
		{name: "a route needing a seat next to an own load balancer names the object it could use",
			own:        OwnTarget{Decision: ownlb.Decision{Kind: ownlb.Pool, Objects: []string{"Ingress team-a/shop"}}},
			wantReason: v1alpha1.ReasonNoGatewayPool, wantAssigned: metav1.ConditionFalse, wantLB: metav1.ConditionFalse,
			wantText: []string{"has no GatewayPool", "Ingress team-a/shop use h0001.example.com", "without a parentRef"}},
		{name: "an unbound claim waits for binding, without a load balancer",
			claim:      []claimOpt{unbound},
			own:        OwnTarget{Decision: ownlb.Decision{Kind: ownlb.Own, Address: "own.example", Objects: web}, Zone: "ZOWN"},
			wantReason: v1alpha1.ReasonUnbound, wantAssigned: metav1.ConditionFalse, wantLB: metav1.ConditionFalse,
			wantText: []string{"bound"}},
		{name: "an own load balancer ELBv2 knows is the ALIAS target, as in a pool",
			own:        OwnTarget{Decision: ownlb.Decision{Kind: ownlb.Own, Address: "own.example", Objects: web}, Zone: "ZOWN"},
			wantReason: v1alpha1.ReasonOwnLoadBalancer, wantAssigned: metav1.ConditionTrue, wantLB: metav1.ConditionTrue,
			wantText: []string{"Gateway team-a/web"}, wantHost: "own.example", wantZone: "ZOWN"},
		{name: "an own load balancer without an address is waited for, as in a pool",
			claim:      []claimOpt{hadSeat},
			own:        OwnTarget{Decision: ownlb.Decision{Kind: ownlb.Waiting, Objects: web}},
			wantReason: v1alpha1.ReasonOwnLoadBalancer, wantAssigned: metav1.ConditionTrue, wantLB: metav1.ConditionFalse,
			wantText: []string{"Gateway team-a/web"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := testClaim(1, tc.claim...)
			cs := ClaimState{Claim: c, Own: tc.own, Strays: []string{"HTTPRoute team-b/x"}}
			st := noPoolStatus("example-com", "", cs)

			assert.Nil(t, st.Gateway, "no seat in a zone without a pool")
			assert.Equal(t, tc.wantHost, st.LoadBalancerHostname)
			assert.Equal(t, tc.wantZone, st.LoadBalancerZoneID)
			assigned := meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionGatewayAssigned)
			require.NotNil(t, assigned)
			assert.Equal(t, tc.wantAssigned, assigned.Status)
			assert.Equal(t, tc.wantReason, assigned.Reason)
			for _, s := range tc.wantText {
				assert.Contains(t, assigned.Message, s)
			}
			assert.Equal(t, tc.wantLB, meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionLoadBalancerReady).Status)
			if tc.wantAssigned == metav1.ConditionFalse {
				for _, typ := range []string{v1alpha1.ConditionCertificateAttached, v1alpha1.ConditionLoadBalancerReady, v1alpha1.ConditionRoutesAllowed} {
					cond := meta.FindStatusCondition(st.Conditions, typ)
					assert.Equal(t, metav1.ConditionFalse, cond.Status, typ)
					assert.Equal(t, tc.wantReason, cond.Reason, typ)
				}
				if tc.wantReason == v1alpha1.ReasonNoGatewayPool {
					_, reason, msg := conditions.Rollup(st.Conditions, readySteps)
					assert.Equal(t, v1alpha1.ReasonNoGatewayPool, reason, "Ready names the first blocker")
					assert.Contains(t, msg, v1alpha1.ConditionGatewayAssigned+": ManagedZone example-com has no GatewayPool")
				}
			}
			assert.True(t, meta.IsStatusConditionTrue(st.Conditions, v1alpha1.ConditionStrayRoutes), "stray routes are reported as in a pool")

			// Desired equals current gives no change: the next reconcile writes nothing.
			c.Status = *st
			again := noPoolStatus("example-com", "", ClaimState{Claim: c, Own: tc.own, Strays: cs.Strays})
			assert.True(t, poolSliceEqual(again, &c.Status), "planned again, the status is the same")
		})
	}
}

func TestAZoneIsPlannedByItsPoolOrByItsOwnKey(t *testing.T) {
	ctx := context.Background()
	without := &v1alpha1.ManagedZone{ObjectMeta: metav1.ObjectMeta{Name: "public"}}
	with := without.DeepCopy()
	with.Spec.GatewayPoolRef = &v1alpha1.LocalObjectReference{Name: "public"}

	assert.Equal(t, []reconcile.Request{{NamespacedName: client.ObjectKey{Name: "public"}}}, zoneToKey(ctx, with), "the pool's key")
	own := zoneToKey(ctx, without)
	require.Len(t, own, 1)
	assert.Equal(t, noPoolKey("public"), own[0])
	assert.NotEqual(t, zoneToKey(ctx, with)[0], own[0], "a zone and a pool of the same name are different keys")
	assert.NotEqual(t, paceKey(zoneToKey(ctx, with)[0]), paceKey(own[0]), "and are paced apart")
}
