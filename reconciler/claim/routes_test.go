package claim

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/index"
)

func TestRoutesUsingNamesTheObjectTheClaimWasMadeForFirst(t *testing.T) {
	scheme := runtime.NewScheme()
	require.NoError(t, v1alpha1.AddToScheme(scheme))
	require.NoError(t, gwv1.Install(scheme))
	require.NoError(t, networkingv1.AddToScheme(scheme))
	httpRoute := func(ns, name string, uid types.UID, h string) *gwv1.HTTPRoute {
		return &gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: uid},
			Spec: gwv1.HTTPRouteSpec{Hostnames: []gwv1.Hostname{gwv1.Hostname(h)}}}
	}
	const h = "shop.example.com"
	b := fake.NewClientBuilder().WithScheme(scheme).WithObjects(
		httpRoute("a", "earlier", "uid-earlier", h),
		httpRoute("a", "made-for", "uid-made-for", h),
		httpRoute("b", "other-namespace", "uid-other", h),
		httpRoute("a", "other-hostname", "uid-x", "else.example.com"),
	)
	for _, o := range []client.Object{&gwv1.HTTPRoute{}, &gwv1.GRPCRoute{}, &networkingv1.Ingress{}, &gwv1.Gateway{}} {
		b = b.WithIndex(o, index.RouteHostname, index.RouteKeys)
	}
	r := &Reconciler{Client: b.Build()}
	c := routeClaim(func(c *v1alpha1.DomainClaim) {
		c.Annotations = map[string]string{v1alpha1.AnnotationClaimedForUID: "uid-made-for"}
	})

	got, tls, err := r.routesUsing(context.Background(), c)
	require.NoError(t, err)
	assert.Equal(t, []string{"HTTPRoute a/made-for", "HTTPRoute a/earlier"}, got)
	assert.Empty(t, tls)

	delete(c.Annotations, v1alpha1.AnnotationClaimedForUID)
	got, _, err = r.routesUsing(context.Background(), c)
	require.NoError(t, err)
	assert.Equal(t, []string{"HTTPRoute a/earlier", "HTTPRoute a/made-for"}, got, "without a recorded UID, in list order")
}

func TestRoutesUsingListsTheNamespacesTLSRoutesApartWhereTheirKindIsServed(t *testing.T) {
	scheme := runtime.NewScheme()
	require.NoError(t, v1alpha1.AddToScheme(scheme))
	require.NoError(t, gwv1.Install(scheme))
	require.NoError(t, networkingv1.AddToScheme(scheme))
	tlsRoute := func(ns, name, h string) *gwv1.TLSRoute {
		return &gwv1.TLSRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: gwv1.TLSRouteSpec{Hostnames: []gwv1.Hostname{gwv1.Hostname(h)}}}
	}
	b := fake.NewClientBuilder().WithScheme(scheme).WithObjects(
		tlsRoute("a", "db", "shop.example.com"),
		tlsRoute("a", "under-the-wildcard", "x.example.com"),
		tlsRoute("b", "other-namespace", "shop.example.com"),
	)
	for _, o := range []client.Object{&gwv1.HTTPRoute{}, &gwv1.GRPCRoute{}, &networkingv1.Ingress{}, &gwv1.Gateway{}, &gwv1.TLSRoute{}} {
		b = b.WithIndex(o, index.RouteHostname, index.RouteKeys)
	}
	r := &Reconciler{Client: b.Build(), TLSRoutes: true}

	routes, tls, err := r.routesUsing(context.Background(), routeClaim())
	require.NoError(t, err)
	assert.Empty(t, routes, "a TLSRoute is no route that binds")
	assert.Equal(t, []string{"TLSRoute a/db"}, tls)

	_, tls, err = r.routesUsing(context.Background(), routeClaim(func(c *v1alpha1.DomainClaim) { c.Name, c.Spec.Hostname = "wc--wildcard.example.com", "*.example.com" }))
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"TLSRoute a/db", "TLSRoute a/under-the-wildcard"}, tls, "names under the namespace's wildcard keep the wildcard's claim")

	r.TLSRoutes = false
	_, tls, err = r.routesUsing(context.Background(), routeClaim())
	require.NoError(t, err)
	assert.Empty(t, tls, "where the kind is not served, TLSRoutes are not listed")
}
