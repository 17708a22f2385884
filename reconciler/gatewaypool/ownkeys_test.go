package gatewaypool

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/test/builders"
)

func TestALoadBalancerOfItsOwnWakesEveryPoolAndEveryZoneWithoutOne(t *testing.T) {
	s := runtime.NewScheme()
	require.NoError(t, v1alpha1.AddToScheme(s))
	k := fake.NewClientBuilder().WithScheme(s).WithObjects(
		builders.Pool("pool-a"), builders.Pool("pool-b"),
		builders.Zone("zone-a", builders.Served("pool-a")), builders.Zone("zone-free"),
		builders.Zone("zone-missing", builders.Served("pool-gone")),
	).Build()
	r := &Reconciler{Client: k}
	ctx := context.Background()

	every := []reconcile.Request{
		{NamespacedName: client.ObjectKey{Name: "pool-a"}}, {NamespacedName: client.ObjectKey{Name: "pool-b"}},
		noPoolKey("zone-free"),
		{NamespacedName: client.ObjectKey{Name: "pool-gone"}}, // a zone naming a missing pool waits under the pool's key
	}
	ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "web"}}
	assert.ElementsMatch(t, every, r.ownLoadBalancerToPools(ctx, ing), "an Ingress")
	gw := &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "own"}}
	assert.ElementsMatch(t, every, r.ownLoadBalancerToPools(ctx, gw), "a tenant's Gateway")
	poolGateway := &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: "gateway-system", Name: "pool-a-0"}}
	assert.Empty(t, r.ownLoadBalancerToPools(ctx, poolGateway), "a pool's own Gateway is watched with its pool")
}
