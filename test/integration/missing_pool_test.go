package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/dnsbatch"
	"github.com/opendi/gateway-orchestrator/test/builders"
)

// gatewayPoolNotFound waits until h's claim says GatewayAssigned=False/GatewayPoolNotFound naming
// zone z and pool, and Ready names it.
func gatewayPoolNotFound(t *testing.T, z *v1alpha1.ManagedZone, pool, h string) *v1alpha1.DomainClaim {
	t.Helper()
	var c *v1alpha1.DomainClaim
	require.Eventually(t, func() bool {
		var err error
		c, err = getClaim(h)
		if err != nil {
			return false
		}
		a, r := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionGatewayAssigned), meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionReady)
		return a != nil && a.Reason == v1alpha1.ReasonGatewayPoolNotFound && r != nil && r.Reason == v1alpha1.ReasonGatewayPoolNotFound
	}, 60*time.Second, 100*time.Millisecond, "claim %s says its zone's pool does not exist", h)
	a := condition(c, v1alpha1.ConditionGatewayAssigned)
	assert.Equal(t, metav1.ConditionFalse, a.Status)
	assert.Contains(t, a.Message, "ManagedZone "+z.Name+" names GatewayPool "+pool+" in spec.gatewayPoolRef, but no GatewayPool "+pool+" exists")
	assert.Contains(t, a.Message, "create GatewayPool "+pool+" or to correct spec.gatewayPoolRef of ManagedZone "+z.Name)
	assert.Contains(t, a.Message, "your own Gateway or Ingress")
	assert.Contains(t, condition(c, v1alpha1.ConditionReady).Message, v1alpha1.ConditionGatewayAssigned+": ManagedZone "+z.Name+" names GatewayPool "+pool)
	assert.Nil(t, c.Status.Gateway)
	assert.Empty(t, c.Status.LoadBalancerHostname)
	return c
}

// zoneSays waits until zone z's GatewayPoolFound condition has status and reason, and a message
// containing text.
func zoneSays(t *testing.T, z *v1alpha1.ManagedZone, status metav1.ConditionStatus, reason, text string) {
	t.Helper()
	require.Eventually(t, func() bool {
		got := &v1alpha1.ManagedZone{}
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(z), got); err != nil {
			return false
		}
		cond := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ZoneConditionGatewayPool)
		return cond != nil && cond.Status == status && cond.Reason == reason && strings.Contains(cond.Message, text)
	}, 30*time.Second, 100*time.Millisecond, "ManagedZone %s says %s=%s/%s", z.Name, v1alpha1.ZoneConditionGatewayPool, status, reason)
}

func TestAZoneNamingAPoolThatDoesNotExistSaysSoUntilThePoolIsCreated(t *testing.T) {
	ctx := context.Background()
	poolName := unique("pool")

	// The administrator is warned at once.
	seen := &warningsSeen{}
	cfg := rest.CopyConfig(env.Config)
	cfg.WarningHandlerWithContext = seen
	admin, err := client.New(cfg, client.Options{Scheme: k8s.Scheme()})
	require.NoError(t, err)
	z := builders.Zone(unique("zone"), func(z *v1alpha1.ManagedZone) {
		z.Spec.GatewayPoolRef = &v1alpha1.LocalObjectReference{Name: poolName}
	})
	z.Spec.HostedZoneID = env.AWS.Route53.AddZone(z.Spec.Domain)
	require.NoError(t, admin.Create(ctx, z), "admitted: the pool may come next")
	waitForZone(t, z.Spec.Domain)
	assert.Contains(t, seen.all(), `GatewayPool "`+poolName+`" does not exist yet`)
	assert.Contains(t, seen.all(), "GatewayAssigned=False/"+v1alpha1.ReasonGatewayPoolNotFound)
	zoneSays(t, z, metav1.ConditionFalse, v1alpha1.ReasonGatewayPoolNotFound, "spec.gatewayPoolRef names GatewayPool "+poolName+", which does not exist")

	// A route that needs the pool is told what is missing; a hostname on the team's own Gateway
	// is served there, as in a zone without a pool.
	ns := tenant(t)
	h := "waits." + z.Spec.Domain
	require.NoError(t, k8s.Create(ctx, route(ns, h)))
	gatewayPoolNotFound(t, z, poolName, h)
	target, _ := aliasTarget(z.Spec.HostedZoneID, h)
	assert.Empty(t, target, "no record: nothing serves the name")

	ownH := "own." + z.Spec.Domain
	ing := ingress(ns, "alb", ownH)
	require.NoError(t, k8s.Create(ctx, ing))
	raw := createALB(t, "k8s-"+ns[:min(len(ns), 12)]+"-own")
	publishIngress(t, ing, raw)
	require.Eventually(t, func() bool {
		target, _ := aliasTarget(z.Spec.HostedZoneID, ownH)
		return target == dnsbatch.Canonical(raw)
	}, 60*time.Second, 100*time.Millisecond, "the Ingress's hostname is served by its own ALB")
	assert.Equal(t, v1alpha1.ReasonOwnLoadBalancer, condition(ready(t, ownH, 30*time.Second), v1alpha1.ConditionGatewayAssigned).Reason)

	// The pool is created: it takes the claim over, and nothing flaps back.
	gwNS := unique("gw")
	require.NoError(t, k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: gwNS}}))
	require.NoError(t, k8s.Create(ctx, pool(poolName, func(p *v1alpha1.GatewayPool) { p.Spec.Namespace = gwNS })))
	zoneSays(t, z, metav1.ConditionTrue, v1alpha1.ReasonGatewayPoolExists, "GatewayPool "+poolName+" serves")
	c := seatedByThePoolForGood(t, z, h, gwNS)
	assert.Equal(t, v1alpha1.ReasonOwnLoadBalancer, condition(ready(t, ownH, 30*time.Second), v1alpha1.ConditionGatewayAssigned).Reason,
		"the Ingress's hostname stays on its own ALB")

	// A typo in the zone's pool later: the claim says so, and its ALIAS does not stay on the
	// ALB of the pool that no longer serves the zone.
	was := dnsbatch.Canonical(c.Status.LoadBalancerHostname)
	typo := poolName + "-typo"
	require.NoError(t, updateLatest(ctx, z, func() { z.Spec.GatewayPoolRef = &v1alpha1.LocalObjectReference{Name: typo} }))
	gatewayPoolNotFound(t, z, typo, h)
	zoneSays(t, z, metav1.ConditionFalse, v1alpha1.ReasonGatewayPoolNotFound, "GatewayPool "+typo+", which does not exist")
	servedByNothing(t, z, h, v1alpha1.ReasonGatewayPoolNotFound, was)
}
