package integration

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/lbc"
	"github.com/opendi/gateway-orchestrator/reconciler/gatewaypool"
)

func poolGateways(t require.TestingT, ns, pool string) []gwv1.Gateway {
	if h, ok := t.(interface{ Helper() }); ok {
		h.Helper()
	}
	var l gwv1.GatewayList
	require.NoError(t, k8s.List(context.Background(), &l, client.InNamespace(ns), client.MatchingLabels{gatewaypool.LabelPool: pool}))
	return l.Items
}

func TestPoolKeepsItsMinimumOfGatewaysWithTheirLBCConfiguration(t *testing.T) {
	ctx := context.Background()
	ns := unique("gateway-system")
	require.NoError(t, k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	p := pool(unique("public"), func(p *v1alpha1.GatewayPool) {
		p.Spec.Namespace, p.Spec.MinGateways = ns, 2
		p.Spec.Template = v1alpha1.GatewayTemplate{Scheme: "internal", IPAddressType: "dualstack", SSLPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06",
			HTTPListener: true, Labels: map[string]string{"team": "platform"}}
	})
	require.NoError(t, k8s.Create(ctx, p))

	require.EventuallyWithT(t, func(c *assert.CollectT) { assert.Len(c, poolGateways(c, ns, p.Name), 2) }, 15*time.Second, 100*time.Millisecond)
	for _, gw := range poolGateways(t, ns, p.Name) {
		assert.Equal(t, gwv1.ObjectName("alb"), gw.Spec.GatewayClassName)
		assert.Equal(t, "platform", gw.Labels["team"])
		require.NotNil(t, gw.Spec.Infrastructure)
		require.NotNil(t, gw.Spec.Infrastructure.ParametersRef)
		assert.Equal(t, gwv1.Kind("LoadBalancerConfiguration"), gw.Spec.Infrastructure.ParametersRef.Kind)
		assert.Equal(t, gwv1.Group("gateway.k8s.aws"), gw.Spec.Infrastructure.ParametersRef.Group)
		assert.Equal(t, gw.Name, gw.Spec.Infrastructure.ParametersRef.Name)
		require.Len(t, gw.Spec.Listeners, 2)
		assert.Equal(t, gwv1.HTTPSProtocolType, gw.Spec.Listeners[0].Protocol)
		assert.Equal(t, gwv1.PortNumber(443), gw.Spec.Listeners[0].Port)

		u := lbc.NewUnstructured()
		require.Eventually(t, func() bool {
			return k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: gw.Name}, u) == nil
		}, 10*time.Second, 100*time.Millisecond, "every Gateway has its own LoadBalancerConfiguration")
		cfg, err := lbc.FromUnstructured(u)
		require.NoError(t, err)
		assert.Equal(t, "internal", cfg.Spec.Scheme)
		assert.Equal(t, "dualstack", cfg.Spec.IPAddressType)
		require.Len(t, cfg.Spec.ListenerConfigurations, 1)
		assert.Equal(t, gatewaypool.HTTPSProtocolPort, cfg.Spec.ListenerConfigurations[0].ProtocolPort)
		assert.Equal(t, "ELBSecurityPolicy-TLS13-1-2-2021-06", cfg.Spec.ListenerConfigurations[0].SSLPolicy)
	}

	require.NoError(t, retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(p), p); err != nil {
			return err
		}
		p.Spec.MinGateways = 3
		return k8s.Update(ctx, p)
	}))
	require.EventuallyWithT(t, func(c *assert.CollectT) { assert.Len(c, poolGateways(c, ns, p.Name), 3) }, 15*time.Second, 100*time.Millisecond)
	require.Eventually(t, func() bool {
		_ = k8s.Get(ctx, client.ObjectKeyFromObject(p), p)
		return len(p.Status.Gateways) == 3
	}, 10*time.Second, 100*time.Millisecond, "the pool's status lists its Gateways")
	assert.Equal(t, p.Name+"-1", p.Status.Gateways[0].Name)
}

func TestPoolReportsAClassConfigurationThatWouldOverrideItsCertificates(t *testing.T) {
	ctx := context.Background()
	cfgNS := unique("lbc")
	require.NoError(t, k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: cfgNS}}))
	classCfg := &lbc.LoadBalancerConfiguration{ObjectMeta: metav1.ObjectMeta{Namespace: cfgNS, Name: "class-wide"}, Spec: lbc.Spec{
		ListenerConfigurations: []lbc.ListenerConfiguration{{ProtocolPort: "HTTPS:443", DefaultCertificate: "arn:aws:acm:us-east-1:123456789012:certificate/class"}}}}
	u, err := classCfg.ToUnstructured()
	require.NoError(t, err)
	require.NoError(t, k8s.Create(ctx, u))
	className := unique("alb-class")
	require.NoError(t, k8s.Create(ctx, &gwv1.GatewayClass{
		ObjectMeta: metav1.ObjectMeta{Name: className},
		Spec: gwv1.GatewayClassSpec{ControllerName: "gateway.k8s.aws/alb", ParametersRef: &gwv1.ParametersReference{
			Group: "gateway.k8s.aws", Kind: "LoadBalancerConfiguration", Name: "class-wide", Namespace: ptr.To(gwv1.Namespace(cfgNS))}},
	}))
	ns := unique("gateway-system")
	require.NoError(t, k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	p := pool(unique("classy"), func(p *v1alpha1.GatewayPool) { p.Spec.Namespace, p.Spec.GatewayClassName = ns, className })
	require.NoError(t, k8s.Create(ctx, p))

	require.Eventually(t, func() bool {
		_ = k8s.Get(ctx, client.ObjectKeyFromObject(p), p)
		c := meta.FindStatusCondition(p.Status.Conditions, v1alpha1.ConditionReady)
		return c != nil && c.Status == metav1.ConditionFalse && c.Reason == v1alpha1.ReasonClassOverridesCertificates
	}, 15*time.Second, 100*time.Millisecond, "the pool says LBC would discard its certificates")
	msg := meta.FindStatusCondition(p.Status.Conditions, v1alpha1.ConditionReady).Message
	assert.Contains(t, msg, "prefer-gateway")
	assert.Contains(t, msg, cfgNS+"/class-wide")
}

