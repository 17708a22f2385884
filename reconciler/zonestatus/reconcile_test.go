package zonestatus

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/index"
)

// The zone's counts are written through the status subresource, once, and not again while they
// hold; the zone's spec is never touched.
func TestReconcileWritesTheZonesCountsOnceAndOnlyItsStatus(t *testing.T) {
	z := &v1alpha1.ManagedZone{ObjectMeta: metav1.ObjectMeta{Name: "shop", Generation: 3},
		Spec: v1alpha1.ManagedZoneSpec{Domain: "shop.example.com", HostedZoneID: "Z1"}}
	mk := func(name string, opts ...claimOpt) *v1alpha1.DomainClaim {
		c := claim(opts...)
		c.Name, c.Status.ManagedZone = name, z.Name
		return &c
	}
	other := mk("elsewhere")
	other.Status.ManagedZone = "other"
	s := runtime.NewScheme()
	require.NoError(t, v1alpha1.AddToScheme(s))
	writes, specWrites := 0, 0
	k := fake.NewClientBuilder().WithScheme(s).
		WithObjects(z, other,
			mk("a", cond(v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonReady)),
			mk("b", cond(v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonPending)),
			mk("c", byRoute)).
		WithStatusSubresource(&v1alpha1.ManagedZone{}, &v1alpha1.DomainClaim{}).
		WithIndex(&v1alpha1.DomainClaim{}, index.ClaimZone, func(o client.Object) []string {
			return []string{o.(*v1alpha1.DomainClaim).Status.ManagedZone}
		}).
		WithInterceptorFuncs(interceptor.Funcs{
			SubResourcePatch: func(ctx context.Context, w client.Client, sub string, obj client.Object, p client.Patch, opts ...client.SubResourcePatchOption) error {
				writes++
				return w.SubResource(sub).Patch(ctx, obj, p, opts...)
			},
			Patch: func(ctx context.Context, w client.WithWatch, obj client.Object, p client.Patch, opts ...client.PatchOption) error {
				specWrites++
				return w.Patch(ctx, obj, p, opts...)
			},
			Update: func(ctx context.Context, w client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
				specWrites++
				return w.Update(ctx, obj, opts...)
			},
		}).Build()
	r := &Reconciler{Client: k}
	req := reconcile.Request{NamespacedName: client.ObjectKeyFromObject(z)}

	_, err := r.Reconcile(context.Background(), req)
	require.NoError(t, err)
	got := &v1alpha1.ManagedZone{}
	require.NoError(t, k.Get(context.Background(), req.NamespacedName, got))
	require.NotNil(t, got.Status.Claims)
	assert.Equal(t, v1alpha1.ZoneClaimCounts{Total: 3, Ready: 1, NotReady: 2, Unbound: 1}, *got.Status.Claims, "only the zone's own claims")
	assert.Equal(t, int64(3), got.Status.ObservedGeneration)
	assert.Equal(t, z.Spec, got.Spec)
	assert.Equal(t, 1, writes)

	_, err = r.Reconcile(context.Background(), req)
	require.NoError(t, err)
	assert.Equal(t, 1, writes, "counts that hold are not written again")
	assert.Zero(t, specWrites, "only the status subresource is written")
}
