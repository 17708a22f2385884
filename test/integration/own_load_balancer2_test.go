package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/dnsbatch"
	"github.com/opendi/gateway-orchestrator/reconciler/gatewaypool"
)

// TestARouteNamingAnotherNamespacesGatewayCountsOnlyOnceThatGatewayAcceptsIt: team-a's route names
// team-b's Gateway, which admits routes of its own namespace only. The hostname is not pointed at
// team-b's ALB (team-b controls it) until LBC reports the route Accepted there, which it does once
// team-b admits other namespaces.
func TestARouteNamingAnotherNamespacesGatewayCountsOnlyOnceThatGatewayAcceptsIt(t *testing.T) {
	ctx := context.Background()
	z, p := servedZone(t)
	teamA, teamB := tenant(t), tenant(t)
	gw := createOwnGateway(t, teamB)
	other := func() string { return ownALB(teamB, gw.Name) }
	require.Eventually(t, func() bool { return other() != "" }, 30*time.Second, 100*time.Millisecond, "team-b's ALB")

	h := "typo." + z.Spec.Domain
	rt := route(teamA, h)
	rt.Spec.ParentRefs = []gwv1.ParentReference{{Namespace: ptr.To(gwv1.Namespace(teamB)), Name: gwv1.ObjectName(gw.Name)}}
	require.NoError(t, k8s.Create(ctx, rt))

	c := claimWhen(t, h, func(c *v1alpha1.DomainClaim) bool {
		cond := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionLoadBalancerReady)
		return cond != nil && cond.Reason == v1alpha1.ReasonWaitingForOwnLoadBalancer
	})
	msg := condition(c, v1alpha1.ConditionLoadBalancerReady).Message
	assert.Contains(t, msg, "Gateway "+teamB+"/"+gw.Name+" is in namespace "+teamB)
	assert.Contains(t, msg, "Accepted")
	require.Eventually(t, func() bool {
		return k8s.Get(ctx, client.ObjectKeyFromObject(rt), rt) == nil && len(rt.Status.Parents) > 0
	}, 30*time.Second, 100*time.Millisecond, "the stand-in reports its verdict on the route")
	for i := 0; i < 10; i++ {
		target, _ := aliasTarget(z.Spec.HostedZoneID, h)
		require.NotEqual(t, other(), target, "never an ALIAS at another team's ALB that does not admit the route (%d)", i)
		c, err := getClaim(h)
		require.NoError(t, err)
		require.Empty(t, c.Status.LoadBalancerHostname)
		time.Sleep(100 * time.Millisecond)
	}

	// team-b admits routes of every namespace: LBC accepts the route, and the hostname is served there.
	require.NoError(t, updateLatest(ctx, gw, func() {
		gw.Spec.Listeners[0].AllowedRoutes = &gwv1.AllowedRoutes{Namespaces: &gwv1.RouteNamespaces{From: ptr.To(gwv1.NamespacesFromAll)}}
	}))
	ownedByItsLoadBalancer(t, z, p, h, other)
}

// TestASeatIsKeptWhileTheOwnLoadBalancerHasNoAddress: a seated route moves to the team's own
// Gateway, whose controller never publishes an address. The seat, its listener and the ALIAS at
// the pool's ALB (which still serves the name) stay, and the claim says why.
func TestASeatIsKeptWhileTheOwnLoadBalancerHasNoAddress(t *testing.T) {
	ctx := context.Background()
	z, p := servedZone(t)
	ns := tenant(t)
	gw := tenantGateway(ns) // not LBC's class: nobody programs it
	gw.Spec.Listeners = []gwv1.Listener{{Name: "http", Port: 80, Protocol: gwv1.HTTPProtocolType}}
	require.NoError(t, k8s.Create(ctx, gw))
	t.Cleanup(func() { _ = k8s.Delete(ctx, gw) })

	h := "kept." + z.Spec.Domain
	c, poolALB := seatedThenMoved(t, z, p, ns, h, gw.Name)
	seat := *c.Status.Gateway
	c = claimWhen(t, h, func(c *v1alpha1.DomainClaim) bool {
		cond := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionGatewayAssigned)
		return cond != nil && strings.Contains(cond.Message, "are kept until")
	})
	assert.Contains(t, condition(c, v1alpha1.ConditionGatewayAssigned).Message, "Gateway "+ns+"/"+gw.Name)
	for i := 0; i < 10; i++ {
		c, err := getClaim(h)
		require.NoError(t, err)
		require.NotNil(t, c.Status.Gateway, "the seat is kept (%d)", i)
		require.Equal(t, seat, *c.Status.Gateway)
		require.Equal(t, poolALB, dnsbatch.Canonical(c.Status.LoadBalancerHostname))
		require.True(t, poolListener(t, p, h), "and its listener")
		target, _ := aliasTarget(z.Spec.HostedZoneID, h)
		require.Equal(t, poolALB, target, "the ALIAS stays on the pool's ALB, which serves the name")
		time.Sleep(100 * time.Millisecond)
	}
}

