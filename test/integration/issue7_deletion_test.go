package integration

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// TestDeletedClaimStopsItsFormerOwnerOnTheALB is the fourth attack's other half: an admin
// deletes the claim of a hostname that team-a's route still lists (with a parentRef team-a wrote,
// so the orchestrator never detaches it). From then on the ALB sends the hostname to team-a's
// route never again, team-a cannot claim it back while the claim is being deleted, and once it is
// gone team-b claims the hostname and the ALB sends it to team-b's route only.
func TestDeletedClaimStopsItsFormerOwnerOnTheALB(t *testing.T) {
	ctx := context.Background()
	z, _ := servedZone(t)
	teamA, teamB := tenant(t), tenant(t)
	shop := "gone." + z.Spec.Domain
	require.NoError(t, k8s.Create(ctx, servingRoute(teamA, "seat", "/", shop)))
	gw := *ready(t, shop, 60*time.Second).Status.Gateway
	written := servingRoute(teamA, "shop-a", "/", shop)
	written.Spec.ParentRefs = []gwv1.ParentReference{gatewayParent(gw)}
	require.NoError(t, k8s.Create(ctx, written))
	require.Eventually(t, func() bool {
		got, ok := env.StandIn.Resolve(gw.Namespace, gw.Name, shop, "/")
		return ok && got.Namespace == teamA
	}, 20*time.Second, 100*time.Millisecond, "team-a serves the hostname before the deletion")

	c, err := getClaim(shop)
	require.NoError(t, err)
	require.NoError(t, k8s.Delete(ctx, c))
	err = k8s.Create(ctx, servingRoute(teamA, "again", "/", shop), client.DryRunAll)
	if err == nil {
		_, err = getClaim(shop) // the claim went before the dry run: nothing left to deny
		require.Error(t, err)
	} else {
		assert.Contains(t, err.Error(), "is being released", "a claim being deleted owns nothing")
	}
	waitGone(t, shop, 60*time.Second)
	_, ok := env.StandIn.Resolve(gw.Namespace, gw.Name, shop, "/")
	assert.False(t, ok, "once the claim is gone, the ALB sends its hostname nowhere")

	require.NoError(t, k8s.Create(ctx, servingRoute(teamB, "shop-b", "/", shop)), "the hostname is free again")
	c = ready(t, shop, 60*time.Second)
	assert.Equal(t, teamB, c.Spec.Namespace)
	newGW := *c.Status.Gateway
	deadline := time.Now().Add(20 * time.Second)
	servedByB := false
	for time.Now().Before(deadline) && !servedByB {
		for _, g := range []struct{ ns, name string }{{gw.Namespace, gw.Name}, {newGW.Namespace, newGW.Name}} {
			got, ok := env.StandIn.Resolve(g.ns, g.name, shop, "/")
			require.False(t, ok && got.Namespace == teamA, "the former owner's route is never served again (Gateway %s)", g.name)
			servedByB = servedByB || ok && got == types.NamespacedName{Namespace: teamB, Name: "shop-b"}
		}
		time.Sleep(50 * time.Millisecond)
	}
	assert.True(t, servedByB, "the new owner's route serves the hostname")
}
