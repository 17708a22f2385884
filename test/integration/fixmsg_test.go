package integration

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/lbc"
	"github.com/opendi/gateway-orchestrator/test/builders"
	"github.com/opendi/gateway-orchestrator/test/testenv"
)

// A namespace deleted and created again while the reconcilers are not running (the webhooks
// serve on every replica, the reconcilers only on the leader: a leader change, or an outage of
// the orchestrator's reconcilers) does not inherit the claim its predecessor's route made:
// admission stamps the namespace's UID on the claim when it makes it, and both admission and the
// claim reconciler go by that UID, not by the namespace that exists when the claim is first
// reconciled.
func TestANamespaceCreatedAgainBeforeTheClaimsFirstReconcileDoesNotInheritIt(t *testing.T) {
	ctx := context.Background()
	z := newZone(t)
	ns := tenant(t)
	h := "before-reconcile." + z.Spec.Domain

	// Webhooks only, as on a replica that is not the leader.
	require.NoError(t, env.StopManager())
	require.NoError(t, env.StartManager(ctx, testenv.Options{AWSRates: testRates, NoReconcilers: true}))
	reconciling := false
	restart := func() {
		require.NoError(t, env.StopManager())
		require.NoError(t, env.StartManager(ctx, testenv.Options{AWSRates: testRates}))
		reconciling = true
	}
	t.Cleanup(func() {
		if !reconciling {
			restart()
		}
	})

	before := &corev1.Namespace{}
	require.NoError(t, k8s.Get(ctx, client.ObjectKey{Name: ns}, before))
	rt := route(ns, h)
	require.NoError(t, k8s.Create(ctx, rt))
	c, err := getClaim(h)
	require.NoError(t, err)
	assert.Equal(t, ns+"/"+string(before.UID), c.Annotations[v1alpha1.AnnotationOwnerNamespace], "admission stamps the namespace it made the claim for")
	assert.Nil(t, c.Status.OwnerNamespace, "no reconciler has looked at the claim")

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
	again := builders.Namespace(ns, builders.TenantLabels())
	require.NoError(t, k8s.Create(ctx, again))
	require.NotEqual(t, before.UID, again.UID)

	denied := fmt.Sprintf("hostname %q was claimed by an earlier namespace named %q", h, ns)
	deniedAgain := func(msg string) {
		t.Helper()
		// The webhook reads the namespace from its cache, which may hold the earlier one for a
		// moment: a route admitted meanwhile is deleted, and the next one asked about.
		require.EventuallyWithT(t, func(ct *assert.CollectT) {
			r := route(ns, h)
			err := k8s.Create(ctx, r)
			if err == nil {
				_ = k8s.Delete(ctx, r)
			}
			require.Error(ct, err)
			assert.Contains(ct, err.Error(), denied)
		}, 10*time.Second, 100*time.Millisecond, msg)
	}
	deniedAgain("admission denies the namespace created again the hostname, although no reconciler has recorded the claim's namespace")

	restart()
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		c, err := getClaim(h)
		require.NoError(ct, err)
		require.NotNil(ct, c.Status.OwnerNamespace)
		assert.Equal(ct, before.UID, c.Status.OwnerNamespace.UID, "the claim records the namespace admission made it for, not the one there now")
		inUse := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionInUse)
		require.NotNil(ct, inUse)
		assert.Contains(ct, inUse.Message, "namespace "+ns+" was deleted and created again; the new namespace does not inherit the claim")
	}, 20*time.Second, 100*time.Millisecond)
	deniedAgain("the reconciled claim still owns nothing for the namespace created again")
}

// After a transfer, the claim names the former owner's own load balancers that still list the
// hostname, because LBC finds the new owner's certificate for them by hostname; but only those LBC
// serves. An nginx Ingress and a Gateway of another controller's class get no certificate from
// LBC, and naming them would tell the owner something false.
func TestStraysAreOnlyTheLoadBalancersLBCServes(t *testing.T) {
	ctx := context.Background()
	z, _ := servedZone(t)
	former, owner := tenant(t), tenant(t)
	h := "strays-lbc." + z.Spec.Domain

	nginx := &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: unique("nginx")}, Spec: networkingv1.IngressClassSpec{Controller: "k8s.io/ingress-nginx"}}
	require.NoError(t, k8s.Create(ctx, nginx))
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), nginx) })
	envoy := &gwv1.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: unique("envoy")}, Spec: gwv1.GatewayClassSpec{ControllerName: "gateway.envoyproxy.io/gatewayclass-controller"}}
	require.NoError(t, k8s.Create(ctx, envoy))
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), envoy) })

	albGateway := createOwnGateway(t, former, h)
	albIngress := ingress(former, lbc.IngressClass, h)
	nginxIngress := ingress(former, nginx.Name, h)
	envoyGateway := tenantGateway(former, h)
	envoyGateway.Spec.GatewayClassName = gwv1.ObjectName(envoy.Name)
	for _, o := range []client.Object{albIngress, nginxIngress, envoyGateway} {
		require.NoError(t, k8s.Create(ctx, o))
		t.Cleanup(func() { _ = k8s.Delete(context.Background(), o) })
	}
	require.Eventually(t, func() bool {
		c, err := getClaim(h)
		return err == nil && condition(c, v1alpha1.ConditionClaimed).Status == metav1.ConditionTrue
	}, 30*time.Second, 100*time.Millisecond, "the former owner claims %s", h)

	transferClaim(t, h, owner)

	var stray metav1.Condition
	require.Eventually(t, func() bool {
		c, err := getClaim(h)
		if err != nil {
			return false
		}
		stray = condition(c, v1alpha1.ConditionStrayRoutes)
		return c.Status.Gateway != nil && stray.Status == metav1.ConditionTrue
	}, 30*time.Second, 100*time.Millisecond, "the claim, seated for its new owner, names the former owner's load balancers")
	assert.Contains(t, stray.Message, "load balancers of other namespaces list "+h+": Gateway "+former+"/"+albGateway.Name+", Ingress "+former+"/"+albIngress.Name+";",
		"LBC's Gateway and Ingress are named, and nothing else")
	assert.NotContains(t, stray.Message, nginxIngress.Name, "the nginx Ingress gets no certificate from LBC")
	assert.NotContains(t, stray.Message, envoyGateway.Name, "the envoy Gateway gets no certificate from LBC")
}
