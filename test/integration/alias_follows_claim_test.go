package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/dnsbatch"
	"github.com/opendi/gateway-orchestrator/reconciler/dns"
)

// recordsAt lists the types of the records of the AWS test server's zone at h, and at the names
// of their ownership markers.
func recordsAt(zoneID, h string) []string {
	var out []string
	for _, rs := range env.AWS.Route53.Records(zoneID) {
		name := dnsbatch.Canonical(rs.Name)
		if name == dnsbatch.Canonical(h) || name == dnsbatch.MarkerName(h, "A") || name == dnsbatch.MarkerName(h, "AAAA") {
			out = append(out, name+" "+rs.Type)
		}
	}
	return out
}

// servedByNothing waits until h's ALIAS is gone from the zone in Route53 and its claim says why
// (DNSRecordReady=False/NoLoadBalancer naming GatewayAssigned's reason and the load balancer the
// records pointed at), and that it took the grace, not less: notServedSince is when the claim
// first said GatewayAssigned=False with reason.
func servedByNothing(t *testing.T, z *v1alpha1.ManagedZone, h, reason, was string) {
	t.Helper()
	var since, gone time.Time
	var c *v1alpha1.DomainClaim
	require.Eventually(t, func() bool {
		var err error
		if c, err = getClaim(h); err != nil {
			return false
		}
		if a := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionGatewayAssigned); since.IsZero() && a != nil && a.Reason == reason {
			since = time.Now()
			target, _ := aliasTarget(z.Spec.HostedZoneID, h)
			assert.Equal(t, was, target, "the ALIAS stays where it was through the grace")
		}
		if target, _ := aliasTarget(z.Spec.HostedZoneID, h); gone.IsZero() && target == "" {
			gone = time.Now()
		}
		d := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionDNSRecord)
		return !gone.IsZero() && d != nil && d.Reason == v1alpha1.ReasonNoLoadBalancer
	}, 90*time.Second, 100*time.Millisecond, "the ALIAS of %s goes once nothing serves it, and the claim says why", h)
	require.False(t, since.IsZero())
	assert.GreaterOrEqual(t, gone.Sub(since), dns.DefaultNotServedGrace-2*time.Second, "not before the grace (the API keeps seconds)")
	assert.Empty(t, recordsAt(z.Spec.HostedZoneID, h), "neither the ALIAS records nor their ownership markers are left")

	d := condition(c, v1alpha1.ConditionDNSRecord)
	assert.Equal(t, metav1.ConditionFalse, d.Status)
	assert.Contains(t, d.Message, "no load balancer serves "+h+" any more (GatewayAssigned=False/"+reason)
	assert.Contains(t, d.Message, "its ALIAS records were removed rather than left pointing at "+strings.TrimSuffix(was, ".")+",")
	assert.Nil(t, c.Status.AliasTarget, "the records point at no load balancer")
	ready := condition(c, v1alpha1.ConditionReady)
	assert.Equal(t, metav1.ConditionFalse, ready.Status)
	assert.Equal(t, reason, ready.Reason, "Ready names the step that is missing: GatewayAssigned")
}

func TestAZoneThatLosesItsPoolTakesTheALIASOfAClaimServedByNothingAwayAndGivesItBackWithAPool(t *testing.T) {
	ctx := context.Background()
	z, p := servedZone(t)
	ns := tenant(t)
	h := "lost." + z.Spec.Domain
	require.NoError(t, k8s.Create(ctx, route(ns, h)))
	c := ready(t, h, 60*time.Second)
	was := dnsbatch.Canonical(c.Status.LoadBalancerHostname)
	target, _ := aliasTarget(z.Spec.HostedZoneID, h)
	require.Equal(t, was, target)

	// The administrator takes the pool away: its Gateways no longer serve the zone's names.
	require.NoError(t, updateLatest(ctx, z, func() { z.Spec.GatewayPoolRef = nil }))
	servedByNothing(t, z, h, v1alpha1.ReasonNoGatewayPool, was)

	// and gives it back: the records are written again.
	require.NoError(t, updateLatest(ctx, z, func() { z.Spec.GatewayPoolRef = &v1alpha1.LocalObjectReference{Name: p.Name} }))
	c = ready(t, h, 60*time.Second)
	target, _ = aliasTarget(z.Spec.HostedZoneID, h)
	assert.Equal(t, dnsbatch.Canonical(c.Status.LoadBalancerHostname), target)
	assert.Equal(t, v1alpha1.ReasonCreated, condition(c, v1alpha1.ConditionDNSRecord).Reason)
}

func TestAHostnameWhoseOwnLoadBalancerIsDeletedInAZoneWithoutPoolLosesItsALIAS(t *testing.T) {
	ctx := context.Background()
	t.Run("an Ingress", func(t *testing.T) {
		z := newZone(t)
		ns := tenant(t)
		h := "ing." + z.Spec.Domain
		ing := ingress(ns, "alb", h)
		require.NoError(t, k8s.Create(ctx, ing))
		raw := createALB(t, "k8s-"+ns[:min(len(ns), 12)]+"-gone")
		publishIngress(t, ing, raw)
		alb := dnsbatch.Canonical(raw)
		require.Eventually(t, func() bool { target, _ := aliasTarget(z.Spec.HostedZoneID, h); return target == alb },
			60*time.Second, 100*time.Millisecond, "the ALIAS points at the Ingress's ALB")
		ready(t, h, 30*time.Second)

		require.NoError(t, k8s.Delete(ctx, ing))
		servedByNothing(t, z, h, v1alpha1.ReasonNoGatewayPool, alb)
	})
	t.Run("a Gateway listing the hostname", func(t *testing.T) {
		z := newZone(t)
		ns := tenant(t)
		h := "gw." + z.Spec.Domain
		gw := createOwnGateway(t, ns, h)
		own := func() string { return ownALB(ns, gw.Name) }
		require.Eventually(t, func() bool { target, _ := aliasTarget(z.Spec.HostedZoneID, h); return own() != "" && target == own() },
			60*time.Second, 100*time.Millisecond, "the ALIAS points at the Gateway's ALB")
		ready(t, h, 30*time.Second)
		alb := own()

		require.NoError(t, k8s.Delete(ctx, gw))
		servedByNothing(t, z, h, v1alpha1.ReasonNoGatewayPool, alb)
	})
}

