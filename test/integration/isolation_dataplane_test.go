package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/test/lbcstandin"
	"github.com/opendi/gateway-orchestrator/test/testenv"
	"github.com/opendi/gateway-orchestrator/webhook"
)

// bypassNamespace returns a namespace the webhooks do not see (they exclude the orchestrator's
// own), labelled like a tenant so that a zone lets an admin give it a hostname: routes created
// there stand for anything that reaches the API server around admission.
func bypassNamespace(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	ns := &corev1.Namespace{}
	err := k8s.Get(ctx, client.ObjectKey{Name: testenv.OwnNamespace}, ns)
	if apierrors.IsNotFound(err) {
		ns = &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: testenv.OwnNamespace, Labels: map[string]string{"tenant": "true"}}}
		require.NoError(t, k8s.Create(ctx, ns))
		return ns.Name
	}
	require.NoError(t, err)
	if ns.Labels["tenant"] != "true" {
		patch := client.MergeFrom(ns.DeepCopy())
		if ns.Labels == nil {
			ns.Labels = map[string]string{}
		}
		ns.Labels["tenant"] = "true"
		require.NoError(t, k8s.Patch(ctx, ns, patch))
	}
	return ns.Name
}

// servingRoute is an HTTPRoute for hostnames whose one rule sends path prefix to a Service.
func servingRoute(ns, service, prefix string, hostnames ...string) *gwv1.HTTPRoute {
	r := route(ns, hostnames...)
	r.Spec.Rules = []gwv1.HTTPRouteRule{{
		Matches:     []gwv1.HTTPRouteMatch{{Path: &gwv1.HTTPPathMatch{Type: ptr.To(gwv1.PathMatchPathPrefix), Value: ptr.To(prefix)}}},
		BackendRefs: []gwv1.HTTPBackendRef{{BackendRef: gwv1.BackendRef{BackendObjectReference: gwv1.BackendObjectReference{Name: gwv1.ObjectName(service), Port: ptr.To(gwv1.PortNumber(80))}}}},
	}}
	return r
}

// grpcRoute is a GRPCRoute for hostnames with an exact method match, which LBC ranks above
// any path prefix of the same host.
func backendGRPCRoute(ns, service string, parent gwv1.ParentReference, hostnames ...string) *gwv1.GRPCRoute {
	r := &gwv1.GRPCRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: unique("grpc")}}
	r.Spec.ParentRefs = []gwv1.ParentReference{parent}
	for _, h := range hostnames {
		r.Spec.Hostnames = append(r.Spec.Hostnames, gwv1.Hostname(h))
	}
	r.Spec.Rules = []gwv1.GRPCRouteRule{{
		Matches:     []gwv1.GRPCRouteMatch{{Method: &gwv1.GRPCMethodMatch{Service: ptr.To("shop.Cart"), Method: ptr.To("Checkout")}}},
		BackendRefs: []gwv1.GRPCBackendRef{{BackendRef: gwv1.BackendRef{BackendObjectReference: gwv1.BackendObjectReference{Name: gwv1.ObjectName(service), Port: ptr.To(gwv1.PortNumber(80))}}}},
	}}
	return r
}

func gatewayParent(gw v1alpha1.ObjectRef) gwv1.ParentReference {
	return gwv1.ParentReference{Namespace: ptr.To(gwv1.Namespace(gw.Namespace)), Name: gwv1.ObjectName(gw.Name)}
}

// deniedOrCreated creates an object that admission may deny; a denial is fine (admission is one
// guard), any other error is not.
func deniedOrCreated(t *testing.T, o client.Object) bool {
	t.Helper()
	err := k8s.Create(context.Background(), o)
	if apierrors.IsInvalid(err) || apierrors.IsForbidden(err) {
		t.Logf("admission denied %s/%s: %v", o.GetNamespace(), o.GetName(), err)
		return false
	}
	require.NoError(t, err)
	return true
}

