package integration

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/utils/ptr"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
)

func TestNamespaceCapDeniesTheClaimPastItAndADeletedClaimFreesASlot(t *testing.T) {
	ctx := context.Background()
	z := newZone(t, func(z *v1alpha1.ManagedZone) {
		z.Spec.Limits = &v1alpha1.ZoneLimits{MaxClaimsPerNamespace: ptr.To[int32](2)}
	})
	ns, other := tenant(t), tenant(t)
	first := route(ns, "a."+z.Spec.Domain)
	require.NoError(t, k8s.Create(ctx, first))
	require.NoError(t, k8s.Create(ctx, route(ns, "b."+z.Spec.Domain)))

	var err error
	require.Eventually(t, func() bool { // the cache counts; it sees the second claim shortly
		err = k8s.Create(ctx, route(ns, "c."+z.Spec.Domain))
		return err != nil
	}, 10*time.Second, 50*time.Millisecond, "the cap+1st claim must be denied")
	require.True(t, apierrors.IsInvalid(err), "%v", err)
	msg := err.Error()
	assert.Contains(t, msg, fmt.Sprintf(`namespace %q holds 2 DomainClaims in ManagedZone %q`, ns, z.Name))
	assert.Contains(t, msg, "the cap is 2")
	assert.Contains(t, msg, fmt.Sprintf("kubectl edit managedzone %s (spec.limits.maxClaimsPerNamespace)", z.Name))
	_, err = getClaim("c." + z.Spec.Domain)
	assert.True(t, apierrors.IsNotFound(err), "a denied object claims nothing: %v", err)

	// Hostnames the namespace already owns stay usable, and other namespaces have caps of their own.
	require.NoError(t, k8s.Create(ctx, route(ns, "a."+z.Spec.Domain)))
	require.NoError(t, k8s.Create(ctx, route(other, "d."+z.Spec.Domain)))

	// Deleting a claim frees its slot.
	require.NoError(t, k8s.Delete(ctx, first))
	a, err := getClaim("a." + z.Spec.Domain)
	require.NoError(t, err)
	require.NoError(t, k8s.Delete(ctx, a))
	require.Eventually(t, func() bool {
		return k8s.Create(ctx, route(ns, "c."+z.Spec.Domain)) == nil
	}, 10*time.Second, 50*time.Millisecond, "the freed slot must admit a new claim")
}

func TestUnboundCapStopsClaimsOfRefusedCreates(t *testing.T) {
	ctx := context.Background()
	z := newZone(t, func(z *v1alpha1.ManagedZone) {
		z.Spec.Limits = &v1alpha1.ZoneLimits{MaxUnboundClaimsPerNamespace: ptr.To[int32](1)}
	})
	ns := tenant(t)
	used := route(ns, "a."+z.Spec.Domain)
	require.NoError(t, k8s.Create(ctx, used))
	require.Eventually(t, func() bool { // bound: a route uses it
		c, err := getClaim("a." + z.Spec.Domain)
		return err == nil && meta.IsStatusConditionTrue(c.Status.Conditions, v1alpha1.ConditionBound)
	}, 10*time.Second, 50*time.Millisecond)

	// A create that the API server refuses after admission (the name exists) leaves an unbound
	// claim. Until the webhook's cache has seen the first claim bound, that claim still counts
	// against the cap and the create is denied; it is tried again until the cache catches up.
	var err error
	require.Eventually(t, func() bool {
		dup := route(ns, "b."+z.Spec.Domain)
		dup.Name = used.Name
		err = k8s.Create(ctx, dup)
		return apierrors.IsAlreadyExists(err)
	}, 10*time.Second, 50*time.Millisecond, "the first claim is bound, so the cap admits one unbound claim: %v", err)
	_, err = getClaim("b." + z.Spec.Domain)
	require.NoError(t, err, "admission claimed before the API server refused the name")

	require.Eventually(t, func() bool {
		dup := route(ns, "c."+z.Spec.Domain)
		dup.Name = used.Name
		err = k8s.Create(ctx, dup)
		return apierrors.IsInvalid(err)
	}, 10*time.Second, 50*time.Millisecond, "the second unbound claim must be denied: %v", err)
	assert.Contains(t, err.Error(), fmt.Sprintf(`namespace %q holds 1 unbound DomainClaims`, ns))
	assert.Contains(t, err.Error(), "spec.limits.maxUnboundClaimsPerNamespace")
	_, err = getClaim("c." + z.Spec.Domain)
	assert.True(t, apierrors.IsNotFound(err), "%v", err)
}
