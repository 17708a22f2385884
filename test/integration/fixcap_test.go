package integration

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/test/lbcstandin"
)

// TestFortyHostnamesWithTheHTTPListenerNeverOverfillAnALB is the forty-hostnames scenario with
// the pool's HTTP listener on: each hostname's route of 3 rules x 2 matches attaches to its
// HTTPS:443 and its HTTP:80 listener, so LBC builds 12 ALB rules per hostname, and the ALB's
// quota of 100 counts both listeners' rules together: 8 hostnames fill a Gateway. No Gateway's
// rule table may pass 100 and LBC may never refuse one; the pool reports the rules LBC built.
func TestFortyHostnamesWithTheHTTPListenerNeverOverfillAnALB(t *testing.T) {
	ctx := context.Background()
	z, p := servedZone(t, func(p *v1alpha1.GatewayPool) { p.Spec.Template.HTTPListener = true })
	ns := tenant(t)
	names := make([]string, 40)
	for i := range names {
		names[i] = fmt.Sprintf("h%02d.%s", i, z.Spec.Domain)
		r := route(ns, names[i])
		for j := range 3 {
			r.Spec.Rules = append(r.Spec.Rules, gwv1.HTTPRouteRule{Matches: []gwv1.HTTPRouteMatch{
				{Path: &gwv1.HTTPPathMatch{Type: ptr.To(gwv1.PathMatchPathPrefix), Value: ptr.To(fmt.Sprintf("/p%d", j))}},
				{Path: &gwv1.HTTPPathMatch{Type: ptr.To(gwv1.PathMatchExact), Value: ptr.To(fmt.Sprintf("/e%d", j))}},
			}})
		}
		require.NoError(t, k8s.Create(ctx, r))
	}
	// Every claim becomes Ready, and LBC refuses no Gateway of the pool meanwhile (checked while
	// waiting, so that an overfilled Gateway fails the test as soon as LBC refuses it).
	var seated map[string]int
	for deadline := time.Now().Add(180 * time.Second); seated == nil; time.Sleep(200 * time.Millisecond) {
		require.True(t, time.Now().Before(deadline), "the forty claims never all became Ready")
		for n := 1; n <= 10; n++ {
			g := fmt.Sprintf("%s-%d", p.Name, n)
			require.Empty(t, env.StandIn.Refusals(p.Spec.Namespace, g), "LBC refused pool Gateway %s", g)
		}
		seated = map[string]int{}
		for _, h := range names {
			c, err := getClaim(h)
			if err != nil || !meta.IsStatusConditionTrue(c.Status.Conditions, v1alpha1.ConditionReady) {
				seated = nil
				break
			}
			seated[c.Status.Gateway.Name]++
		}
	}
	want := map[string]int{}
	for n := 1; n <= 5; n++ {
		want[fmt.Sprintf("%s-%d", p.Name, n)] = 8
	}
	assert.Equal(t, want, seated, "8 hostnames of 12 ALB rules (6 on each listener) fit in 100")

	builtAll := func() bool {
		n := 0
		for g := range seated {
			n += len(env.StandIn.Rules(p.Spec.Namespace, g))
		}
		return n == 40*12
	}
	require.Eventually(t, builtAll, 30*time.Second, 100*time.Millisecond, "the stand-in builds every route's rules on both ports")
	require.NoError(t, k8s.Get(ctx, client.ObjectKeyFromObject(p), p))
	reported := map[string]int32{}
	for _, s := range p.Status.Gateways {
		reported[s.Name] = s.Rules
	}
	for g, hostnames := range seated {
		rules := env.StandIn.Rules(p.Spec.Namespace, g)
		perPort := map[int32]int{}
		for _, r := range rules {
			perPort[r.Port]++
		}
		assert.Equal(t, map[int32]int{443: 6 * hostnames, 80: 6 * hostnames}, perPort, "Gateway %s", g)
		assert.LessOrEqual(t, len(rules), lbcstandin.MaxRulesPerALB, "Gateway %s", g)
		assert.Equal(t, int32(len(rules)), reported[g], "the pool reports the rules LBC builds on %s", g)
		gw := &gwv1.Gateway{}
		require.NoError(t, k8s.Get(ctx, client.ObjectKey{Namespace: p.Spec.Namespace, Name: g}, gw))
		assert.True(t, meta.IsStatusConditionTrue(gw.Status.Conditions, string(gwv1.GatewayConditionAccepted)), "LBC accepts %s: %+v", g, gw.Status.Conditions)
		assert.Empty(t, env.StandIn.Refusals(p.Spec.Namespace, g), "LBC never refused %s while it filled", g)
	}
}