// lbcVerdict waits until the stand-in has written its status entry for the route and returns
// whether it accepted the route.
func lbcVerdict(t *testing.T, o client.Object) bool {
	t.Helper()
	var accepted *metav1.Condition
	require.Eventually(t, func() bool {
		var parents []gwv1.RouteParentStatus
		switch r := o.(type) {
		case *gwv1.HTTPRoute:
			got := &gwv1.HTTPRoute{}
			if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(r), got); err != nil {
				return false
			}
			parents = got.Status.Parents
		case *gwv1.GRPCRoute:
			got := &gwv1.GRPCRoute{}
			if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(r), got); err != nil {
				return false
			}
			parents = got.Status.Parents
		}
		for _, p := range parents {
			if p.ControllerName == lbcstandin.ControllerName {
				accepted = meta.FindStatusCondition(p.Conditions, "Accepted")
			}
		}
		return accepted != nil
	}, 20*time.Second, 100*time.Millisecond, "the stand-in reports on route %s/%s", o.GetNamespace(), o.GetName())
	return accepted.Status == metav1.ConditionTrue
}

// standInSaw waits until the stand-in has judged Gateway gw as it is now. A claim is Ready once
// its Gateway was written with the claim's listener, and the stand-in may still judge a route
// created then against the Gateway it saw before (and judge it again later): after this, its
// first verdict on a new route is its last.
func standInSaw(t *testing.T, gw v1alpha1.ObjectRef) {
	t.Helper()
	require.Eventually(t, func() bool {
		got := &gwv1.Gateway{}
		if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: gw.Namespace, Name: gw.Name}, got); err != nil {
			return false // not yet
		}
		c := meta.FindStatusCondition(got.Status.Conditions, "Accepted")
		return c != nil && c.ObservedGeneration == got.Generation
	}, 20*time.Second, 50*time.Millisecond, "the stand-in has seen Gateway %s/%s as it is", gw.Namespace, gw.Name)
}

// TestForeignRoutesReachNoHostnameOnTheALB has team-a serve shop.<zone> (only under /shop), and
// lets three others at it on the same ALB: team-b's route without hostnames, team-c's GRPCRoute
// listing shop.<zone>, and the same two from a namespace admission does not see but which owns a
// hostname on that Gateway (so a listener shared by all owners would admit it). Whatever
// admission does with the first two, a request for shop.<zone> must reach team-a or nothing.
func TestForeignRoutesReachNoHostnameOnTheALB(t *testing.T) {
	ctx := context.Background()
	z, _ := servedZone(t)
	teamA, teamB, teamC, bypass := tenant(t), tenant(t), tenant(t), bypassNamespace(t)
	shop, blog, api := "shop."+z.Spec.Domain, "blog."+z.Spec.Domain, "api."+z.Spec.Domain

	require.NoError(t, k8s.Create(ctx, servingRoute(teamA, "shop", "/shop", shop)))
	require.NoError(t, k8s.Create(ctx, servingRoute(teamB, "blog", "/", blog)))
	require.NoError(t, k8s.Create(ctx, adminClaim(api, bypass)))
	cShop, cBlog, cAPI := ready(t, shop, 60*time.Second), ready(t, blog, 60*time.Second), ready(t, api, 60*time.Second)
	gw := *cShop.Status.Gateway
	require.Equal(t, gw, *cBlog.Status.Gateway, "first fit seats all three on one Gateway")
	require.Equal(t, gw, *cAPI.Status.Gateway)
	standInSaw(t, gw)

	hostless := func(ns string) *gwv1.HTTPRoute {
		r := servingRoute(ns, "thief", "/")
		r.Spec.ParentRefs = []gwv1.ParentReference{gatewayParent(gw)}
		return r
	}
	var attackers []client.Object
	if r := hostless(teamB); deniedOrCreated(t, r) {
		attackers = append(attackers, r)
	}
	if r := backendGRPCRoute(teamC, "thief", gatewayParent(gw), shop); deniedOrCreated(t, r) {
		attackers = append(attackers, r)
	}
	bypassHostless := hostless(bypass)
	require.NoError(t, k8s.Create(ctx, bypassHostless))
	bypassGRPC := backendGRPCRoute(bypass, "thief", gatewayParent(gw), shop)
	require.NoError(t, k8s.Create(ctx, bypassGRPC))
	attackers = append(attackers, bypassHostless, bypassGRPC)

	assert.True(t, lbcVerdict(t, bypassHostless), "a hostless route attaches to its own namespace's listener (and gets its hostname)")
	assert.False(t, lbcVerdict(t, bypassGRPC), "a route listing a foreign hostname attaches nowhere")
	for _, o := range attackers {
		lbcVerdict(t, o) // the rule table includes every attacker that got through
	}

	teamAShop := types.NamespacedName{Namespace: teamA, Name: "shop"}
	for _, path := range []string{"/shop", "/shop/cart", "/", "/other", "/shop.Cart/Checkout"} {
		got, ok := env.StandIn.Resolve(gw.Namespace, gw.Name, shop, path)
		if ok {
			assert.Equal(t, teamAShop, got, "https://%s%s reaches only team-a", shop, path)
		}
	}
	got, ok := env.StandIn.Resolve(gw.Namespace, gw.Name, shop, "/shop/cart")
	assert.True(t, ok)
	assert.Equal(t, teamAShop, got, "team-a's own route serves its hostname")
	got, ok = env.StandIn.Resolve(gw.Namespace, gw.Name, api, "/anything")
	assert.True(t, ok)
	assert.Equal(t, types.NamespacedName{Namespace: bypass, Name: "thief"}, got, "the hostless route serves its own namespace's hostname only")
	got, ok = env.StandIn.Resolve(gw.Namespace, gw.Name, blog, "/")
	assert.True(t, ok)
	assert.Equal(t, types.NamespacedName{Namespace: teamB, Name: "blog"}, got)

	require.Eventually(t, func() bool {
		c, err := getClaim(shop)
		return err == nil && meta.IsStatusConditionTrue(c.Status.Conditions, v1alpha1.ConditionStrayRoutes)
	}, 20*time.Second, 100*time.Millisecond, "the claim names the routes of other namespaces that list its hostname")
	c, _ := getClaim(shop)
	assert.Contains(t, meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionStrayRoutes).Message, "GRPCRoute "+bypass+"/"+bypassGRPC.Name)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.NotEmpty(c, routeEvent(c, bypassGRPC, v1alpha1.EventHostnameNotOwned))
	},
		20*time.Second, 100*time.Millisecond, "the GRPCRoute gets a Warning Event")
	assert.Contains(t, routeEvent(t, bypassGRPC, v1alpha1.EventHostnameNotOwned), "belongs to namespace "+teamA)

	// The bypass namespace is shared by the package's tests: leave nothing there.
	require.NoError(t, k8s.Delete(ctx, bypassHostless))
	require.NoError(t, k8s.Delete(ctx, bypassGRPC))
}

