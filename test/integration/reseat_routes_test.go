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
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/test/lbcstandin"
)

// parentsOf reads a route's parentRefs and its record of the Gateways the orchestrator attached
// it to.
func parentsOf(t require.TestingT, r *gwv1.HTTPRoute) ([]gwv1.ParentReference, string) {
	if h, ok := t.(interface{ Helper() }); ok {
		h.Helper()
	}
	got := &gwv1.HTTPRoute{}
	require.NoError(t, k8s.Get(context.Background(), client.ObjectKeyFromObject(r), got))
	return got.Spec.ParentRefs, got.Annotations[v1alpha1.AnnotationAttachedTo]
}

// TestDeletingTheSeatGatewayMovesTheRoutesParentRef deletes the Gateway a hostname is seated
// on (its load balancer takes a while to go): the claim is seated on another Gateway, the
// auto-attached route's parentRef follows it (the one its owner wrote stays), the stand-in
// routes the hostname to the route through the new Gateway, and no ALIAS points at the old ALB.
func TestDeletingTheSeatGatewayMovesTheRoutesParentRef(t *testing.T) {
	ctx := context.Background()
	z, p := servedZone(t)
	ns := tenant(t)
	h := "moving." + z.Spec.Domain
	r := servingRoute(ns, "app", "/", h)
	require.NoError(t, k8s.Create(ctx, r))
	old := *ready(t, h, 60*time.Second).Status.Gateway
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		refs, record := parentsOf(c, r)
		assert.True(c, len(refs) == 1 && v1alpha1.HasParent(ns, refs, old) && record == old.Namespace+"/"+old.Name)
	}, 20*time.Second, 100*time.Millisecond, "the route is attached to its hostname's Gateway, and the orchestrator records it")
	own := gwv1.ParentReference{Name: "own"} // a Gateway of the tenant's own, not the pool's
	require.NoError(t, updateLatest(ctx, r, func() { r.Spec.ParentRefs = append(r.Spec.ParentRefs, own) }))

	gw := &gwv1.Gateway{}
	require.NoError(t, k8s.Get(ctx, client.ObjectKey{Namespace: old.Namespace, Name: old.Name}, gw))
	oldALB := lbcstandin.LoadBalancerName(old.Namespace, old.Name)
	env.StandIn.HoldDeletion(old.Namespace, old.Name)
	defer env.StandIn.ReleaseDeletion(old.Namespace, old.Name)
	require.NoError(t, k8s.Delete(ctx, gw))

	var moved v1alpha1.ObjectRef
	require.Eventually(t, func() bool {
		c, err := getClaim(h)
		if err != nil {
			return false
		}
		if c.Status.Gateway == nil || *c.Status.Gateway == old || !meta.IsStatusConditionTrue(c.Status.Conditions, v1alpha1.ConditionReady) {
			return false
		}
		moved = *c.Status.Gateway
		return true
	}, 90*time.Second, 100*time.Millisecond, "the claim is seated on another Gateway while the old one is being deleted")
	assert.Equal(t, p.Spec.Namespace, moved.Namespace)

	var refs []gwv1.ParentReference
	var record string
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		refs, record = parentsOf(c, r)
		assert.True(c, !v1alpha1.HasParent(ns, refs, old) && v1alpha1.HasParent(ns, refs, moved))
	}, 20*time.Second, 100*time.Millisecond, "the route's parentRef follows the seat")
	assert.Len(t, refs, 2)
	assert.Contains(t, stripDefaults(refs), own, "the parentRef the route's owner wrote stays")
	assert.Equal(t, moved.Namespace+"/"+moved.Name, record)

	require.Eventually(t, func() bool {
		got, ok := env.StandIn.Resolve(moved.Namespace, moved.Name, h, "/")
		return ok && got == types.NamespacedName{Namespace: ns, Name: "app"}
	}, 20*time.Second, 100*time.Millisecond, "the new Gateway's ALB sends the hostname to the route")
	require.Eventually(t, func() bool { return aliasesPointAtLiveALBs(z, oldALB) }, 30*time.Second, 100*time.Millisecond,
		"the ALIAS is repointed away from the ALB being deleted")

	env.StandIn.ReleaseDeletion(old.Namespace, old.Name)
	require.Eventually(t, func() bool {
		err := k8s.Get(ctx, client.ObjectKey{Namespace: old.Namespace, Name: old.Name}, gw)
		return apierrors.IsNotFound(err) || err == nil && gw.DeletionTimestamp.IsZero()
	}, 30*time.Second, 100*time.Millisecond, "the old Gateway is gone once its load balancer is")
	assert.True(t, aliasesPointAtLiveALBs(z, oldALB), "no ALIAS points at the deleted ALB")
	refs, _ = parentsOf(t, r)
	assert.False(t, v1alpha1.HasParent(ns, refs, old) && !v1alpha1.HasParent(ns, refs, moved), "the route stays on the new Gateway")
}

