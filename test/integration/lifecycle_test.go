package integration

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/webhook"
)

func shortRetention(z *v1alpha1.ManagedZone) {
	z.Spec.ClaimRetention = &metav1.Duration{Duration: 2 * time.Second}
	z.Spec.UnusedClaimRetention = &metav1.Duration{Duration: 1 * time.Second}
}

func waitCondition(t *testing.T, name, typ string, status metav1.ConditionStatus) *v1alpha1.DomainClaim {
	t.Helper()
	var c *v1alpha1.DomainClaim
	require.Eventually(t, func() bool {
		var err error
		c, err = getClaim(name)
		return err == nil && meta.IsStatusConditionPresentAndEqual(c.Status.Conditions, typ, status)
	}, 15*time.Second, 50*time.Millisecond, "claim %s never had %s=%s", name, typ, status)
	return c
}

func waitGone(t *testing.T, name string, within time.Duration) {
	t.Helper()
	require.Eventually(t, func() bool {
		_, err := getClaim(name)
		return apierrors.IsNotFound(err)
	}, within, 100*time.Millisecond, "claim %s was not released", name)
}

func TestClaimIsReleasedAfterItsLastRouteIsDeleted(t *testing.T) {
	ctx := context.Background()
	z := newZone(t, shortRetention)
	ns := tenant(t)
	h := "gone." + z.Spec.Domain
	r := route(ns, h)
	require.NoError(t, k8s.Create(ctx, r))
	c := waitCondition(t, h, v1alpha1.ConditionInUse, metav1.ConditionTrue)
	assert.Nil(t, c.Status.ReleaseTime)
	assert.Equal(t, z.Name, c.Status.ManagedZone)
	assert.Equal(t, z.Spec.HostedZoneID, c.Status.HostedZoneID)
	assert.True(t, meta.IsStatusConditionTrue(c.Status.Conditions, v1alpha1.ConditionClaimed))

	require.NoError(t, k8s.Delete(ctx, r))
	c = waitCondition(t, h, v1alpha1.ConditionInUse, metav1.ConditionFalse)
	require.NotNil(t, c.Status.ReleaseTime, "an unused claim says when it will be released")
	waitGone(t, h, 15*time.Second)

	// The released name is free for anyone again.
	require.NoError(t, k8s.Create(ctx, route(tenant(t), h)))
}

func TestClaimIsKeptWhileAnotherRouteStillUsesIt(t *testing.T) {
	ctx := context.Background()
	z := newZone(t, shortRetention)
	ns := tenant(t)
	h := "kept." + z.Spec.Domain
	first, second := route(ns, h), route(ns, h)
	require.NoError(t, k8s.Create(ctx, first))
	require.NoError(t, k8s.Create(ctx, second))
	waitCondition(t, h, v1alpha1.ConditionInUse, metav1.ConditionTrue)

	require.NoError(t, k8s.Delete(ctx, first))
	assert.Never(t, func() bool {
		_, err := getClaim(h)
		return apierrors.IsNotFound(err)
	}, 4*time.Second, 100*time.Millisecond, "the claim stays for twice the retention while a route uses it")
	c, err := getClaim(h)
	require.NoError(t, err, "the claim must stay while a route uses it")
	assert.True(t, meta.IsStatusConditionTrue(c.Status.Conditions, v1alpha1.ConditionInUse))
}

func TestClaimWhoseRouteNeverPersistedIsReleased(t *testing.T) {
	ctx := context.Background()
	z := newZone(t, shortRetention)
	h := "orphan." + z.Spec.Domain
	// What admission leaves behind when a later admission step rejects the route it claimed for.
	orphan := webhook.NewClaim(h, tenant(t), "HTTPRoute "+tenant(t)+"/r")
	require.NoError(t, k8s.Create(ctx, orphan))
	waitGone(t, h, 15*time.Second)
}

func TestAdminClaimIsNeverReleased(t *testing.T) {
	ctx := context.Background()
	z := newZone(t, shortRetention)
	h := "reserved." + z.Spec.Domain
	require.NoError(t, k8s.Create(ctx, adminClaim(h, tenant(t))))
	c := waitCondition(t, h, v1alpha1.ConditionInUse, metav1.ConditionFalse)
	assert.Equal(t, v1alpha1.ReasonAdminClaim, meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionInUse).Reason)
	assert.Never(t, func() bool {
		got, err := getClaim(h)
		return err != nil || got.Status.ReleaseTime != nil
	}, 3*time.Second, 100*time.Millisecond, "an admin's claim is never given a release time, nor released")
	require.NoError(t, k8s.Get(ctx, client.ObjectKey{Name: h}, c), "an admin's claim stays")
	assert.Nil(t, c.Status.ReleaseTime)
}