// TestTransferMovesTheHostnameToTheNewOwnerOnTheALB transfers a hostname from team-a to team-b:
// from then on the ALB never sends it to team-a's route, team-a's route is told, and team-b's
// route serves it.
func TestTransferMovesTheHostnameToTheNewOwnerOnTheALB(t *testing.T) {
	ctx := context.Background()
	z, _ := servedZone(t)
	teamA, teamB := tenant(t), tenant(t)
	shop := "shop." + z.Spec.Domain
	old := servingRoute(teamA, "shop-a", "/", shop)
	require.NoError(t, k8s.Create(ctx, old))
	gw := *ready(t, shop, 60*time.Second).Status.Gateway
	// team-a keeps another hostname on the same Gateway, so its namespace stays an owner there.
	require.NoError(t, k8s.Create(ctx, servingRoute(teamA, "keep-a", "/", "keep."+z.Spec.Domain)))
	require.Equal(t, gw, *ready(t, "keep."+z.Spec.Domain, 60*time.Second).Status.Gateway)
	require.Eventually(t, func() bool {
		got, ok := env.StandIn.Resolve(gw.Namespace, gw.Name, shop, "/")
		return ok && got.Namespace == teamA
	}, 20*time.Second, 100*time.Millisecond, "team-a serves the hostname before the transfer")

	require.NoError(t, retry.RetryOnConflict(retry.DefaultRetry, func() error {
		c, err := getClaim(shop)
		if err != nil {
			return err
		}
		c.Spec.Namespace = teamB
		return k8s.Update(ctx, c)
	}))
	moved, err := getClaim(shop)
	require.NoError(t, err)
	assert.Equal(t, teamB, moved.Labels[webhook.LabelOwner], "the owner label follows the transfer")
	require.Eventually(t, func() bool {
		got, ok := env.StandIn.Resolve(gw.Namespace, gw.Name, shop, "/")
		return !ok || got.Namespace != teamA
	}, 20*time.Second, 50*time.Millisecond, "after the transfer the ALB stops sending the hostname to team-a")

	require.NoError(t, k8s.Create(ctx, servingRoute(teamB, "shop-b", "/", shop)))
	deadline := time.Now().Add(30 * time.Second)
	servedByB := false
	for time.Now().Before(deadline) && !servedByB {
		got, ok := env.StandIn.Resolve(gw.Namespace, gw.Name, shop, "/")
		require.False(t, ok && got.Namespace == teamA, "the former owner is never served again")
		servedByB = ok && got == types.NamespacedName{Namespace: teamB, Name: "shop-b"}
		time.Sleep(50 * time.Millisecond)
	}
	assert.True(t, servedByB, "the new owner's route serves the hostname")

	require.EventuallyWithT(t, func(c *assert.CollectT) { assert.NotEmpty(c, routeEvent(c, old, v1alpha1.EventHostnameNotOwned)) },
		20*time.Second, 100*time.Millisecond, "the former owner's route gets a Warning Event")
	assert.Contains(t, routeEvent(t, old, v1alpha1.EventHostnameNotOwned), "belongs to namespace "+teamB)
	require.Eventually(t, func() bool {
		c, err := getClaim(shop)
		cond := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionStrayRoutes)
		return err == nil && cond != nil && cond.Status == metav1.ConditionTrue
	}, 20*time.Second, 100*time.Millisecond)
	c, _ := getClaim(shop)
	assert.Contains(t, meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionStrayRoutes).Message, "HTTPRoute "+teamA+"/"+old.Name)
}