// TestTransferDetachesTheFormerOwnersRoute transfers a hostname: the former owner's
// auto-attached route loses the parentRef the orchestrator added (admission lets the detaching
// write through although the route lists a hostname its namespace no longer owns), while a
// route whose owner wrote the parentRef keeps it and is refused by the listener, as LBC would.
func TestTransferDetachesTheFormerOwnersRoute(t *testing.T) {
	ctx := context.Background()
	z, _ := servedZone(t)
	teamA, teamB := tenant(t), tenant(t)
	h := "handed." + z.Spec.Domain
	auto := servingRoute(teamA, "auto", "/", h)
	require.NoError(t, k8s.Create(ctx, auto))
	gw := *ready(t, h, 60*time.Second).Status.Gateway
	written := servingRoute(teamA, "written", "/written", h)
	written.Spec.ParentRefs = []gwv1.ParentReference{gatewayParent(gw)}
	standInSaw(t, gw)
	require.NoError(t, k8s.Create(ctx, written))
	require.True(t, lbcVerdict(t, written), "the route with its own parentRef attaches before the transfer")
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		refs, _ := parentsOf(c, auto)
		assert.True(c, v1alpha1.HasParent(teamA, refs, gw))
	}, 20*time.Second, 100*time.Millisecond)

	require.NoError(t, retry.RetryOnConflict(retry.DefaultRetry, func() error {
		c, err := getClaim(h)
		if err != nil {
			return err
		}
		c.Spec.Namespace = teamB
		return k8s.Update(ctx, c)
	}))

	require.EventuallyWithT(t, func(c *assert.CollectT) {
		refs, record := parentsOf(c, auto)
		assert.True(c, len(refs) == 0 && record == "")
	}, 20*time.Second, 100*time.Millisecond, "the auto-attached route of the former owner is detached")
	refs, _ := parentsOf(t, written)
	assert.Equal(t, []gwv1.ParentReference{gatewayParent(gw)}, stripDefaults(refs), "the parentRef the user wrote stays")
	require.Eventually(t, func() bool {
		got := &gwv1.HTTPRoute{}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(written), got); err != nil {
			return false
		}
		for _, p := range got.Status.Parents {
			if c := meta.FindStatusCondition(p.Conditions, "Accepted"); p.ControllerName == lbcstandin.ControllerName && c != nil {
				return c.Status == metav1.ConditionFalse && c.Reason == string(gwv1.RouteReasonNotAllowedByListeners)
			}
		}
		return false
	}, 20*time.Second, 100*time.Millisecond, "the stand-in reports that no listener admits the former owner's route any more")
	// The stand-in stores the ALB's rules just after it writes the routes' status.
	assert.Eventually(t, func() bool {
		got, ok := env.StandIn.Resolve(gw.Namespace, gw.Name, h, "/written")
		return !ok || got.Namespace != teamA
	}, 10*time.Second, 50*time.Millisecond, "the ALB sends nothing of the hostname to the former owner")

	c, err := getClaim(h)
	require.NoError(t, err)
	at := c.Annotations[v1alpha1.AnnotationTransferredAt]
	require.NotEmpty(t, at, "admission records when the claim was transferred")
	err = k8s.Create(ctx, servingRoute(teamA, "again", "/", h), client.DryRunAll)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `is claimed by namespace "`+teamB+`" (DomainClaim `+c.Name+`, since `+at+`)`,
		"the denial names the new owner and the time of the transfer")
}

