package integration

import (
	"context"
	"fmt"
	"testing"
	"time"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/idna"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/hostname"
)

// cyrillicPay is "рау": every letter Cyrillic (р U+0440, а U+0430, у U+0443), a look-alike of
// the Latin "pay" in UTS #39's confusables.
const cyrillicPay = "xn--80a5ak"

// claimedInCache creates an HTTPRoute of namespace ns for h and waits until the webhook's cache
// holds its claim, since the look-alike check reads the cache.
func claimedInCache(t *testing.T, ns, h string) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, k8s.Create(ctx, route(ns, h)))
	require.Eventually(t, func() bool {
		return env.Manager.GetCache().Get(ctx, client.ObjectKey{Name: hostname.ClaimName(h)}, &v1alpha1.DomainClaim{}) == nil
	}, 10*time.Second, 20*time.Millisecond, "the claim for %s reaches the cache", h)
}

func TestTheLookAlikeIsWhollyCyrillic(t *testing.T) {
	u, err := idna.Lookup.ToUnicode(cyrillicPay)
	require.NoError(t, err)
	require.Len(t, []rune(u), 3)
	for _, r := range u {
		assert.True(t, unicode.Is(unicode.Cyrillic, r), "%q (U+%04X) is Cyrillic", r, r)
	}
	assert.Equal(t, hostname.Skeleton("pay"), hostname.Skeleton(u), "UTS #39 calls it confusable with pay")
}

func TestWholeScriptLookAlikeOfAnotherNamespacesNameIsDenied(t *testing.T) {
	ctx := context.Background()
	z := newZone(t)
	teamA, teamB := tenant(t), tenant(t)
	pay, lookAlike := "pay."+z.Spec.Domain, cyrillicPay+"."+z.Spec.Domain
	claimedInCache(t, teamA, pay)
	want := fmt.Sprintf(`hostname %q (рау.%s) looks like %q, owned by namespace %q (DomainClaim %s`, lookAlike, z.Spec.Domain, pay, teamA, pay)

	doors := []struct {
		name string
		obj  client.Object
	}{
		{"HTTPRoute", route(teamB, lookAlike)},
		{"HTTPRoute written in Unicode", route(teamB, "рау."+z.Spec.Domain)},
		{"GRPCRoute", grpcRoute(teamB, lookAlike)},
		{"Ingress", ingress(teamB, "alb", lookAlike)},
		{"Gateway", tenantGateway(teamB, lookAlike)},
		{"ListenerSet", listenerSet(teamB, "gw", lookAlike)},
		{"admin DomainClaim", adminClaim(lookAlike, teamB)},
	}
	for _, tc := range doors {
		t.Run(tc.name, func(t *testing.T) {
			err := k8s.Create(ctx, tc.obj)
			require.Error(t, err)
			assert.Contains(t, err.Error(), want)
			assert.Contains(t, err.Error(), "confusable under Unicode UTS #39")
			assert.Contains(t, err.Error(), "spec.allowConfusableHostnames")
		})
	}
	_, err := getClaim(lookAlike)
	require.Error(t, err, "no claim was made for the look-alike")

	t.Run("every bad hostname is listed in one response", func(t *testing.T) {
		err := k8s.Create(ctx, route(teamB, lookAlike, "10.0.0.1"))
		require.Error(t, err)
		assert.Contains(t, err.Error(), want)
		assert.Contains(t, err.Error(), "is an IP address")
	})

	t.Run("its owner may hold a look-alike of its own name", func(t *testing.T) {
		require.NoError(t, k8s.Create(ctx, route(teamA, lookAlike)))
		c, err := getClaim(lookAlike)
		require.NoError(t, err)
		assert.Equal(t, teamA, c.Spec.Namespace)
	})
}

func TestZoneThatAllowsLookAlikesAdmitsThem(t *testing.T) {
	z := newZone(t, func(z *v1alpha1.ManagedZone) { z.Spec.AllowConfusableHostnames = true })
	teamA, teamB := tenant(t), tenant(t)
	claimedInCache(t, teamA, "pay."+z.Spec.Domain)

	lookAlike := cyrillicPay + "." + z.Spec.Domain
	require.NoError(t, k8s.Create(context.Background(), route(teamB, lookAlike)))
	c, err := getClaim(lookAlike)
	require.NoError(t, err)
	assert.Equal(t, teamB, c.Spec.Namespace)
}

func TestASCIINamesAreNeverDeniedForLookingAlike(t *testing.T) {
	z := newZone(t)
	teamA, teamB := tenant(t), tenant(t)
	modem, modern := "modem."+z.Spec.Domain, "modern."+z.Spec.Domain
	require.Equal(t, hostname.Skeleton(modem), hostname.Skeleton(modern), "UTS #39 calls rn and m confusable")
	claimedInCache(t, teamA, modem)

	require.NoError(t, k8s.Create(context.Background(), route(teamB, modern)))
	c, err := getClaim(modern)
	require.NoError(t, err)
	assert.Equal(t, teamB, c.Spec.Namespace)
}
