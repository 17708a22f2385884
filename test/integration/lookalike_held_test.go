package integration

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/test/builders"
)

// lookAlikePairBeforeTheCheck makes zone z hold a pair of look-alikes, as a cluster did before
// the check (or with spec.allowConfusableHostnames set): it allows look-alikes while mk makes
// the pair, then stops, and waits until the webhook's cache sees it stop.
func lookAlikePairBeforeTheCheck(t *testing.T, mk func(z *v1alpha1.ManagedZone)) *v1alpha1.ManagedZone {
	t.Helper()
	ctx := context.Background()
	z := newZone(t, func(z *v1alpha1.ManagedZone) { z.Spec.AllowConfusableHostnames = true })
	mk(z)
	require.NoError(t, updateLatest(ctx, z, func() { z.Spec.AllowConfusableHostnames = false }))
	require.Eventually(t, func() bool {
		cached := &v1alpha1.ManagedZone{}
		return env.Manager.GetCache().Get(ctx, client.ObjectKeyFromObject(z), cached) == nil && !cached.Spec.AllowConfusableHostnames
	}, 10*time.Second, 20*time.Millisecond, "the cache sees the zone stop allowing look-alikes")
	return z
}

// TestANewerLookAlikeDoesNotTakeANameFromItsOlderOwner: a look-alike pair from before the check
// denies neither the older side's transfer nor the names its own wildcard serves; the newer side
// is still denied new names that look like the older side's.
func TestANewerLookAlikeDoesNotTakeANameFromItsOlderOwner(t *testing.T) {
	ctx := context.Background()

	t.Run("an admin transfers the older name", func(t *testing.T) {
		teamA, teamB, teamC := tenant(t), tenant(t), tenant(t)
		var pay string
		lookAlikePairBeforeTheCheck(t, func(z *v1alpha1.ManagedZone) {
			pay = "pay." + z.Spec.Domain
			require.NoError(t, k8s.Create(ctx, builders.AdminClaim(pay, teamC)))
			claimedInCache(t, teamB, cyrillicPay+"."+z.Spec.Domain)
		})
		c, err := getClaim(pay)
		require.NoError(t, err)
		require.NoError(t, updateLatest(ctx, c, func() { c.Spec.Namespace = teamA }), "the newer look-alike does not stop the transfer")
		c, err = getClaim(pay)
		require.NoError(t, err)
		assert.Equal(t, teamA, c.Spec.Namespace)
	})

	t.Run("a route adds a name its namespace's older wildcard serves", func(t *testing.T) {
		teamA, teamB := tenant(t), tenant(t)
		var r *gwv1.HTTPRoute
		z := lookAlikePairBeforeTheCheck(t, func(z *v1alpha1.ManagedZone) {
			r = route(teamA, "*.pay."+z.Spec.Domain)
			require.NoError(t, k8s.Create(ctx, r))
			claimedInCache(t, teamB, "*."+cyrillicPay+"."+z.Spec.Domain)
		})
		shop := gwv1.Hostname("shop.pay." + z.Spec.Domain)
		require.NoError(t, updateLatest(ctx, r, func() { r.Spec.Hostnames = append(r.Spec.Hostnames, shop) }),
			"the newer look-alike wildcard does not take names from the older one")

		err := k8s.Create(ctx, route(teamB, "shop."+cyrillicPay+"."+z.Spec.Domain))
		require.Error(t, err, "the newer side gets no new look-alike names")
		assert.Contains(t, err.Error(), `looks like a name served by wildcard "*.pay.`+z.Spec.Domain+`", claimed earlier by namespace "`+teamA+`"`)
	})
}
