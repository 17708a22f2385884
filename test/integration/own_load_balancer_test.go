package integration

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/dnsbatch"
	"github.com/opendi/gateway-orchestrator/reconciler/gatewaypool"
	"github.com/opendi/gateway-orchestrator/test/awsfake"
	"github.com/opendi/gateway-orchestrator/test/lbcstandin"
)

// aliasTarget returns the DNS name and hosted zone the zone's A record at h points at ("" when
// there is none).
func aliasTarget(zoneID, h string) (dns, zone string) {
	for _, rs := range env.AWS.Route53.Records(zoneID) {
		if rs.Name == h+"." && rs.Type == "A" && rs.Alias != nil {
			return dnsbatch.Canonical(rs.Alias.DNSName), rs.Alias.HostedZoneID
		}
	}
	return "", ""
}

// ownALB is the DNS name of the ALB the LBC stand-in made for a tenant's own Gateway ("" while
// there is none).
func ownALB(ns, name string) string {
	want := lbcstandin.LoadBalancerName(ns, name)
	for _, lb := range env.AWS.ELB.LoadBalancers() {
		if lb.Name == want {
			return dnsbatch.Canonical(lb.DNSName)
		}
	}
	return ""
}

// poolListener reports whether any Gateway of pool p has a listener for claim name.
func poolListener(t require.TestingT, p *v1alpha1.GatewayPool, name string) bool {
	has, err := hasPoolListener(p, name)
	require.NoError(t, err)
	return has
}

func hasPoolListener(p *v1alpha1.GatewayPool, name string) (bool, error) {
	var l gwv1.GatewayList
	if err := k8s.List(context.Background(), &l, client.InNamespace(p.Spec.Namespace), client.MatchingLabels{gatewaypool.LabelPool: p.Name}); err != nil {
		return false, err
	}
	for _, gw := range l.Items {
		for _, ls := range gw.Spec.Listeners {
			if string(ls.Name) == name {
				return true, nil
			}
		}
	}
	return false, nil
}

// ownGateway is a tenant's own ALB Gateway (LBC's class, so the stand-in programs it like LBC
// would: an ALB in the AWS test server, its address in status, the certificate found by
// hostname), with an HTTPS listener per hostname, or one HTTP listener without a hostname when
// none is given.
func ownGateway(ns string, hostnames ...string) *gwv1.Gateway {
	gw := tenantGateway(ns, hostnames...)
	gw.Spec.GatewayClassName = "alb"
	if len(hostnames) == 0 {
		gw.Spec.Listeners = []gwv1.Listener{{Name: "http", Port: 80, Protocol: gwv1.HTTPProtocolType}}
	}
	return gw
}

// createOwnGateway creates ownGateway(ns, hostnames...) and deletes it when the test ends.
func createOwnGateway(t *testing.T, ns string, hostnames ...string) *gwv1.Gateway {
	t.Helper()
	gw := ownGateway(ns, hostnames...)
	require.NoError(t, k8s.Create(context.Background(), gw))
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), gw) })
	return gw
}

// ownedByItsLoadBalancer waits until h's claim is Ready with no pool seat and its ALIAS at dns,
// and checks that no pool Gateway has a listener for it.
func ownedByItsLoadBalancer(t *testing.T, z *v1alpha1.ManagedZone, p *v1alpha1.GatewayPool, h string, dns func() string) *v1alpha1.DomainClaim {
	t.Helper()
	require.Eventually(t, func() bool {
		target, zone := aliasTarget(z.Spec.HostedZoneID, h)
		c, err := getClaim(h)
		// A seat is given back only after the ALIAS moved (make before break).
		return dns() != "" && target == dns() && zone == awsfake.ALBZoneID && err == nil && c.Status.Gateway == nil
	}, 60*time.Second, 100*time.Millisecond, "the ALIAS of %s points at its own load balancer, and the seat is given back", h)
	c := ready(t, h, 30*time.Second)
	assert.Nil(t, c.Status.Gateway, "no pool seat")
	assert.Equal(t, dns(), dnsbatch.Canonical(c.Status.LoadBalancerHostname))
	assert.Equal(t, v1alpha1.ReasonOwnLoadBalancer, condition(c, v1alpha1.ConditionGatewayAssigned).Reason)
	assert.False(t, poolListener(t, p, h), "no pool Gateway has a listener for %s", h)
	return c
}

func TestAHostnameOfATenantsOwnGatewayIsServedByItsOwnLoadBalancer(t *testing.T) {
	z, p := servedZone(t)
	ns := tenant(t)
	h := "app." + z.Spec.Domain
	gw := createOwnGateway(t, ns, h)

	c := ownedByItsLoadBalancer(t, z, p, h, func() string { return ownALB(ns, gw.Name) })
	assert.Contains(t, condition(c, v1alpha1.ConditionLoadBalancerReady).Message, "Gateway "+ns+"/"+gw.Name)
	require.Eventually(t, func() bool {
		got := listenerCertificates(v1alpha1.ObjectRef{Namespace: ns, Name: gw.Name})
		return len(got) == 1 && got[0] == c.Status.CertificateARN
	}, 30*time.Second, 100*time.Millisecond, "LBC finds the certificate by the listener's hostname")
}