// TestDeletingTheMiddleGatewayMovesItsClaims deletes the second of three Gateways while more
// claims arrive (its load balancer takes a while to go): no claim is seated on it, its claims
// move with their certificates, and no ALIAS is left on its ALB.
func TestDeletingTheMiddleGatewayMovesItsClaims(t *testing.T) {
	ctx := context.Background()
	z, p := servedZone(t, func(p *v1alpha1.GatewayPool) { p.Spec.MaxCertificatesPerGateway, p.Spec.MaxRulesPerGateway = 2, 2 })
	ns := tenant(t)
	name := func(i int) string { return fmt.Sprintf("m%d.%s", i, z.Spec.Domain) }
	for i := 0; i < 6; i++ {
		require.NoError(t, k8s.Create(ctx, route(ns, name(i))))
	}
	onMiddle := map[string]bool{}
	middle := p.Name + "-2"
	for i := 0; i < 6; i++ {
		if c := ready(t, name(i), 90*time.Second); c.Status.Gateway.Name == middle {
			onMiddle[c.Name] = true
		}
	}
	require.Len(t, onMiddle, 2, "first fit puts two claims on the middle Gateway")

	gw := &gwv1.Gateway{}
	require.NoError(t, k8s.Get(ctx, client.ObjectKey{Namespace: p.Spec.Namespace, Name: middle}, gw))
	uid := gw.UID
	middleALB := lbcstandin.LoadBalancerName(p.Spec.Namespace, middle)
	env.StandIn.HoldDeletion(p.Spec.Namespace, middle)
	defer env.StandIn.ReleaseDeletion(p.Spec.Namespace, middle)
	require.NoError(t, k8s.Delete(ctx, gw))
	for i := 6; i < 10; i++ {
		require.NoError(t, k8s.Create(ctx, route(ns, name(i))))
	}

	// While the middle Gateway is being deleted, nothing is seated on it and its claims move.
	seatedOnDeleted := map[string]bool{} // claims seated on the middle Gateway while it was being deleted
	require.Eventually(t, func() bool {
		for i := 0; i < 10; i++ {
			c, err := getClaim(name(i))
			if err != nil {
				return false
			}
			if c.Status.Gateway != nil && c.Status.Gateway.Name == middle {
				if !onMiddle[c.Name] || i >= 6 {
					seatedOnDeleted[c.Name] = true
				}
				return false
			}
			if !meta.IsStatusConditionTrue(c.Status.Conditions, v1alpha1.ConditionReady) {
				return false
			}
		}
		return true
	}, 90*time.Second, 100*time.Millisecond, "every claim is Ready on another Gateway")
	assert.Empty(t, seatedOnDeleted, "claims seated on the Gateway being deleted")
	require.NoError(t, k8s.Get(ctx, client.ObjectKey{Namespace: p.Spec.Namespace, Name: middle}, gw))
	require.False(t, gw.DeletionTimestamp.IsZero(), "the middle Gateway is still being deleted")
	require.Equal(t, uid, gw.UID)
	for c := range onMiddle {
		got, err := getClaim(c)
		require.NoError(t, err)
		assert.Contains(t, listenerCertificates(*got.Status.Gateway), got.Status.CertificateARN, "the certificate of %s moved with it", c)
	}
	require.Eventually(t, func() bool { return aliasesPointAtLiveALBs(z, middleALB) }, 30*time.Second, 100*time.Millisecond,
		"every ALIAS is repointed away from the ALB being deleted")

	env.StandIn.ReleaseDeletion(p.Spec.Namespace, middle)
	require.Eventually(t, func() bool {
		err := k8s.Get(ctx, client.ObjectKey{Namespace: p.Spec.Namespace, Name: middle}, gw)
		return apierrors.IsNotFound(err) || err == nil && gw.UID != uid
	}, 30*time.Second, 100*time.Millisecond, "the Gateway is gone once its load balancer is")
	assert.True(t, aliasesPointAtLiveALBs(z, middleALB), "no ALIAS points at a deleted ALB")
}