// pathRules are n HTTPRoute rules of one PathPrefix match each.
func pathRules(n int) []gwv1.HTTPRouteRule {
	out := make([]gwv1.HTTPRouteRule, n)
	for j := range out {
		out[j].Matches = []gwv1.HTTPRouteMatch{{Path: &gwv1.HTTPPathMatch{Type: ptr.To(gwv1.PathMatchPathPrefix), Value: ptr.To(fmt.Sprintf("/p%d", j))}}}
	}
	return out
}

// TestARouteTooBigForAnyGatewayIsDeniedAndItsHostnameStaysOnline: on a pool with the HTTP
// listener and 10 rules per Gateway, an owner's edit that would give its hostname 12 ALB rules
// (6 HTTPRoute rules on HTTPS and on HTTP) is denied, naming the count, the limit and what to do,
// and the hostname keeps its seat and its routes. A GRPCRoute's rules count on HTTPS only, so the
// hostname's routes may fill the Gateway to exactly its limit, and LBC never refuses it.
func TestARouteTooBigForAnyGatewayIsDeniedAndItsHostnameStaysOnline(t *testing.T) {
	ctx := context.Background()
	z, p := servedZone(t, func(p *v1alpha1.GatewayPool) {
		p.Spec.MaxCertificatesPerGateway, p.Spec.MaxRulesPerGateway, p.Spec.MaxGateways, p.Spec.Template.HTTPListener = 5, 10, 1, true
	})
	ns := tenant(t)
	h := "shop." + z.Spec.Domain
	web := route(ns, h)
	web.Spec.Rules = pathRules(2)
	require.NoError(t, k8s.Create(ctx, web))
	ready(t, h, 60*time.Second)
	gw := p.Name + "-1"

	require.NoError(t, k8s.Get(ctx, client.ObjectKeyFromObject(web), web))
	web.Spec.Rules = pathRules(6)
	err := k8s.Update(ctx, web)
	require.True(t, apierrors.IsInvalid(err), "got %v", err)
	assert.Contains(t, err.Error(), h+" would need 12 ALB rules on one Gateway: 12 for this route, one per rule, match and hostname on HTTPS and HTTP")
	assert.Contains(t, err.Error(), "a Gateway of pool "+p.Name+" holds at most 10 (maxRulesPerGateway)")
	assert.Contains(t, err.Error(), "use fewer rules or matches")

	rpc := grpcRoute(ns, h)
	for j := range 7 {
		rpc.Spec.Rules = append(rpc.Spec.Rules, gwv1.GRPCRouteRule{Matches: []gwv1.GRPCRouteMatch{
			{Method: &gwv1.GRPCMethodMatch{Service: ptr.To("shop.Cart"), Method: ptr.To(fmt.Sprintf("M%d", j))}}}})
	}
	err = k8s.Create(ctx, rpc)
	require.True(t, apierrors.IsInvalid(err), "4 HTTPRoute rules and 7 GRPCRoute rules are 11: got %v", err)
	assert.Contains(t, err.Error(), h+" would need 11 ALB rules on one Gateway: 7 for this route, and 4 for the namespace's other routes of the hostname (HTTPRoute "+web.Name+")")
	rpc.Spec.Rules = rpc.Spec.Rules[:6]
	require.NoError(t, k8s.Create(ctx, rpc), "4 and 6 are the Gateway's 10")

	require.Eventually(t, func() bool { return len(env.StandIn.Rules(p.Spec.Namespace, gw)) == 10 }, 20*time.Second, 100*time.Millisecond,
		"the stand-in builds the HTTPRoute's 2 rules on both ports and the GRPCRoute's 6 on HTTPS")
	c, err := getClaim(h)
	require.NoError(t, err)
	assert.True(t, meta.IsStatusConditionTrue(c.Status.Conditions, v1alpha1.ConditionReady), "the hostname keeps its seat: %+v", c.Status.Conditions)
	assert.Equal(t, gw, c.Status.Gateway.Name)
	assert.Empty(t, env.StandIn.Refusals(p.Spec.Namespace, gw), "LBC never refused the Gateway")
}

