package gatewaypool

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/internal/lbc"
)

func TestOnlyConfigurationsChangedSinceTheLastReconcileAreReadAgain(t *testing.T) {
	ctx := context.Background()
	pool := testPool(1, 10)
	var objs []client.Object
	var gws []gwv1.Gateway
	for _, name := range []string{"public-1", "public-2", "public-3"} {
		cfg := &lbc.LoadBalancerConfiguration{ObjectMeta: metav1.ObjectMeta{Namespace: pool.Spec.Namespace, Name: name, Labels: map[string]string{LabelPool: pool.Name}}}
		cfg.Spec.EnsureListener(HTTPSProtocolPort).DefaultCertificate = "arn:" + name
		u, err := cfg.ToUnstructured()
		require.NoError(t, err)
		objs = append(objs, u)
		gws = append(gws, gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: pool.Spec.Namespace, Name: name}})
	}
	var gets []string
	s := runtime.NewScheme()
	s.AddKnownTypeWithName(lbc.GroupVersionKind, &unstructured.Unstructured{})
	s.AddKnownTypeWithName(lbc.GroupVersionKind.GroupVersion().WithKind(lbc.GroupVersionKind.Kind+"List"), &unstructured.UnstructuredList{})
	k := fake.NewClientBuilder().WithScheme(s).WithObjects(objs...).WithInterceptorFuncs(interceptor.Funcs{
		Get: func(ctx context.Context, cl client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			gets = append(gets, key.Name)
			return cl.Get(ctx, key, obj, opts...)
		},
	}).Build()
	r := &Reconciler{Client: k, APIReader: k}

	got, err := r.configurations(ctx, pool, gws)
	require.NoError(t, err)
	require.Len(t, got, 3)
	assert.ElementsMatch(t, []string{"public-1", "public-2", "public-3"}, gets, "the first reconcile reads each")
	assert.Equal(t, "arn:public-2", CertificatesOf(got["public-2"]).DefaultCertificate)

	u := lbc.NewUnstructured()
	require.NoError(t, k.Get(ctx, client.ObjectKey{Namespace: pool.Spec.Namespace, Name: "public-2"}, u))
	require.NoError(t, lbc.Mutate(u, func(c *lbc.LoadBalancerConfiguration) error {
		c.Spec.EnsureListener(HTTPSProtocolPort).DefaultCertificate = "arn:new"
		return nil
	}))
	require.NoError(t, k.Update(ctx, u))
	gets = nil
	got, err = r.configurations(ctx, pool, gws)
	require.NoError(t, err)
	assert.Equal(t, []string{"public-2"}, gets, "only the configuration whose resourceVersion moved is read again")
	assert.Equal(t, "arn:new", CertificatesOf(got["public-2"]).DefaultCertificate)
	assert.Equal(t, "arn:public-1", CertificatesOf(got["public-1"]).DefaultCertificate)

	require.NoError(t, k.Delete(ctx, u))
	gets = nil
	got, err = r.configurations(ctx, pool, gws)
	require.NoError(t, err)
	assert.Equal(t, []string{"public-2"}, gets, "a Gateway whose configuration is gone is looked up by name")
	assert.NotContains(t, got, "public-2")
	assert.Len(t, got, 2)
}
