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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/reconciler/gatewaypool"
	"github.com/opendi/gateway-orchestrator/test/builders"
)

// Attacks a second red team tried from outside against the running system (make run-local),
// reproduced here with the webhooks registered in a real API server.

// transferClaim moves claim h to namespace ns, as a cluster admin does.
func transferClaim(t *testing.T, h, ns string) {
	t.Helper()
	require.NoError(t, retry.RetryOnConflict(retry.DefaultRetry, func() error {
		c, err := getClaim(h)
		if err != nil {
			return err
		}
		c.Spec.Namespace = ns
		return k8s.Update(context.Background(), c)
	}))
}

// After a transfer, the former owner's own Gateway and Ingress still list the hostname. No pool
// listener keeps them off their own ALBs, and LBC finds the certificate of an own Gateway or
// Ingress by hostname, so they may carry the new owner's certificate. The claim used to say "no
// route of another namespace lists" the hostname; it names them now, and not the pool's Gateway
// whose listener serves the new owner.
func TestRedteam2AFormerOwnersOwnLoadBalancersAreNamedAsStrays(t *testing.T) {
	ctx := context.Background()
	z, p := servedZone(t)
	former, owner := tenant(t), tenant(t)
	h := "own-moved." + z.Spec.Domain
	gw := createOwnGateway(t, former, h)
	ing := ingress(former, "alb", h)
	require.NoError(t, k8s.Create(ctx, ing))
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), ing) })
	require.Eventually(t, func() bool {
		c, err := getClaim(h)
		return err == nil && condition(c, v1alpha1.ConditionClaimed).Status == metav1.ConditionTrue &&
			condition(c, v1alpha1.ConditionStrayRoutes).Reason == v1alpha1.ReasonNoStrayRoutes
	}, 30*time.Second, 100*time.Millisecond, "the former owner's objects are no strays while it owns %s", h)

	transferClaim(t, h, owner)

	var c *v1alpha1.DomainClaim
	require.Eventually(t, func() bool {
		var err error
		c, err = getClaim(h)
		return err == nil && c.Status.Gateway != nil && condition(c, v1alpha1.ConditionStrayRoutes).Status == metav1.ConditionTrue
	}, 30*time.Second, 100*time.Millisecond, "the claim, seated for its new owner, names the former owner's load balancers")
	stray := condition(c, v1alpha1.ConditionStrayRoutes)
	assert.Equal(t, v1alpha1.ReasonForeignRoutes, stray.Reason)
	assert.Contains(t, stray.Message, "load balancers of other namespaces list "+h+": Gateway "+former+"/"+gw.Name+", Ingress "+former+"/"+ing.Name)
	assert.Contains(t, stray.Message, "their namespaces must remove it", "the message says what to do")
	assert.NotContains(t, stray.Message, p.Spec.Namespace+"/", "the pool's own Gateway is no stray")
}

// backendRefs are n backendRefs to n Services.
func backendRefs(n int) []gwv1.HTTPBackendRef {
	var out []gwv1.HTTPBackendRef
	for i := 0; i < n; i++ {
		out = append(out, gwv1.HTTPBackendRef{BackendRef: gwv1.BackendRef{BackendObjectReference: gwv1.BackendObjectReference{
			Name: gwv1.ObjectName(fmt.Sprintf("svc-%d", i)), Port: ptr.To(gwv1.PortNumber(80))}}})
	}
	return out
}

// assertTooManyBackends asserts that err is admission's denial of rule 0's backendRefs, saying
// why and what to do, and that no claim was made for h.
func assertTooManyBackends(t *testing.T, err error, h string) {
	t.Helper()
	requireDenial(t, err)
	assert.Contains(t, err.Error(), "spec.rules[0].backendRefs: Forbidden: 6 backendRefs in one rule, but an ALB rule forwards to at most 5 target groups")
	assert.Contains(t, err.Error(), "split the rule into rules of at most 5 backendRefs")
	_, err = getClaim(h)
	assert.True(t, apierrors.IsNotFound(err), "a denied route claims nothing: %v", err)
}

