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
)

// TestGRPCRouteRulesCountLikeHTTPRouteRules: LBC makes one ALB rule per GRPCRoute rule x match x
// hostname too. A seated hostname's owner adds a GRPCRoute of 12 method matches to its 1-rule
// HTTPRoute on a pool whose Gateways hold 10 rules: admission denies it, counting 13. One of 6
// fits; when the pool's limit is then lowered to 5, the claim leaves the Gateway and says it needs
// 7, and its neighbour keeps its seat.
func TestGRPCRouteRulesCountLikeHTTPRouteRules(t *testing.T) {
	ctx := context.Background()
	z, p := servedZone(t, func(p *v1alpha1.GatewayPool) {
		p.Spec.MaxCertificatesPerGateway, p.Spec.MaxRulesPerGateway, p.Spec.MaxGateways = 5, 10, 1
	})
	ns := tenant(t)
	small, grows := "small."+z.Spec.Domain, "grpc-grows."+z.Spec.Domain
	require.NoError(t, k8s.Create(ctx, route(ns, small)))
	ready(t, small, 60*time.Second)
	require.NoError(t, k8s.Create(ctx, route(ns, grows)))
	ready(t, grows, 60*time.Second)

	g := grpcRoute(ns, grows)
	rule := gwv1.GRPCRouteRule{}
	for j := 0; j < 12; j++ {
		rule.Matches = append(rule.Matches, gwv1.GRPCRouteMatch{Method: &gwv1.GRPCMethodMatch{Service: ptr.To("shop.Cart"), Method: ptr.To(fmt.Sprintf("M%d", j))}})
	}
	g.Spec.Rules = []gwv1.GRPCRouteRule{rule}
	err := k8s.Create(ctx, g)
	require.True(t, apierrors.IsInvalid(err), "got %v", err)
	assert.Contains(t, err.Error(), grows+" would need 13 ALB rules on one Gateway: 12 for this route")
	g.Spec.Rules[0].Matches = rule.Matches[:6]
	require.NoError(t, k8s.Create(ctx, g))
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
			return false // not yet
		}
		cond = meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionGatewayAssigned)
		return cond != nil && cond.Status == metav1.ConditionFalse
	}, 20*time.Second, 100*time.Millisecond, "the claim whose GRPCRoute outgrew the Gateway leaves it")
	assert.Equal(t, v1alpha1.ReasonPoolExhausted, cond.Reason)
	assert.Contains(t, cond.Message, "needs 7 ALB rules, more than one Gateway of pool "+p.Name+" holds (5)")
	assert.Contains(t, cond.Message, "GRPCRoute "+ns+"/"+g.Name, "the claim names the route")
	c, err := getClaim(small)
	require.NoError(t, err)
	assert.True(t, meta.IsStatusConditionTrue(c.Status.Conditions, v1alpha1.ConditionReady), "the neighbour keeps its seat")
	assert.Eventually(t, func() bool { return len(env.StandIn.Rules(p.Spec.Namespace, p.Name+"-1")) <= 5 }, 10*time.Second, 100*time.Millisecond)
}