func TestARouteOnItsOwnGatewayIsServedThereAndARouteWithoutParentRefsStillGetsASeat(t *testing.T) {
	ctx := context.Background()
	z, p := servedZone(t)
	ns := tenant(t)
	gw := createOwnGateway(t, ns)

	own := "own." + z.Spec.Domain
	rt := route(ns, own)
	rt.Spec.ParentRefs = []gwv1.ParentReference{{Name: gwv1.ObjectName(gw.Name)}}
	require.NoError(t, k8s.Create(ctx, rt))
	ownedByItsLoadBalancer(t, z, p, own, func() string { return ownALB(ns, gw.Name) })

	pooled := "pooled." + z.Spec.Domain
	require.NoError(t, k8s.Create(ctx, route(ns, pooled)))
	c := ready(t, pooled, 60*time.Second)
	require.NotNil(t, c.Status.Gateway, "a route without parentRefs is served by the pool, as before")
	assert.Equal(t, p.Spec.Namespace, c.Status.Gateway.Namespace)
	assert.True(t, poolListener(t, p, pooled))
	target, _ := aliasTarget(z.Spec.HostedZoneID, pooled)
	assert.Equal(t, dnsbatch.Canonical(c.Status.LoadBalancerHostname), target)
	assert.NotEqual(t, ownALB(ns, gw.Name), target)
}

// createALB makes a load balancer in the AWS test server the way LBC does for an Ingress of its
// class, and returns its DNS name. The stand-in has no Ingress path, so the tests below write the
// Ingress's status address themselves, as LBC would once its ALB exists.
func createALB(t *testing.T, name string) string {
	t.Helper()
	out, err := env.StandIn.ELB.CreateLoadBalancer(context.Background(), &elbv2.CreateLoadBalancerInput{
		Name: aws.String(name), Scheme: elbtypes.LoadBalancerSchemeEnumInternetFacing, Type: elbtypes.LoadBalancerTypeEnumApplication,
	})
	require.NoError(t, err)
	return aws.ToString(out.LoadBalancers[0].DNSName)
}

// publishIngress writes an Ingress's load balancer address, as LBC does.
func publishIngress(t *testing.T, ing *networkingv1.Ingress, dns string) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, k8s.Get(ctx, client.ObjectKeyFromObject(ing), ing))
	ing.Status.LoadBalancer.Ingress = []networkingv1.IngressLoadBalancerIngress{{Hostname: dns}}
	require.NoError(t, k8s.Status().Update(ctx, ing))
}

func TestAnIngressHostIsServedByTheIngresssOwnLoadBalancer(t *testing.T) {
	ctx := context.Background()
	z, p := servedZone(t)
	ns := tenant(t)
	h := "ing." + z.Spec.Domain
	ing := ingress(ns, "alb", h)
	require.NoError(t, k8s.Create(ctx, ing))

	// Until LBC has written the Ingress's address there is nothing to point at: no record, and the
	// claim names what it waits for.
	var c *v1alpha1.DomainClaim
	require.Eventually(t, func() bool {
		var err error
		c, err = getClaim(h)
		cond := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionLoadBalancerReady)
		return err == nil && cond != nil && cond.Reason == v1alpha1.ReasonWaitingForOwnLoadBalancer
	}, 60*time.Second, 100*time.Millisecond)
	lb := condition(c, v1alpha1.ConditionLoadBalancerReady)
	assert.Equal(t, metav1.ConditionFalse, lb.Status)
	assert.Contains(t, lb.Message, "Ingress "+ns+"/"+ing.Name)
	assert.Nil(t, c.Status.Gateway)
	assert.Empty(t, c.Status.LoadBalancerHostname)
	target, _ := aliasTarget(z.Spec.HostedZoneID, h)
	assert.Empty(t, target, "no record while the Ingress has no address")
	assert.False(t, poolListener(t, p, h))
	assert.False(t, meta.IsStatusConditionTrue(c.Status.Conditions, v1alpha1.ConditionReady))

	dns := createALB(t, "k8s-"+ns[:min(len(ns), 12)]+"-ing")
	publishIngress(t, ing, dns)
	ownedByItsLoadBalancer(t, z, p, h, func() string { return dnsbatch.Canonical(dns) })
}

