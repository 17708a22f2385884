package integration

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
)

// cyrillicShop is "ѕһор", every letter Cyrillic: a look-alike of the Latin "shop".
const cyrillicShop = "xn--n1ae5d4v"

// TestTheSquatterFirstDoesNotKeepTheName: a squatter's namespace claims the all-Cyrillic
// look-alike of pay.<zone> before its rightful owner asks for the ASCII name. The later ASCII
// name is denied at every door, naming the earlier look-alike, its namespace and what to do;
// once an admin deletes the squatter's claim, the owner gets the name.
func TestTheSquatterFirstDoesNotKeepTheName(t *testing.T) {
	ctx := context.Background()
	z := newZone(t)
	teamA, squatter := tenant(t), tenant(t)
	pay, lookAlike := "pay."+z.Spec.Domain, cyrillicPay+"."+z.Spec.Domain
	claimedInCache(t, squatter, lookAlike)
	want := fmt.Sprintf(`hostname %q looks like %q (рау.%s), claimed earlier by namespace %q (DomainClaim %s`, pay, lookAlike, z.Spec.Domain, squatter, lookAlike)

	doors := []struct {
		name string
		obj  client.Object
	}{
		{"HTTPRoute", route(teamA, pay)},
		{"GRPCRoute", grpcRoute(teamA, pay)},
		{"Ingress", ingress(teamA, "alb", pay)},
		{"Gateway", tenantGateway(teamA, pay)},
		{"ListenerSet", listenerSet(teamA, "gw", pay)},
		{"admin DomainClaim", adminClaim(pay, teamA)},
	}
	for _, tc := range doors {
		t.Run(tc.name, func(t *testing.T) {
			err := k8s.Create(ctx, tc.obj)
			require.Error(t, err)
			assert.Contains(t, err.Error(), want)
			assert.Contains(t, err.Error(), "confusable under Unicode UTS #39")
			assert.Contains(t, err.Error(), "a cluster admin can delete DomainClaim "+lookAlike, "what to do about a squatter")
			assert.Contains(t, err.Error(), "spec.allowConfusableHostnames", "or how the zone allows look-alikes")
		})
	}
	_, err := getClaim(pay)
	require.True(t, apierrors.IsNotFound(err), "no claim was made for the ASCII name: %v", err)

	t.Run("once an admin deletes the squatter's claim, the owner gets the name", func(t *testing.T) {
		c, err := getClaim(lookAlike)
		require.NoError(t, err)
		require.NoError(t, k8s.Delete(ctx, c))
		require.Eventually(t, func() bool {
			return k8s.Create(ctx, route(teamA, pay)) == nil
		}, 30*time.Second, 200*time.Millisecond, "the owner's route is admitted once the look-alike owns nothing")
		c, err = getClaim(pay)
		require.NoError(t, err)
		assert.Equal(t, teamA, c.Spec.Namespace)
	})
}

// TestLookAlikesOfNamesAWildcardServes: team-a's wildcard *.shop.<zone> serves pay.shop.<zone>
// without a claim of that name; the Cyrillic pay.ѕһор.<zone> looks like it and is denied, and in
// the other order (the look-alike first) the wildcard is.
func TestLookAlikesOfNamesAWildcardServes(t *testing.T) {
	ctx := context.Background()

	t.Run("the wildcard first", func(t *testing.T) {
		z := newZone(t)
		teamA, teamC := tenant(t), tenant(t)
		wildcard, lookAlike := "*.shop."+z.Spec.Domain, "pay."+cyrillicShop+"."+z.Spec.Domain
		claimedInCache(t, teamA, wildcard)
		for _, obj := range []client.Object{route(teamC, lookAlike), adminClaim(lookAlike, teamC)} {
			err := k8s.Create(ctx, obj)
			require.Error(t, err)
			assert.Contains(t, err.Error(), fmt.Sprintf(`hostname %q (pay.ѕһор.%s) looks like a name served by wildcard %q, claimed earlier by namespace %q`,
				lookAlike, z.Spec.Domain, wildcard, teamA))
		}
	})

	t.Run("the look-alike first", func(t *testing.T) {
		z := newZone(t)
		teamA, teamC := tenant(t), tenant(t)
		wildcard, lookAlike := "*.shop."+z.Spec.Domain, "pay."+cyrillicShop+"."+z.Spec.Domain
		claimedInCache(t, teamC, lookAlike)
		err := k8s.Create(ctx, route(teamA, wildcard))
		require.Error(t, err)
		assert.Contains(t, err.Error(), fmt.Sprintf(`hostname %q would serve names that look like %q (pay.ѕһор.%s), claimed earlier by namespace %q`,
			wildcard, lookAlike, z.Spec.Domain, teamC))
		assert.Contains(t, err.Error(), "a cluster admin can delete DomainClaim "+lookAlike)
	})

	t.Run("a zone that allows look-alikes admits both", func(t *testing.T) {
		z := newZone(t, func(z *v1alpha1.ManagedZone) { z.Spec.AllowConfusableHostnames = true })
		teamA, teamC := tenant(t), tenant(t)
		claimedInCache(t, teamC, "pay."+cyrillicShop+"."+z.Spec.Domain)
		require.NoError(t, k8s.Create(ctx, route(teamA, "*.shop."+z.Spec.Domain)))
	})
}
