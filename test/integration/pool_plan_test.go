package integration

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
)

// manyBackends is a route with rules × services rules, each sending to services distinct
// Services: LBC makes rules × services target groups for it on its Gateway.
func manyBackends(ns string, rules, services int, hostnames ...string) *gwv1.HTTPRoute {
	r := route(ns, hostnames...)
	for i := 0; i < rules; i++ {
		rule := gwv1.HTTPRouteRule{Matches: []gwv1.HTTPRouteMatch{{Path: &gwv1.HTTPPathMatch{Type: ptr.To(gwv1.PathMatchPathPrefix), Value: ptr.To(fmt.Sprintf("/r%d", i))}}}}
		for j := 0; j < services; j++ {
			rule.BackendRefs = append(rule.BackendRefs, gwv1.HTTPBackendRef{BackendRef: gwv1.BackendRef{BackendObjectReference: gwv1.BackendObjectReference{
				Name: gwv1.ObjectName(fmt.Sprintf("svc-%d-%d", i, j)), Port: ptr.To(gwv1.PortNumber(80))}}})
		}
		r.Spec.Rules = append(r.Spec.Rules, rule)
	}
	return r
}

// TestTargetGroupsNeverOverfillAnALBAndThePoolCountsThem: hostnames whose routes need 45 target
// groups each fill a Gateway with two (90 of LBC's 100), the third gets the next Gateway, a
// hostname needing 105 is reported on its claim, no Gateway is refused by the stand-in, and the
// pool's status counts seats, target groups and claims by condition.
func TestTargetGroupsNeverOverfillAnALBAndThePoolCountsThem(t *testing.T) {
	ctx := context.Background()
	z, p := servedZone(t)
	ns := tenant(t)
	var hosts []string
	for i := 0; i < 3; i++ {
		h := fmt.Sprintf("tg%d.%s", i, z.Spec.Domain)
		hosts = append(hosts, h)
		require.NoError(t, k8s.Create(ctx, manyBackends(ns, 9, 5, h))) // an ALB rule forwards to at most 5
	}
	perGateway := map[string]int{}
	for _, h := range hosts {
		perGateway[ready(t, h, 90*time.Second).Status.Gateway.Name]++
	}
	// Which two share a Gateway depends on which certificates are issued first.
	assert.Equal(t, map[string]int{p.Name + "-1": 2, p.Name + "-2": 1}, perGateway,
		"first fit by target groups: 45 + 45 on the first Gateway, 45 more would be 135")

	huge := "huge." + z.Spec.Domain
	require.NoError(t, k8s.Create(ctx, manyBackends(ns, 11, 5, huge))) // 21 rules: more than one HTTPRoute holds
	require.NoError(t, k8s.Create(ctx, manyBackends(ns, 10, 5, huge)))
	var cond *metav1.Condition
	require.Eventually(t, func() bool {
		c, err := getClaim(huge)
		if err != nil {
			return false
		}
		cond = meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionGatewayAssigned)
		return cond != nil && cond.Reason == v1alpha1.ReasonPoolExhausted
	}, 60*time.Second, 100*time.Millisecond, "a hostname needing more target groups than an ALB holds is reported on its claim")
	assert.Contains(t, cond.Message, "needs 105 target groups")

	require.Eventually(t, func() bool {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(p), p); err != nil || len(p.Status.Gateways) != 2 {
			return false
		}
		g1, g2 := p.Status.Gateways[0], p.Status.Gateways[1]
		return g1.Seats == 2 && g1.TargetGroups == 90 && g1.Rules == 18 && g2.Seats == 1 && g2.TargetGroups == 45
	}, 20*time.Second, 100*time.Millisecond, "the pool's status shows each Gateway's seats, rules and target groups: %+v", p.Status.Gateways)
	counts := map[string]v1alpha1.ClaimConditionCount{}
	require.Eventually(t, func() bool {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(p), p); err != nil {
			return false
		}
		for _, c := range p.Status.ClaimConditions {
			counts[c.Type] = c
		}
		return p.Status.Claims == 4 && counts[v1alpha1.ConditionGatewayAssigned].True == 3 && counts[v1alpha1.ConditionGatewayAssigned].False == 1 &&
			counts[v1alpha1.ConditionReady].True == 3
	}, 20*time.Second, 100*time.Millisecond, "the pool's status counts its claims by condition: %d claims, %+v", p.Status.Claims, counts)

	for _, g := range p.Status.Gateways {
		gw := &gwv1.Gateway{}
		require.NoError(t, k8s.Get(ctx, client.ObjectKey{Namespace: p.Spec.Namespace, Name: g.Name}, gw))
		assert.False(t, meta.IsStatusConditionFalse(gw.Status.Conditions, string(gwv1.GatewayConditionAccepted)),
			"the stand-in, counting like LBC, accepts Gateway %s", g.Name)
	}
}

// TestTheStandInRefusesAGatewayOverOneHundredTargetGroups checks the stand-in as strictly as LBC:
// 101 target groups on one Gateway make it Accepted=False.
func TestTheStandInRefusesAGatewayOverOneHundredTargetGroups(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t, nil)
	gw := &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "own"}, Spec: gwv1.GatewaySpec{
		GatewayClassName: "alb", Listeners: []gwv1.Listener{{Name: "http", Protocol: gwv1.HTTPProtocolType, Port: 80}}}}
	require.NoError(t, k8s.Create(ctx, gw))
	for _, rules := range []int{11, 10} { // 21 ALB rules, 105 target groups, at most 5 per rule
		r := manyBackends(ns, rules, 5)
		r.Spec.ParentRefs = []gwv1.ParentReference{{Name: "own"}}
		require.NoError(t, k8s.Create(ctx, r))
	}
	require.Eventually(t, func() bool {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(gw), gw); err != nil {
			return false
		}
		c := meta.FindStatusCondition(gw.Status.Conditions, string(gwv1.GatewayConditionAccepted))
		return c != nil && c.Status == metav1.ConditionFalse
	}, 20*time.Second, 100*time.Millisecond, "105 target groups are refused")
	assert.Contains(t, meta.FindStatusCondition(gw.Status.Conditions, string(gwv1.GatewayConditionAccepted)).Message, "105 target groups")
}