// aliasesPointAtLiveALBs reports whether every ALIAS in the zone points at an existing load
// balancer other than avoid.
func aliasesPointAtLiveALBs(z *v1alpha1.ManagedZone, avoid string) bool {
	live := map[string]bool{}
	for _, lb := range env.AWS.ELB.LoadBalancers() {
		if lb.Name != avoid {
			live[strings.ToLower(strings.TrimSuffix(lb.DNSName, "."))] = true
		}
	}
	n := 0
	for _, rs := range env.AWS.Route53.Records(z.Spec.HostedZoneID) {
		if rs.Alias == nil {
			continue
		}
		n++
		if !live[strings.ToLower(strings.TrimSuffix(rs.Alias.DNSName, "."))] {
			return false
		}
	}
	return n > 0
}

func TestPoolWhoseGatewaysCouldExceedSixtyFourListenersIsDenied(t *testing.T) {
	ctx := context.Background()
	err := k8s.Create(ctx, pool(unique("wide"), func(p *v1alpha1.GatewayPool) {
		p.Spec.MaxCertificatesPerGateway, p.Spec.Template.HTTPListener = 40, true
	}))
	require.True(t, apierrors.IsInvalid(err), "got %v", err)
	assert.Contains(t, err.Error(), "at most 64 listeners: at most 32")
	ok := pool(unique("wide"), func(p *v1alpha1.GatewayPool) { p.Spec.MaxCertificatesPerGateway = 40 })
	require.NoError(t, k8s.Create(ctx, ok), "40 listeners fit when there is no HTTP listener")
	require.NoError(t, k8s.Delete(ctx, ok))
}

// TestFortyHostnamesOfSixRulesEachNeverOverfillAnALB gives 40 hostnames a route of 3 rules with
// 2 matches each: 6 ALB rules per hostname as LBC counts them, so 16 hostnames fill a Gateway's
// 100 rules. No Gateway's rule table may pass 100, and none may be refused by LBC.
func TestFortyHostnamesOfSixRulesEachNeverOverfillAnALB(t *testing.T) {
	ctx := context.Background()
	z, p := servedZone(t)
	ns := tenant(t)
	for i := 0; i < 40; i++ {
		r := route(ns, fmt.Sprintf("r%02d.%s", i, z.Spec.Domain))
		for j := 0; j < 3; j++ {
			r.Spec.Rules = append(r.Spec.Rules, gwv1.HTTPRouteRule{Matches: []gwv1.HTTPRouteMatch{
				{Path: &gwv1.HTTPPathMatch{Type: ptr.To(gwv1.PathMatchPathPrefix), Value: ptr.To(fmt.Sprintf("/a%d", j))}},
				{Path: &gwv1.HTTPPathMatch{Type: ptr.To(gwv1.PathMatchExact), Value: ptr.To(fmt.Sprintf("/b%d", j))}},
			}})
		}
		require.NoError(t, k8s.Create(ctx, r))
	}
	perGateway := map[string]int{}
	for i := 0; i < 40; i++ {
		perGateway[ready(t, fmt.Sprintf("r%02d.%s", i, z.Spec.Domain), 120*time.Second).Status.Gateway.Name]++
	}
	assert.Equal(t, map[string]int{p.Name + "-1": 16, p.Name + "-2": 16, p.Name + "-3": 8}, perGateway, "16 hostnames of 6 rules fit in 100")
	require.Eventually(t, func() bool {
		total := 0
		for g := range perGateway {
			total += len(env.StandIn.Rules(p.Spec.Namespace, g))
		}
		return total == 240
	}, 20*time.Second, 100*time.Millisecond, "the stand-in's tables hold every rule")
	require.NoError(t, k8s.Get(ctx, client.ObjectKeyFromObject(p), p))
	for g, n := range perGateway {
		rules := env.StandIn.Rules(p.Spec.Namespace, g)
		assert.LessOrEqual(t, len(rules), lbcstandin.MaxRulesPerALB, "Gateway %s", g)
		assert.Equal(t, 6*n, len(rules), "one ALB rule per route rule, match and hostname on %s", g)
		gw := &gwv1.Gateway{}
		require.NoError(t, k8s.Get(ctx, client.ObjectKey{Namespace: p.Spec.Namespace, Name: g}, gw))
		assert.True(t, meta.IsStatusConditionTrue(gw.Status.Conditions, "Accepted"), "LBC accepts Gateway %s: %+v", g, gw.Status.Conditions)
		assert.Empty(t, env.StandIn.Refusals(p.Spec.Namespace, g), "LBC never refused Gateway %s while it filled", g)
		for _, s := range p.Status.Gateways {
			if s.Name == g {
				assert.Equal(t, int32(len(rules)), s.Rules, "the pool counts rules as LBC does on %s", g)
			}
		}
	}
}