// TestARouteAttachedThroughAListenerSetIsServedByItsParentGateway: the route's only parentRef is a
// ListenerSet (without a hostname) on the team's own Gateway, so the hostname is served by that
// Gateway's ALB and takes no pool seat.
func TestARouteAttachedThroughAListenerSetIsServedByItsParentGateway(t *testing.T) {
	ctx := context.Background()
	z, p := servedZone(t)
	ns := tenant(t)
	gw := ownGateway(ns)
	gw.Spec.AllowedListeners = &gwv1.AllowedListeners{Namespaces: &gwv1.ListenerNamespaces{From: ptr.To(gwv1.NamespacesFromSame)}}
	require.NoError(t, k8s.Create(ctx, gw))
	t.Cleanup(func() { _ = k8s.Delete(ctx, gw) })
	ls := listenerSet(ns, gw.Name)
	ls.Spec.Listeners = []gwv1.ListenerEntry{{Name: "http-8080", Port: 8080, Protocol: gwv1.HTTPProtocolType}}
	require.NoError(t, k8s.Create(ctx, ls))

	h := "through-ls." + z.Spec.Domain
	rt := route(ns, h)
	rt.Spec.ParentRefs = []gwv1.ParentReference{{Group: ptr.To(gwv1.Group(gwv1.GroupName)), Kind: ptr.To(gwv1.Kind("ListenerSet")), Name: gwv1.ObjectName(ls.Name)}}
	require.NoError(t, k8s.Create(ctx, rt))
	ownedByItsLoadBalancer(t, z, p, h, func() string { return ownALB(ns, gw.Name) })
}

// claimWhen waits until the claim of h is as ok wants it, and returns it.
func claimWhen(t *testing.T, h string, ok func(*v1alpha1.DomainClaim) bool) *v1alpha1.DomainClaim {
	t.Helper()
	var c *v1alpha1.DomainClaim
	require.Eventually(t, func() bool {
		var err error
		c, err = getClaim(h)
		return err == nil && ok(c)
	}, 60*time.Second, 100*time.Millisecond, "the claim of %s", h)
	return c
}

// seatedThenMoved creates a route of namespace ns for h on the pool's first Gateway (written by
// the user before h has a seat, which admission allows), waits until h is Ready there, and then
// moves the route to Gateway ns/gw. It returns the claim as it was when seated and the pool ALB.
func seatedThenMoved(t *testing.T, z *v1alpha1.ManagedZone, p *v1alpha1.GatewayPool, ns, h, gw string) (*v1alpha1.DomainClaim, string) {
	t.Helper()
	ctx := context.Background()
	rt := route(ns, h)
	first := gatewaypool.GatewayName(p.Name, 1)
	rt.Spec.ParentRefs = []gwv1.ParentReference{{Namespace: ptr.To(gwv1.Namespace(p.Spec.Namespace)), Name: gwv1.ObjectName(first)}}
	require.NoError(t, k8s.Create(ctx, rt))
	c := ready(t, h, 60*time.Second)
	require.NotNil(t, c.Status.Gateway)
	poolALB := dnsbatch.Canonical(c.Status.LoadBalancerHostname)
	target, _ := aliasTarget(z.Spec.HostedZoneID, h)
	require.Equal(t, poolALB, target)
	require.True(t, poolListener(t, p, h))
	require.NoError(t, updateLatest(ctx, rt, func() {
		rt.Spec.ParentRefs = []gwv1.ParentReference{{Name: gwv1.ObjectName(gw)}}
	}))
	return c, poolALB
}