func TestTwoOwnLoadBalancersForOneHostnameWriteNoRecord(t *testing.T) {
	ctx := context.Background()
	z, _ := servedZone(t)
	ns := tenant(t)
	h := "two." + z.Spec.Domain
	a, b := ingress(ns, "alb", h), ingress(ns, "alb", h)
	require.NoError(t, k8s.Create(ctx, a))
	require.NoError(t, k8s.Create(ctx, b))
	publishIngress(t, a, createALB(t, "k8s-"+ns[:min(len(ns), 12)]+"-a"))
	publishIngress(t, b, createALB(t, "k8s-"+ns[:min(len(ns), 12)]+"-b"))

	var c *v1alpha1.DomainClaim
	require.Eventually(t, func() bool {
		var err error
		c, err = getClaim(h)
		cond := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionLoadBalancerReady)
		return err == nil && cond != nil && cond.Reason == v1alpha1.ReasonAmbiguousLoadBalancers
	}, 60*time.Second, 100*time.Millisecond)
	msg := condition(c, v1alpha1.ConditionLoadBalancerReady).Message
	assert.Contains(t, msg, "Ingress "+ns+"/"+a.Name)
	assert.Contains(t, msg, "Ingress "+ns+"/"+b.Name)
	target, _ := aliasTarget(z.Spec.HostedZoneID, h)
	assert.Empty(t, target, "a hostname cannot be an ALIAS of two load balancers")
}

func TestARouteMovingFromThePoolToItsOwnGatewayGivesBackItsSeat(t *testing.T) {
	z, p := servedZone(t)
	ns := tenant(t)
	gw := createOwnGateway(t, ns)

	h := "moving." + z.Spec.Domain
	_, poolALB := seatedThenMoved(t, z, p, ns, h, gw.Name)
	own := func() string { return ownALB(ns, gw.Name) }
	broken := "" // an ALIAS seen elsewhere while the pool listener was already gone
	require.Eventually(t, func() bool {
		has, err := hasPoolListener(p, h)
		target, _ := aliasTarget(z.Spec.HostedZoneID, h)
		c, cerr := getClaim(h)
		if err == nil && !has && target != own() && broken == "" {
			broken = target
		}
		return err == nil && cerr == nil && !has && own() != "" && target == own() && c.Status.Gateway == nil
	}, 60*time.Second, 100*time.Millisecond, "the seat is given back and the ALIAS repointed")
	assert.Empty(t, broken, "make before break: the pool listener goes only once the ALIAS points at the own ALB")
	ownedByItsLoadBalancer(t, z, p, h, own)
	for i := 0; i < 10; i++ {
		target, _ := aliasTarget(z.Spec.HostedZoneID, h)
		require.NotEqual(t, poolALB, target, "the ALIAS never goes back to the pool ALB (%d)", i)
		time.Sleep(100 * time.Millisecond)
	}
}

func TestAnAutoAttachedRouteOptedOutToItsOwnGatewayGivesBackItsSeat(t *testing.T) {
	ctx := context.Background()
	z, p := servedZone(t)
	ns := tenant(t)
	gw := createOwnGateway(t, ns)

	h := "auto." + z.Spec.Domain
	rt := route(ns, h)
	require.NoError(t, k8s.Create(ctx, rt))
	c := ready(t, h, 60*time.Second)
	require.NotNil(t, c.Status.Gateway)
	poolALB := dnsbatch.Canonical(c.Status.LoadBalancerHostname)
	require.Eventually(t, func() bool {
		return k8s.Get(ctx, client.ObjectKeyFromObject(rt), rt) == nil && len(rt.Spec.ParentRefs) == 1 && rt.Annotations[v1alpha1.AnnotationAttachedTo] != ""
	}, 30*time.Second, 100*time.Millisecond, "the routes reconciler attaches the route to its seat")

	// The user opts the route out of automatic attachment and points it at their own Gateway (an
	// auto-attached route keeps a parentRef to its seat: see reseat_routes_test.go).
	require.NoError(t, updateLatest(ctx, rt, func() {
		rt.Annotations[v1alpha1.AnnotationAutoAttach] = "false"
		rt.Spec.ParentRefs = []gwv1.ParentReference{{Name: gwv1.ObjectName(gw.Name)}}
	}))
	ownedByItsLoadBalancer(t, z, p, h, func() string { return ownALB(ns, gw.Name) })
	target, _ := aliasTarget(z.Spec.HostedZoneID, h)
	assert.NotEqual(t, poolALB, target)
	refs, _ := parentsOf(t, rt)
	require.Len(t, refs, 1, "the orchestrator leaves an opted-out route alone")
	assert.Equal(t, gw.Name, string(refs[0].Name))
}

func TestAListenerSetOnATenantsOwnGatewayIsServedByThatGatewaysLoadBalancer(t *testing.T) {
	ctx := context.Background()
	z, p := servedZone(t)
	ns := tenant(t)
	gw := ownGateway(ns)
	gw.Spec.AllowedListeners = &gwv1.AllowedListeners{Namespaces: &gwv1.ListenerNamespaces{From: ptr.To(gwv1.NamespacesFromSame)}}
	require.NoError(t, k8s.Create(ctx, gw))
	t.Cleanup(func() { _ = k8s.Delete(ctx, gw) })

	h := "extra." + z.Spec.Domain
	require.NoError(t, k8s.Create(ctx, listenerSet(ns, gw.Name, h)))
	ownedByItsLoadBalancer(t, z, p, h, func() string { return ownALB(ns, gw.Name) })
}
