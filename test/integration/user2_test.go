package integration

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/internal/lbc"
)

// TestARecreatedPoolGatewayTakesOverItsConfiguration deletes a pool's only Gateway. The pool
// creates it again under the same name at once, while the LoadBalancerConfiguration of the
// deleted one is still there (the garbage collector removes a dependent only some time after its
// owner, and the test API server runs none): the new Gateway takes the configuration over, and a
// hostname claimed afterwards is seated and Ready. Before, every pool reconcile failed on a
// configuration with two controller references, and no claim of the pool moved again.
func TestARecreatedPoolGatewayTakesOverItsConfiguration(t *testing.T) {
	ctx := context.Background()
	z, _ := servedZone(t)
	ns := tenant(t)
	first := "first." + z.Spec.Domain
	require.NoError(t, k8s.Create(ctx, servingRoute(ns, "first", "/", first)))
	seat := *ready(t, first, 60*time.Second).Status.Gateway
	key := client.ObjectKey{Namespace: seat.Namespace, Name: seat.Name}

	gw := &gwv1.Gateway{}
	require.NoError(t, k8s.Get(ctx, key, gw))
	oldUID := gw.UID
	require.NoError(t, k8s.Delete(ctx, gw))
	var newUID types.UID
	require.Eventually(t, func() bool {
		got := &gwv1.Gateway{}
		if k8s.Get(ctx, key, got) != nil || got.UID == oldUID {
			return false
		}
		newUID = got.UID
		return true
	}, 30*time.Second, 100*time.Millisecond, "the pool creates its Gateway again under the same name")

	second := "second." + z.Spec.Domain
	require.NoError(t, k8s.Create(ctx, servingRoute(ns, "second", "/", second)))
	c := ready(t, second, 60*time.Second)
	assert.Equal(t, seat, *c.Status.Gateway, "seated on the Gateway created again")
	ready(t, first, 60*time.Second)

	cfg := lbc.NewUnstructured()
	require.NoError(t, k8s.Get(ctx, key, cfg))
	owner := metav1.GetControllerOf(cfg)
	require.NotNil(t, owner)
	assert.Equal(t, newUID, owner.UID, "the configuration is controlled by the Gateway that exists")
	for _, ref := range cfg.GetOwnerReferences() {
		assert.NotEqual(t, oldUID, ref.UID, "no reference to the deleted Gateway is left")
	}
}
