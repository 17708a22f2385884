package gatewaypool

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/index"
)

func TestANamespaceEventWakesOnlyThePoolsOfItsRoutesClaims(t *testing.T) {
	s := runtime.NewScheme()
	require.NoError(t, v1alpha1.AddToScheme(s))
	require.NoError(t, corev1.AddToScheme(s))
	zone := func(name, pool string) *v1alpha1.ManagedZone {
		z := &v1alpha1.ManagedZone{ObjectMeta: metav1.ObjectMeta{Name: name}}
		if pool != "" {
			z.Spec.GatewayPoolRef = &v1alpha1.LocalObjectReference{Name: pool}
		}
		return z
	}
	claim := func(name, ns, zone string, by v1alpha1.ClaimSource) *v1alpha1.DomainClaim {
		c := &v1alpha1.DomainClaim{ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: v1alpha1.DomainClaimSpec{Hostname: name, Namespace: ns, ClaimedBy: by}}
		c.Status.ManagedZone = zone
		return c
	}
	objs := []client.Object{
		&v1alpha1.GatewayPool{ObjectMeta: metav1.ObjectMeta{Name: "pool-a"}},
		&v1alpha1.GatewayPool{ObjectMeta: metav1.ObjectMeta{Name: "pool-b"}},
		&v1alpha1.GatewayPool{ObjectMeta: metav1.ObjectMeta{Name: "pool-c"}},
		zone("zone-a", "pool-a"), zone("zone-a2", "pool-a"), zone("zone-b", "pool-b"), zone("zone-c", "pool-c"),
		zone("zone-free", ""), zone("zone-free2", ""),
		claim("one.a.example", "team-a", "zone-a", v1alpha1.ClaimedByRoute),
		claim("two.a.example", "team-a", "zone-a2", v1alpha1.ClaimedByRoute), // same pool: one key
		claim("three.free.example", "team-a", "zone-free", v1alpha1.ClaimedByRoute),
		claim("four.c.example", "team-a", "zone-c", ""), // not a route's: no listener admits by namespace
		claim("five.b.example", "team-b", "zone-b", v1alpha1.ClaimedByRoute),
		claim("six.free2.example", "team-b", "zone-free2", v1alpha1.ClaimedByRoute),
	}
	k := fake.NewClientBuilder().WithScheme(s).WithObjects(objs...).
		WithIndex(&v1alpha1.DomainClaim{}, index.ClaimRouteNamespace, index.ClaimRouteNamespaceKeys).Build()
	r := &Reconciler{Client: k, APIReader: k}
	ctx := context.Background()
	ns := func(name string) client.Object { return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}} }

	assert.ElementsMatch(t, []reconcile.Request{{NamespacedName: client.ObjectKey{Name: "pool-a"}}, noPoolKey("zone-free")},
		r.namespaceToPools(ctx, ns("team-a")))
	assert.ElementsMatch(t, []reconcile.Request{{NamespacedName: client.ObjectKey{Name: "pool-b"}}, noPoolKey("zone-free2")},
		r.namespaceToPools(ctx, ns("team-b")))
	assert.Empty(t, r.namespaceToPools(ctx, ns("team-c")), "a namespace whose routes made no claim wakes no pool")
}