// ELBv2 refuses an ALB rule forwarding to more than 5 target groups, and LBC's deploy of the
// whole Gateway fails with it (as it fails an IngressGroup over one bad rule): one tenant's route
// with 6 backendRefs in a rule froze the pool ALB every team shares, with the listener changes
// that take a transferred hostname away from its former owner. Now such a rule is denied on a pool Gateway (named, or without parentRefs), on create and on
// update, and passes on the team's own Gateway, which the stand-in then refuses as ELBv2 would.
func TestRedteam2ARuleWithMoreBackendsThanAnALBActionTakesIsDeniedOnThePool(t *testing.T) {
	ctx := context.Background()
	z, p := servedZone(t)
	ns := tenant(t)

	t.Run("without parentRefs", func(t *testing.T) {
		h := "many-backends." + z.Spec.Domain
		r := route(ns, h)
		r.Spec.Rules = []gwv1.HTTPRouteRule{{BackendRefs: backendRefs(6)}}
		err := k8s.Create(ctx, r)
		assertTooManyBackends(t, err, h)
		assert.Contains(t, err.Error(), "without parentRefs the route is attached to a shared pool Gateway")
	})
	t.Run("naming the pool Gateway", func(t *testing.T) {
		h := "many-backends-named." + z.Spec.Domain
		r := route(ns, h)
		r.Spec.ParentRefs = []gwv1.ParentReference{{Namespace: ptr.To(gwv1.Namespace(p.Spec.Namespace)), Name: gwv1.ObjectName(p.Name + "-1")}}
		r.Spec.Rules = []gwv1.HTTPRouteRule{{BackendRefs: backendRefs(6)}}
		err := k8s.Create(ctx, r)
		assertTooManyBackends(t, err, h)
		assert.Contains(t, err.Error(), "the route is attached to the shared pool Gateway "+p.Spec.Namespace+"/"+p.Name+"-1")
	})
	t.Run("a GRPCRoute too", func(t *testing.T) {
		h := "many-backends-grpc." + z.Spec.Domain
		g := grpcRoute(ns, h)
		rule := gwv1.GRPCRouteRule{}
		for _, b := range backendRefs(6) {
			rule.BackendRefs = append(rule.BackendRefs, gwv1.GRPCBackendRef{BackendRef: b.BackendRef})
		}
		g.Spec.Rules = []gwv1.GRPCRouteRule{rule}
		assertTooManyBackends(t, k8s.Create(ctx, g), h)
	})
	t.Run("five pass, and a sixth added later is denied", func(t *testing.T) {
		h := "five-backends." + z.Spec.Domain
		r := route(ns, h)
		r.Spec.Rules = []gwv1.HTTPRouteRule{{BackendRefs: backendRefs(5)}}
		require.NoError(t, k8s.Create(ctx, r))
		err := updateLatest(ctx, r, func() { r.Spec.Rules[0].BackendRefs = backendRefs(6) })
		require.Error(t, err)
		assert.True(t, apierrors.IsInvalid(err), "%v", err)
		assert.Contains(t, err.Error(), "6 backendRefs in one rule")
	})
	t.Run("on the team's own Gateway it is LBC's business", func(t *testing.T) {
		h := "own-many-backends." + z.Spec.Domain
		gw := createOwnGateway(t, ns, h)
		r := route(ns, h)
		r.Spec.ParentRefs = []gwv1.ParentReference{{Name: gwv1.ObjectName(gw.Name)}}
		r.Spec.Rules = []gwv1.HTTPRouteRule{{BackendRefs: backendRefs(6)}}
		require.NoError(t, k8s.Create(ctx, r))
		require.Eventually(t, func() bool {
			for _, v := range env.StandIn.Refusals(ns, gw.Name) {
				if strings.Contains(v, "HTTPRoute "+ns+"/"+r.Name+" forwards a rule to 6 target groups, more than the 5 an ALB action takes") {
					return true
				}
			}
			return false
		}, 30*time.Second, 100*time.Millisecond, "the stand-in, as strict as ELBv2, refuses that team's own Gateway")
	})
}

// headerMatches are n header matches.
func headerMatches(n int) []gwv1.HTTPHeaderMatch {
	var out []gwv1.HTTPHeaderMatch
	for i := 0; i < n; i++ {
		out = append(out, gwv1.HTTPHeaderMatch{Name: gwv1.HTTPHeaderName(fmt.Sprintf("X-H%d", i)), Value: "v"})
	}
	return out
}