// TestARouteThatWouldOverflowItsGatewayIsReportedOnTheClaim lets a seated hostname's owner add a
// route with more rules than a Gateway holds: admission denies it, naming the count and the limit.
// What admission cannot see, the pool's limit lowered below what the hostname's routes use, makes
// the claim leave the Gateway (LBC would refuse the whole ALB) and say why, and the neighbour on
// that Gateway keeps its seat.
func TestARouteThatWouldOverflowItsGatewayIsReportedOnTheClaim(t *testing.T) {
	ctx := context.Background()
	z, p := servedZone(t, func(p *v1alpha1.GatewayPool) {
		p.Spec.MaxCertificatesPerGateway, p.Spec.MaxRulesPerGateway, p.Spec.MaxGateways = 5, 10, 1
	})
	ns := tenant(t)
	small, grows := "small."+z.Spec.Domain, "grows."+z.Spec.Domain
	require.NoError(t, k8s.Create(ctx, route(ns, small)))
	ready(t, small, 60*time.Second)
	first := route(ns, grows)
	require.NoError(t, k8s.Create(ctx, first))
	ready(t, grows, 60*time.Second)

	big := route(ns, grows)
	for j := 0; j < 12; j++ {
		big.Spec.Rules = append(big.Spec.Rules, gwv1.HTTPRouteRule{Matches: []gwv1.HTTPRouteMatch{
			{Path: &gwv1.HTTPPathMatch{Type: ptr.To(gwv1.PathMatchPathPrefix), Value: ptr.To(fmt.Sprintf("/p%d", j))}}}})
	}
	err := k8s.Create(ctx, big)
	require.True(t, apierrors.IsInvalid(err), "got %v", err)
	assert.Contains(t, err.Error(), grows+" would need 13 ALB rules on one Gateway: 12 for this route, and 1 for the namespace's other routes of the hostname (HTTPRoute "+first.Name+")")
	assert.Contains(t, err.Error(), "a Gateway of pool "+p.Name+" holds at most 10 (maxRulesPerGateway)")

	big.Spec.Rules = big.Spec.Rules[:6]
	require.NoError(t, k8s.Create(ctx, big), "7 rules fit in 10")
	require.Eventually(t, func() bool { return len(env.StandIn.Rules(p.Spec.Namespace, p.Name+"-1")) == 8 }, 20*time.Second, 100*time.Millisecond)
	require.NoError(t, retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(p), p); err != nil {
			return err
		}
		p.Spec.MaxRulesPerGateway = 5
		return k8s.Update(ctx, p)
	}))
	var cond *metav1.Condition
	require.Eventually(t, func() bool {
		c, err := getClaim(grows)
		if err != nil {
			return false
		}
		cond = meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionGatewayAssigned)
		return cond != nil && cond.Status == metav1.ConditionFalse
	}, 20*time.Second, 100*time.Millisecond, "the claim whose routes outgrew the Gateway leaves it")
	assert.Equal(t, v1alpha1.ReasonPoolExhausted, cond.Reason)
	assert.Contains(t, cond.Message, "needs 7 ALB rules, more than one Gateway of pool "+p.Name+" holds (5)")
	c, err := getClaim(small)
	require.NoError(t, err)
	assert.True(t, meta.IsStatusConditionTrue(c.Status.Conditions, v1alpha1.ConditionReady), "the neighbour keeps its seat")
	// The stand-in rebuilds the ALB's rules when it sees the Gateway's listener go, asynchronously.
	assert.Eventually(t, func() bool { return len(env.StandIn.Rules(p.Spec.Namespace, p.Name+"-1")) <= 5 }, 10*time.Second, 100*time.Millisecond)
}

