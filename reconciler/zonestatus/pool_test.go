package zonestatus

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/index"
)

func TestAZoneSaysWhetherTheGatewayPoolItNamesExists(t *testing.T) {
	ctx := context.Background()
	z := &v1alpha1.ManagedZone{ObjectMeta: metav1.ObjectMeta{Name: "shop", Generation: 2},
		Spec: v1alpha1.ManagedZoneSpec{Domain: "shop.example.com", HostedZoneID: "Z1", GatewayPoolRef: &v1alpha1.LocalObjectReference{Name: "public"}}}
	s := runtime.NewScheme()
	require.NoError(t, v1alpha1.AddToScheme(s))
	writes := 0
	k := fake.NewClientBuilder().WithScheme(s).WithObjects(z).
		WithStatusSubresource(&v1alpha1.ManagedZone{}).
		WithIndex(&v1alpha1.DomainClaim{}, index.ClaimZone, func(o client.Object) []string {
			return []string{o.(*v1alpha1.DomainClaim).Status.ManagedZone}
		}).
		WithInterceptorFuncs(interceptor.Funcs{
			SubResourcePatch: func(ctx context.Context, w client.Client, sub string, obj client.Object, p client.Patch, opts ...client.SubResourcePatchOption) error {
				writes++
				return w.SubResource(sub).Patch(ctx, obj, p, opts...)
			},
		}).Build()
	r := &Reconciler{Client: k}
	req := reconcile.Request{NamespacedName: client.ObjectKeyFromObject(z)}
	pass := func() *metav1.Condition {
		t.Helper()
		_, err := r.Reconcile(ctx, req)
		require.NoError(t, err)
		got := &v1alpha1.ManagedZone{}
		require.NoError(t, k.Get(ctx, req.NamespacedName, got))
		require.NotNil(t, got.Status.Claims, "the counts are written with it")
		return meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ZoneConditionGatewayPool)
	}

	cond := pass()
	require.NotNil(t, cond)
	assert.Equal(t, metav1.ConditionFalse, cond.Status)
	assert.Equal(t, v1alpha1.ReasonGatewayPoolNotFound, cond.Reason)
	assert.Contains(t, cond.Message, "spec.gatewayPoolRef names GatewayPool public, which does not exist")
	assert.Equal(t, int64(2), cond.ObservedGeneration)
	assert.Equal(t, 1, writes)
	pass()
	assert.Equal(t, 1, writes, "desired equals current: no write")

	require.NoError(t, k.Create(ctx, &v1alpha1.GatewayPool{ObjectMeta: metav1.ObjectMeta{Name: "public"}}))
	assert.Equal(t, []reconcile.Request{req}, r.zonesNaming(ctx, &v1alpha1.GatewayPool{ObjectMeta: metav1.ObjectMeta{Name: "public"}}), "the pool's creation wakes the zone")
	assert.Empty(t, r.zonesNaming(ctx, &v1alpha1.GatewayPool{ObjectMeta: metav1.ObjectMeta{Name: "other"}}))
	cond = pass()
	assert.Equal(t, metav1.ConditionTrue, cond.Status)
	assert.Equal(t, v1alpha1.ReasonGatewayPoolExists, cond.Reason)
	assert.Equal(t, 2, writes)

	require.NoError(t, k.Get(ctx, req.NamespacedName, z))
	z.Spec.GatewayPoolRef = nil
	require.NoError(t, k.Update(ctx, z))
	assert.Nil(t, pass(), "a zone without a pool has no such condition")
	assert.Equal(t, 3, writes)
}