// stripDefaults drops the group and kind the API server defaults on parentRefs.
func stripDefaults(refs []gwv1.ParentReference) []gwv1.ParentReference {
	out := make([]gwv1.ParentReference, 0, len(refs))
	for _, r := range refs {
		r.Group, r.Kind = nil, nil
		out = append(out, r)
	}
	return out
}

// TestARouteListingATransferredHostnameIsToldWhyItIsNotReattached moves the Gateway of a route
// that still lists a hostname transferred away: the route leaves the deleted Gateway, and since
// admission refuses the route as it stands, it is told why it is not attached to the new one.
func TestARouteListingATransferredHostnameIsToldWhyItIsNotReattached(t *testing.T) {
	ctx := context.Background()
	z, _ := servedZone(t)
	teamA, teamB := tenant(t), tenant(t)
	kept, gone := "kept."+z.Spec.Domain, "gone."+z.Spec.Domain
	r := servingRoute(teamA, "app", "/", kept, gone)
	require.NoError(t, k8s.Create(ctx, r))
	old := *ready(t, kept, 60*time.Second).Status.Gateway
	require.Equal(t, old, *ready(t, gone, 60*time.Second).Status.Gateway)
	require.NoError(t, retry.RetryOnConflict(retry.DefaultRetry, func() error {
		c, err := getClaim(gone)
		if err != nil {
			return err
		}
		c.Spec.Namespace = teamB
		return k8s.Update(ctx, c)
	}))

	env.StandIn.HoldDeletion(old.Namespace, old.Name)
	defer env.StandIn.ReleaseDeletion(old.Namespace, old.Name)
	require.NoError(t, k8s.Delete(ctx, &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: old.Namespace, Name: old.Name}}))
	var moved v1alpha1.ObjectRef
	require.Eventually(t, func() bool {
		c, err := getClaim(kept)
		if err != nil {
			return false
		}
		if c.Status.Gateway == nil || *c.Status.Gateway == old || !meta.IsStatusConditionTrue(c.Status.Conditions, v1alpha1.ConditionGatewayAssigned) {
			return false
		}
		moved = *c.Status.Gateway
		return true
	}, 90*time.Second, 100*time.Millisecond, "the owned hostname is seated on another Gateway")

	require.EventuallyWithT(t, func(c *assert.CollectT) {
		refs, _ := parentsOf(c, r)
		assert.False(c, v1alpha1.HasParent(teamA, refs, old))
	}, 20*time.Second, 100*time.Millisecond, "the route leaves the deleted Gateway")
	require.EventuallyWithT(t, func(c *assert.CollectT) { assert.NotEmpty(c, routeEvent(c, r, v1alpha1.EventAttachDenied)) },
		20*time.Second, 100*time.Millisecond, "the route is told why it is not attached to the new Gateway")
	note := routeEvent(t, r, v1alpha1.EventAttachDenied)
	assert.Contains(t, note, "Gateway "+moved.Namespace+"/"+moved.Name)
	assert.Contains(t, note, `hostname "`+gone+`" is claimed by namespace "`+teamB+`"`)
	refs, _ := parentsOf(t, r)
	assert.False(t, v1alpha1.HasParent(teamA, refs, moved), "admission keeps the route off the new Gateway until its owner removes the hostname")
}