// ELBv2 holds at most 5 condition values in one ALB rule, and LBC (v3.0 to v3.4.2) makes one rule
// per match with all the route's hostnames in its host condition: here one host, the path's
// values (two for a PathPrefix other than "/"), one per header, query parameter and method. A
// match needing 6 would fail the shared Gateway's deploy as a rule of 6 backends does; it is
// denied on the pool, and 5 pass.
func TestRedteam2AMatchWithMoreConditionsThanAnALBRuleHoldsIsDeniedOnThePool(t *testing.T) {
	ctx := context.Background()
	z, _ := servedZone(t)
	ns := tenant(t)
	prefix := func(n int) gwv1.HTTPRouteMatch {
		return gwv1.HTTPRouteMatch{Path: &gwv1.HTTPPathMatch{Type: ptr.To(gwv1.PathMatchPathPrefix), Value: ptr.To("/api")}, Headers: headerMatches(n)}
	}

	h := "many-conditions." + z.Spec.Domain
	r := route(ns, h)
	r.Spec.Rules = []gwv1.HTTPRouteRule{{Matches: []gwv1.HTTPRouteMatch{prefix(2), prefix(3)}}}
	err := k8s.Create(ctx, r)
	requireDenial(t, err)
	assert.Contains(t, err.Error(), "spec.rules[0].matches[1]: Forbidden: the match needs 6 ALB condition values")
	assert.NotContains(t, err.Error(), "matches[0]", "host, prefix path and 2 headers are 5")
	assert.Contains(t, err.Error(), "split it into matches with fewer conditions")
	_, err = getClaim(h)
	assert.True(t, apierrors.IsNotFound(err), "a denied route claims nothing: %v", err)

	g := grpcRoute(ns, "many-conditions-grpc."+z.Spec.Domain)
	g.Spec.Rules = []gwv1.GRPCRouteRule{{Matches: []gwv1.GRPCRouteMatch{{
		Method: &gwv1.GRPCMethodMatch{Service: ptr.To("shop.Cart"), Method: ptr.To("Add")}}}}}
	for _, hm := range headerMatches(4) {
		g.Spec.Rules[0].Matches[0].Headers = append(g.Spec.Rules[0].Matches[0].Headers, gwv1.GRPCHeaderMatch{Name: gwv1.GRPCHeaderName(hm.Name), Value: hm.Value})
	}
	err = k8s.Create(ctx, g)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "spec.rules[0].matches[0]: Forbidden: the match needs 6 ALB condition values")

	r = route(ns, h)
	r.Spec.Rules = []gwv1.HTTPRouteRule{{Matches: []gwv1.HTTPRouteMatch{prefix(2)}}}
	require.NoError(t, k8s.Create(ctx, r), "5 condition values pass")
}

// A namespace deleted and created again under the same name does not inherit its route-made
// claims (admission denies it the hostname), but the claim keeps its seat until its release, and
// the seat's listener admitted routes by namespace name: any route of the new namespace that got
// past admission would have been served the hostname on the shared ALB. The listener now admits
// no namespace, and the claim says why.
func TestRedteam2ANamespaceCreatedAgainIsNotAdmittedByTheListenerOfItsPredecessorsSeat(t *testing.T) {
	ctx := context.Background()
	z, p := servedZone(t)
	ns := tenant(t)
	h := "reborn." + z.Spec.Domain
	rt := route(ns, h)
	require.NoError(t, k8s.Create(ctx, rt))
	c := ready(t, h, 60*time.Second)
	require.NotNil(t, c.Status.OwnerNamespace, "the claim records its namespace")
	seat := *c.Status.Gateway
	admits := func() bool {
		gw := &gwv1.Gateway{}
		require.NoError(t, k8s.Get(ctx, client.ObjectKey{Namespace: seat.Namespace, Name: seat.Name}, gw))
		return gatewaypool.AdmittedBy(gw, c.Name, ns)
	}
	require.True(t, admits(), "the listener admits the owner")

	// The test API server runs no namespace controller: empty the namespace and finalize it as
	// that controller would, then create it again.
	require.NoError(t, k8s.Delete(ctx, rt))
	obj := &corev1.Namespace{}
	require.NoError(t, k8s.Get(ctx, client.ObjectKey{Name: ns}, obj))
	require.NoError(t, k8s.Delete(ctx, obj))
	require.NoError(t, k8s.Get(ctx, client.ObjectKey{Name: ns}, obj))
	obj.Spec.Finalizers = nil
	require.NoError(t, k8s.SubResource("finalize").Update(ctx, obj))
	require.Eventually(t, func() bool {
		return apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKey{Name: ns}, &corev1.Namespace{}))
	}, 10*time.Second, 50*time.Millisecond, "the namespace is gone")
	require.NoError(t, k8s.Create(ctx, builders.Namespace(ns, builders.TenantLabels())))

	require.Eventually(t, func() bool {
		got, err := getClaim(h)
		return err == nil && !admits() && condition(got, v1alpha1.ConditionRoutesAllowed).Reason == v1alpha1.ReasonOwnerNamespaceGone
	}, 30*time.Second, 100*time.Millisecond, "the listener of the seat admits no namespace, and the claim says why")
	got, err := getClaim(h)
	require.NoError(t, err)
	assert.Equal(t, seat, *got.Status.Gateway, "the claim keeps its seat until its release")
	assert.Contains(t, condition(got, v1alpha1.ConditionRoutesAllowed).Message, "namespace "+ns+" that made the claim is gone")
	assert.True(t, poolListener(t, p, c.Name), "the listener stays, admitting nobody")
}