func TestPoolSaysWhenItsGatewayClassIsMissingOrNotLBCs(t *testing.T) {
	ctx := context.Background()
	ns := unique("gateway-system")
	require.NoError(t, k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	className := unique("alb-later")
	p := pool(unique("classless"), func(p *v1alpha1.GatewayPool) { p.Spec.Namespace, p.Spec.GatewayClassName = ns, className })
	require.NoError(t, k8s.Create(ctx, p))
	readyReason := func(status metav1.ConditionStatus, reason string) func() bool {
		return func() bool {
			_ = k8s.Get(ctx, client.ObjectKeyFromObject(p), p)
			c := meta.FindStatusCondition(p.Status.Conditions, v1alpha1.ConditionReady)
			return c != nil && c.Status == status && c.Reason == reason
		}
	}
	require.Eventually(t, readyReason(metav1.ConditionFalse, v1alpha1.ReasonGatewayClassNotFound), 15*time.Second, 100*time.Millisecond,
		"a pool whose GatewayClass does not exist is not Ready")
	assert.Contains(t, meta.FindStatusCondition(p.Status.Conditions, v1alpha1.ConditionReady).Message, "GatewayClass "+className+" does not exist")
	row, err := table("gatewaypools", p.Name)
	require.NoError(t, err)
	assert.Equal(t, "False", row["Ready"], "kubectl get gatewaypools shows the pool's Ready")
	assert.Equal(t, v1alpha1.ReasonGatewayClassNotFound, row["Reason"], "and its reason")

	class := &gwv1.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: className}, Spec: gwv1.GatewayClassSpec{ControllerName: "gateway.envoyproxy.io/gatewayclass-controller"}}
	require.NoError(t, k8s.Create(ctx, class))
	require.Eventually(t, readyReason(metav1.ConditionFalse, v1alpha1.ReasonGatewayClassNotLBC), 15*time.Second, 100*time.Millisecond,
		"a class created later wakes the pool, which names the class's controller")
	assert.Contains(t, meta.FindStatusCondition(p.Status.Conditions, v1alpha1.ConditionReady).Message, "gateway.envoyproxy.io/gatewayclass-controller")

	require.NoError(t, k8s.Delete(ctx, class))
	require.NoError(t, k8s.Create(ctx, &gwv1.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: className}, Spec: gwv1.GatewayClassSpec{ControllerName: "gateway.k8s.aws/alb"}}))
	require.Eventually(t, readyReason(metav1.ConditionTrue, v1alpha1.ReasonGatewaysProvisioned), 15*time.Second, 100*time.Millisecond,
		"the AWS Load Balancer Controller's class makes the pool Ready")
}

// TestAPoolMadeAgainAdoptsItsPredecessorsGateway: a pool deleted and made again before its
// Gateways went (the garbage collector is asynchronous and LBC's finalizer holds a Gateway while
// its ALB is deleted; the test API server has no garbage collector at all) takes the Gateways of
// its name over instead of failing every reconcile on a second controller reference.
func TestAPoolMadeAgainAdoptsItsPredecessorsGateway(t *testing.T) {
	ctx := context.Background()
	ns := unique("gateway-system")
	require.NoError(t, k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	name := unique("again")
	first := pool(name, func(p *v1alpha1.GatewayPool) { p.Spec.Namespace = ns })
	require.NoError(t, k8s.Create(ctx, first))
	require.EventuallyWithT(t, func(c *assert.CollectT) { assert.Len(c, poolGateways(c, ns, name), 1) }, 15*time.Second, 100*time.Millisecond)
	require.NoError(t, k8s.Delete(ctx, first))
	require.Eventually(t, func() bool { return apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKeyFromObject(first), first)) },
		10*time.Second, 100*time.Millisecond)

	again := pool(name, func(p *v1alpha1.GatewayPool) { p.Spec.Namespace = ns })
	require.NoError(t, k8s.Create(ctx, again))
	require.Eventually(t, func() bool {
		_ = k8s.Get(ctx, client.ObjectKeyFromObject(again), again)
		c := meta.FindStatusCondition(again.Status.Conditions, v1alpha1.ConditionReady)
		return c != nil && c.Status == metav1.ConditionTrue && len(again.Status.Gateways) == 1
	}, 15*time.Second, 100*time.Millisecond, "the pool made again is Ready with its Gateway")
	gws := poolGateways(t, ns, name)
	require.Len(t, gws, 1)
	assert.True(t, metav1.IsControlledBy(&gws[0], again), "the Gateway is the new pool's: %v", gws[0].OwnerReferences)
	assert.Len(t, gws[0].OwnerReferences, 1, "and no longer names the pool that went")
}
