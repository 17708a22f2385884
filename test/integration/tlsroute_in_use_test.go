package integration

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/test/builders"
)

// TestAClaimWhoseOnlyUserIsATLSRouteIsKeptUntilTheTLSRouteGoes: LBC discovers the certificates
// of a TLSRoute's NLB by its hostnames, so a TLSRoute listing its namespace's name keeps the
// claim in use: with a short retention, the claim outlives its HTTPRoute while the TLSRoute lists
// the name (no other namespace can claim it meanwhile), and is released once the TLSRoute goes.
func TestAClaimWhoseOnlyUserIsATLSRouteIsKeptUntilTheTLSRouteGoes(t *testing.T) {
	ctx := context.Background()
	z := newZone(t, shortRetention)
	ns := tenant(t)
	h := "tls." + z.Spec.Domain
	rt := route(ns, h)
	require.NoError(t, k8s.Create(ctx, rt))
	waitCondition(t, h, v1alpha1.ConditionInUse, metav1.ConditionTrue)
	tls := tlsRoute(ns, h)
	require.NoError(t, k8s.Create(ctx, tls), "the name is the namespace's: its TLSRoute may list it")

	require.NoError(t, k8s.Delete(ctx, rt))
	byTLS := "TLSRoute " + ns + "/" + tls.Name
	require.Eventually(t, func() bool {
		c, err := getClaim(h)
		if err != nil {
			return false
		}
		u := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionInUse)
		return u != nil && u.Status == metav1.ConditionTrue && u.Message == "used by "+byTLS
	}, 30*time.Second, 50*time.Millisecond, "InUse names the TLSRoute alone once the HTTPRoute is gone")

	// Well past the zone's 2 s claimRetention the claim is still there, in use and not scheduled
	// for release.
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		c, err := getClaim(h)
		require.NoError(t, err, "a claim listed by a TLSRoute of its namespace is not released")
		require.True(t, meta.IsStatusConditionTrue(c.Status.Conditions, v1alpha1.ConditionInUse))
		require.Nil(t, c.Status.ReleaseTime)
		require.True(t, c.DeletionTimestamp.IsZero())
	}
	other := tenant(t)
	err := k8s.Create(ctx, route(other, h))
	require.Error(t, err, "another namespace cannot claim the name while the TLSRoute lists it")
	assert.Contains(t, err.Error(), ns)

	require.NoError(t, k8s.Delete(ctx, tls))
	c := waitCondition(t, h, v1alpha1.ConditionInUse, metav1.ConditionFalse)
	assert.NotNil(t, c.Status.ReleaseTime, "once the TLSRoute is gone the claim says when it goes")
	waitGone(t, h, 15*time.Second)
}

// TestATLSRouteKeepsAClaimButBindsNothing: a TLSRoute is a user that keeps the claim, not one
// that provisions it: an admin's reservation listed only by a TLSRoute stays unbound, so it gets
// no certificate and no seat on the zone's pool.
func TestATLSRouteKeepsAClaimButBindsNothing(t *testing.T) {
	ctx := context.Background()
	z, _ := servedZone(t)
	ns := tenant(t)
	h := "tls-only." + z.Spec.Domain
	require.NoError(t, k8s.Create(ctx, builders.AdminClaim(h, ns)))
	waitCondition(t, h, v1alpha1.ConditionBound, metav1.ConditionFalse)
	tls := tlsRoute(ns, h)
	require.NoError(t, k8s.Create(ctx, tls))

	c := waitCondition(t, h, v1alpha1.ConditionInUse, metav1.ConditionTrue)
	assert.Equal(t, "used by TLSRoute "+ns+"/"+tls.Name, condition(c, v1alpha1.ConditionInUse).Message)
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		c, err := getClaim(h)
		require.NoError(t, err)
		require.Equal(t, v1alpha1.ReasonUnbound, condition(c, v1alpha1.ConditionBound).Reason, "a TLSRoute binds nothing")
		require.Nil(t, c.Status.Gateway, "no pool seat")
		require.Empty(t, c.Status.CertificateARN)
	}
	assert.Zero(t, env.AWS.ACM.Requests(h), "no certificate is requested")
}