// TestTheStandInRefusesAGatewayOverOneHundredRules checks the stand-in as strictly as LBC: a
// route of 103 ALB rules on a Gateway makes it Accepted=False (Programmed stays True).
func TestTheStandInRefusesAGatewayOverOneHundredRules(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t, nil)
	gw := &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "own"}, Spec: gwv1.GatewaySpec{
		GatewayClassName: "alb", Listeners: []gwv1.Listener{{Name: "http", Protocol: gwv1.HTTPProtocolType, Port: 80}}}}
	require.NoError(t, k8s.Create(ctx, gw))
	r := servingRoute(ns, "app", "/")
	r.Spec.ParentRefs = []gwv1.ParentReference{{Name: "own"}}
	for j := 0; j < 2; j++ { // and 2 rules of 51 matches: 103 ALB rules (Gateway API allows 16 rules, 64 matches each)
		rule := gwv1.HTTPRouteRule{}
		for k := 0; k < 51; k++ {
			rule.Matches = append(rule.Matches, gwv1.HTTPRouteMatch{Path: &gwv1.HTTPPathMatch{Type: ptr.To(gwv1.PathMatchPathPrefix), Value: ptr.To(fmt.Sprintf("/p%d-%d", j, k))}})
		}
		r.Spec.Rules = append(r.Spec.Rules, rule)
	}
	require.NoError(t, k8s.Create(ctx, r))
	require.True(t, lbcVerdict(t, r), "the route attaches")
	require.Eventually(t, func() bool {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(gw), gw); err != nil {
			return false
		}
		c := meta.FindStatusCondition(gw.Status.Conditions, "Accepted")
		return c != nil && c.Status == metav1.ConditionFalse
	}, 20*time.Second, 100*time.Millisecond, "103 rules are refused")
	assert.Contains(t, meta.FindStatusCondition(gw.Status.Conditions, "Accepted").Message, "103 ALB rules")
	assert.True(t, meta.IsStatusConditionTrue(gw.Status.Conditions, "Programmed"))
	require.NoError(t, k8s.Delete(ctx, gw))
	require.Eventually(t, func() bool { return apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKeyFromObject(gw), gw)) },
		20*time.Second, 100*time.Millisecond, "the stand-in lets the Gateway go once its ALB is deleted")
}

// TestLBCsRefusalReachesTheClaim lets a pool allow more rules than an ALB holds (200): the
// Gateway that LBC refuses (Accepted=False) makes its claims say so, with LBC's message.
func TestLBCsRefusalReachesTheClaim(t *testing.T) {
	ctx := context.Background()
	z, _ := servedZone(t, func(p *v1alpha1.GatewayPool) { p.Spec.MaxRulesPerGateway = 200 })
	ns := tenant(t)
	h := "wide." + z.Spec.Domain
	r := servingRoute(ns, "app", "/", h)
	for j := 0; j < 2; j++ { // and 2 rules of 51 matches: 103 ALB rules
		rule := gwv1.HTTPRouteRule{}
		for k := 0; k < 51; k++ {
			rule.Matches = append(rule.Matches, gwv1.HTTPRouteMatch{Path: &gwv1.HTTPPathMatch{Type: ptr.To(gwv1.PathMatchPathPrefix), Value: ptr.To(fmt.Sprintf("/p%d-%d", j, k))}})
		}
		r.Spec.Rules = append(r.Spec.Rules, rule)
	}
	require.NoError(t, k8s.Create(ctx, r))
	var cond *metav1.Condition
	require.Eventually(t, func() bool {
		c, err := getClaim(h)
		if err != nil {
			return false
		}
		cond = meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionLoadBalancerReady)
		return cond != nil && cond.Reason == v1alpha1.ReasonNotAccepted
	}, 60*time.Second, 100*time.Millisecond, "the claim reports LBC's refusal")
	assert.Equal(t, metav1.ConditionFalse, cond.Status)
	assert.Contains(t, cond.Message, "the routes need 103 ALB rules, more than the 100 an ALB holds")
	c, err := getClaim(h)
	require.NoError(t, err)
	attached := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionCertificateAttached)
	require.NotNil(t, attached)
	assert.Equal(t, metav1.ConditionFalse, attached.Status, "the certificate does not reach an ALB that LBC refuses")
	assert.Equal(t, v1alpha1.ReasonNotAccepted, attached.Reason)
	assert.Equal(t, cond.Message, attached.Message, "with LBC's message")
	gw := &gwv1.Gateway{}
	require.NoError(t, k8s.Get(ctx, client.ObjectKey{Namespace: c.Status.Gateway.Namespace, Name: c.Status.Gateway.Name}, gw))
	assert.True(t, meta.IsStatusConditionTrue(gw.Status.Conditions, "Programmed"), "LBC keeps Programmed=True while it refuses the Gateway")
	// Ready is rolled up by another reconciler, after it sees LoadBalancerReady change.
	assert.Eventually(t, func() bool {
		c, err := getClaim(h)
		return err == nil && !meta.IsStatusConditionTrue(c.Status.Conditions, v1alpha1.ConditionReady)
	}, 10*time.Second, 100*time.Millisecond, "the claim is not Ready while LBC refuses its Gateway")
}