// TestAnOwnerCanShrinkTheRoutesOfAHostnameThatOutgrewALoweredLimit: the pool's limit lowered
// under what a hostname's routes use takes the hostname's seat (the safety net); its owner may
// then shrink a route step by step, even while the routes are still over the limit, but not grow
// one, and the hostname is seated again once they fit.
func TestAnOwnerCanShrinkTheRoutesOfAHostnameThatOutgrewALoweredLimit(t *testing.T) {
	ctx := context.Background()
	z, p := servedZone(t, func(p *v1alpha1.GatewayPool) {
		p.Spec.MaxCertificatesPerGateway, p.Spec.MaxRulesPerGateway, p.Spec.MaxGateways = 5, 10, 1
	})
	ns := tenant(t)
	h := "shop." + z.Spec.Domain
	web, api := route(ns, h), route(ns, h)
	web.Spec.Rules, api.Spec.Rules = pathRules(6), pathRules(3)
	require.NoError(t, k8s.Create(ctx, web))
	require.NoError(t, k8s.Create(ctx, api))
	ready(t, h, 60*time.Second)
	require.Eventually(t, func() bool { return len(env.StandIn.Rules(p.Spec.Namespace, p.Name+"-1")) == 9 }, 20*time.Second, 100*time.Millisecond)

	require.NoError(t, retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(p), p); err != nil {
			return err
		}
		p.Spec.MaxRulesPerGateway = 5
		return k8s.Update(ctx, p)
	}))
	assigned := func() *metav1.Condition {
		c, err := getClaim(h)
		if err != nil {
			return nil
		}
		return meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionGatewayAssigned)
	}
	require.Eventually(t, func() bool { c := assigned(); return c != nil && c.Status == metav1.ConditionFalse }, 20*time.Second, 100*time.Millisecond)
	assert.Contains(t, assigned().Message, "needs 9 ALB rules, more than one Gateway of pool "+p.Name+" holds (5)")

	resize := func(rt *gwv1.HTTPRoute, n int) error {
		return retry.RetryOnConflict(retry.DefaultRetry, func() error {
			if err := k8s.Get(ctx, client.ObjectKeyFromObject(rt), rt); err != nil {
				return err
			}
			rt.Spec.Rules = pathRules(n)
			return k8s.Update(ctx, rt)
		})
	}
	require.NoError(t, resize(web, 4), "shrinking passes while the hostname's 7 rules are still over 5")
	err := resize(api, 4)
	require.True(t, apierrors.IsInvalid(err), "growing is denied: got %v", err)
	assert.Contains(t, err.Error(), h+" would need 8 ALB rules on one Gateway: 4 for this route, and 4 for the namespace's other routes of the hostname (HTTPRoute "+web.Name+")")
	require.NoError(t, resize(web, 2))
	ready(t, h, 60*time.Second)
	assert.Equal(t, metav1.ConditionTrue, assigned().Status, "2 and 3 rules fit in 5: seated again")
}
