package integration

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/dnsbatch"
	"github.com/opendi/gateway-orchestrator/test/awsfake"
)

// noGatewayPool waits until h's claim says GatewayAssigned=False/NoGatewayPool, and Ready names
// it.
func noGatewayPool(t *testing.T, z *v1alpha1.ManagedZone, h string, within time.Duration) *v1alpha1.DomainClaim {
	t.Helper()
	var c *v1alpha1.DomainClaim
	require.Eventually(t, func() bool {
		var err error
		c, err = getClaim(h)
		ready := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionReady)
		return err == nil && ready != nil && ready.Reason == v1alpha1.ReasonNoGatewayPool &&
			condition(c, v1alpha1.ConditionGatewayAssigned).Reason == v1alpha1.ReasonNoGatewayPool
	}, within, 100*time.Millisecond, "claim %s says its zone has no GatewayPool: %+v", h, func() any {
		if c == nil {
			return nil
		}
		return c.Status.Conditions
	}())
	assigned := condition(c, v1alpha1.ConditionGatewayAssigned)
	assert.Equal(t, metav1.ConditionFalse, assigned.Status)
	assert.Contains(t, assigned.Message, "ManagedZone "+z.Name+" has no GatewayPool")
	assert.Contains(t, assigned.Message, "your own Gateway or Ingress")
	assert.Contains(t, assigned.Message, "spec.gatewayPoolRef")
	ready := condition(c, v1alpha1.ConditionReady)
	assert.Equal(t, metav1.ConditionFalse, ready.Status)
	assert.Contains(t, ready.Message, v1alpha1.ConditionGatewayAssigned+": ManagedZone "+z.Name+" has no GatewayPool", "Ready names the first blocker")
	assert.Nil(t, c.Status.Gateway)
	assert.Empty(t, c.Status.LoadBalancerHostname)
	return c
}

func TestZoneWithoutPoolServesARouteOnItsOwnGatewayWithTheALIASThere(t *testing.T) {
	ctx := context.Background()
	z := newZone(t)
	require.Nil(t, z.Spec.GatewayPoolRef)
	ns := tenant(t)
	gw := createOwnGateway(t, ns)

	h := "own." + z.Spec.Domain
	rt := route(ns, h)
	rt.Spec.ParentRefs = []gwv1.ParentReference{{Name: gwv1.ObjectName(gw.Name)}}
	require.NoError(t, k8s.Create(ctx, rt))

	own := func() string { return ownALB(ns, gw.Name) }
	require.Eventually(t, func() bool {
		target, zone := aliasTarget(z.Spec.HostedZoneID, h)
		return own() != "" && target == own() && zone == awsfake.ALBZoneID
	}, 60*time.Second, 100*time.Millisecond, "the ALIAS of %s points at the ALB of its own Gateway", h)
	c := ready(t, h, 30*time.Second)
	assert.Nil(t, c.Status.Gateway, "no pool seat")
	assert.Equal(t, own(), dnsbatch.Canonical(c.Status.LoadBalancerHostname))
	assert.Equal(t, v1alpha1.ReasonOwnLoadBalancer, condition(c, v1alpha1.ConditionGatewayAssigned).Reason)
	assert.Contains(t, condition(c, v1alpha1.ConditionLoadBalancerReady).Message, "Gateway "+ns+"/"+gw.Name)
}

func TestZoneWithoutPoolTellsARouteOnNothingOwnWhatToDoAndAPoolAddedLaterTakesOver(t *testing.T) {
	ctx := context.Background()
	z := newZone(t)
	ns := tenant(t)
	h := "nothing." + z.Spec.Domain
	require.NoError(t, k8s.Create(ctx, route(ns, h)))
	noGatewayPool(t, z, h, 60*time.Second)
	target, _ := aliasTarget(z.Spec.HostedZoneID, h)
	assert.Empty(t, target, "no record: nothing serves the name")

	// An administrator gives the zone a pool: the pool seats the claim, and the zone's planner
	// stops writing it (one writer, no flapping back to NoGatewayPool).
	gwNS := unique("gw")
	require.NoError(t, k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: gwNS}}))
	p := pool(unique("pool"), func(p *v1alpha1.GatewayPool) { p.Spec.Namespace = gwNS })
	require.NoError(t, k8s.Create(ctx, p))
	require.NoError(t, updateLatest(ctx, z, func() { z.Spec.GatewayPoolRef = &v1alpha1.LocalObjectReference{Name: p.Name} }))
	seatedByThePoolForGood(t, z, h, gwNS)

	// The zone loses its pool again: the claim falls back to the zone's planner.
	require.NoError(t, updateLatest(ctx, z, func() { z.Spec.GatewayPoolRef = nil }))
	noGatewayPool(t, z, h, 60*time.Second)
}

// seatedByThePoolForGood waits until h's claim is Ready on a Gateway of the pool in namespace
// gwNS with its ALIAS at that load balancer, and checks for two seconds that the pool keeps it
// (no writer flaps it back). It returns the claim as it was first Ready there.
func seatedByThePoolForGood(t *testing.T, z *v1alpha1.ManagedZone, h, gwNS string) *v1alpha1.DomainClaim {
	t.Helper()
	c := ready(t, h, 60*time.Second)
	require.NotNil(t, c.Status.Gateway)
	assert.Equal(t, gwNS, c.Status.Gateway.Namespace)
	target, _ := aliasTarget(z.Spec.HostedZoneID, h)
	assert.Equal(t, dnsbatch.Canonical(c.Status.LoadBalancerHostname), target)
	for i := 0; i < 20; i++ {
		c, err := getClaim(h)
		require.NoError(t, err)
		require.Equal(t, v1alpha1.ReasonAssigned, condition(c, v1alpha1.ConditionGatewayAssigned).Reason, "the pool keeps the claim (%d)", i)
		time.Sleep(100 * time.Millisecond)
	}
	return c
}