func TestHTTPListenerIsPerHostnameToo(t *testing.T) {
	ctx := context.Background()
	z, p := servedZone(t, func(p *v1alpha1.GatewayPool) { p.Spec.Template.HTTPListener = true })
	ns := tenant(t)
	h := "plain." + z.Spec.Domain
	require.NoError(t, k8s.Create(ctx, route(ns, h)))
	c := ready(t, h, 60*time.Second)
	gw := &gwv1.Gateway{}
	require.NoError(t, k8s.Get(ctx, client.ObjectKey{Namespace: p.Spec.Namespace, Name: c.Status.Gateway.Name}, gw))
	require.Len(t, gw.Spec.Listeners, 2, "HTTPS and HTTP for the one hostname, nothing without a hostname")
	for _, l := range gw.Spec.Listeners {
		require.NotNil(t, l.Hostname)
		assert.Equal(t, gwv1.Hostname(h), *l.Hostname)
		assert.Equal(t, map[string]string{"kubernetes.io/metadata.name": ns}, l.AllowedRoutes.Namespaces.Selector.MatchLabels)
	}
	assert.Equal(t, gwv1.SectionName("80--"+h), gw.Spec.Listeners[1].Name)
	assert.Equal(t, gwv1.PortNumber(80), gw.Spec.Listeners[1].Port)
}

// TestRoutesAttachedToTheFormerSharedListenerAreMoved takes an opted-in route whose parentRef
// names section "https" (as the orchestrator wrote before each hostname had its own listener):
// the section is dropped, and the route serves its hostname.
func TestRoutesAttachedToTheFormerSharedListenerAreMoved(t *testing.T) {
	ctx := context.Background()
	z, p := servedZone(t)
	ns := tenant(t)
	h := "legacy." + z.Spec.Domain
	r := servingRoute(ns, "app", "/", h)
	r.Annotations = map[string]string{"gateway.opendi.com/auto-attach": "true"}
	r.Spec.ParentRefs = []gwv1.ParentReference{{Namespace: ptr.To(gwv1.Namespace(p.Spec.Namespace)), Name: gwv1.ObjectName(p.Name + "-1"),
		SectionName: ptr.To(gwv1.SectionName("https"))}}
	require.NoError(t, k8s.Create(ctx, r))
	c := ready(t, h, 60*time.Second)
	require.Equal(t, p.Name+"-1", c.Status.Gateway.Name)
	require.Eventually(t, func() bool {
		got := &gwv1.HTTPRoute{}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(r), got); err != nil {
			return false
		}
		return len(got.Spec.ParentRefs) == 1 && got.Spec.ParentRefs[0].SectionName == nil
	}, 20*time.Second, 100*time.Millisecond, "the legacy section name is dropped")
	require.Eventually(t, func() bool {
		got, ok := env.StandIn.Resolve(p.Spec.Namespace, p.Name+"-1", h, "/")
		return ok && got == types.NamespacedName{Namespace: ns, Name: "app"}
	}, 20*time.Second, 100*time.Millisecond, "the route serves its hostname")
}