// TestARouteWhoseOwnGatewayIsDeletedLosesItsALIAS: the route stays and names a Gateway that is
// gone, so nothing serves its hostname; in a zone with a pool too (no seat is taken for it: the
// route does not use the pool).
func TestARouteWhoseOwnGatewayIsDeletedLosesItsALIAS(t *testing.T) {
	ctx := context.Background()
	for name, zone := range map[string]func(t *testing.T) *v1alpha1.ManagedZone{
		"in a zone without a pool": func(t *testing.T) *v1alpha1.ManagedZone { return newZone(t) },
		"in a zone with a pool":    func(t *testing.T) *v1alpha1.ManagedZone { z, _ := servedZone(t); return z },
	} {
		t.Run(name, func(t *testing.T) {
			z := zone(t)
			ns := tenant(t)
			gw := createOwnGateway(t, ns)
			h := "route." + z.Spec.Domain
			rt := route(ns, h)
			rt.Spec.ParentRefs = []gwv1.ParentReference{{Name: gwv1.ObjectName(gw.Name)}}
			require.NoError(t, k8s.Create(ctx, rt))
			own := func() string { return ownALB(ns, gw.Name) }
			require.Eventually(t, func() bool { target, _ := aliasTarget(z.Spec.HostedZoneID, h); return own() != "" && target == own() },
				60*time.Second, 100*time.Millisecond, "the ALIAS points at the route's Gateway's ALB")
			alb := own()

			require.NoError(t, k8s.Delete(ctx, gw))
			servedByNothing(t, z, h, v1alpha1.ReasonLoadBalancerNotFound, alb)
			c, err := getClaim(h)
			require.NoError(t, err)
			assert.Contains(t, condition(c, v1alpha1.ConditionGatewayAssigned).Message, "Gateway "+ns+"/"+gw.Name+" does not exist, so nothing serves "+h)
			assert.Nil(t, c.Status.Gateway, "no pool seat: the route does not use the pool")
		})
	}
}

// TestAPoolMoveNeverTakesTheALIASAway deletes the Gateway a hostname is seated on (its load
// balancer takes a while to go): the claim's load balancer is forgotten while its new seat's is
// not known yet, which is no reason to remove anything. The A record is read every 50 ms from the
// seat's loss until well past the grace after the claim is Ready on its new Gateway.
func TestAPoolMoveNeverTakesTheALIASAway(t *testing.T) {
	ctx := context.Background()
	z, _ := servedZone(t)
	ns := tenant(t)
	h := "stays." + z.Spec.Domain
	require.NoError(t, k8s.Create(ctx, route(ns, h)))
	old := *ready(t, h, 60*time.Second).Status.Gateway

	gw := &gwv1.Gateway{}
	require.NoError(t, k8s.Get(ctx, client.ObjectKey{Namespace: old.Namespace, Name: old.Name}, gw))
	env.StandIn.HoldDeletion(old.Namespace, old.Name)
	defer env.StandIn.ReleaseDeletion(old.Namespace, old.Name)
	require.NoError(t, k8s.Delete(ctx, gw))

	absent := 0
	var movedAt time.Time
	var cleared bool // seen: the claim had a seat and no load balancer (the window this test is about)
	deadline := time.Now().Add(120 * time.Second)
	for time.Now().Before(deadline) {
		if target, _ := aliasTarget(z.Spec.HostedZoneID, h); target == "" {
			absent++
		}
		c, err := getClaim(h)
		require.NoError(t, err)
		if c.Status.Gateway != nil && c.Status.LoadBalancerHostname == "" {
			cleared = true
		}
		if movedAt.IsZero() && c.Status.Gateway != nil && *c.Status.Gateway != old && meta.IsStatusConditionTrue(c.Status.Conditions, v1alpha1.ConditionReady) {
			movedAt = time.Now()
		}
		if !movedAt.IsZero() && time.Since(movedAt) > dns.DefaultNotServedGrace+3*time.Second {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	require.False(t, movedAt.IsZero(), "the claim is seated on another Gateway and Ready")
	assert.True(t, cleared, "the move went through a moment without a load balancer")
	assert.Zero(t, absent, "the A record was never absent during the move")
	c, err := getClaim(h)
	require.NoError(t, err)
	target, _ := aliasTarget(z.Spec.HostedZoneID, h)
	assert.Equal(t, dnsbatch.Canonical(c.Status.LoadBalancerHostname), target, "the ALIAS follows the new seat")

	env.StandIn.ReleaseDeletion(old.Namespace, old.Name)
	require.Eventually(t, func() bool {
		err := k8s.Get(ctx, client.ObjectKey{Namespace: old.Namespace, Name: old.Name}, gw)
		return apierrors.IsNotFound(err) || err == nil && gw.DeletionTimestamp.IsZero()
	}, 30*time.Second, 100*time.Millisecond)
}
